//! Heap figures of every engine for every workload, measured with a counting
//! global allocator, and the checks libwebsocket must pass:
//!   * a message arriving within one segment costs 0 allocations;
//!   * a 64 KiB message peaks at most its size + 1 + SLACK bytes above idle
//!     (joined fragments: size * 3/2 + 1 + SLACK, the engine's growth rule);
//!   * an open, idle connection holds < IDLE_LIMIT bytes of heap (ws_info is
//!     the caller's and not counted) -- a 32-bit figure (docs/DESIGN.md), so it
//!     is checked by `make bench-heap32`; this 64-bit host figure is printed.
//!
//! Exits non-zero when a check fails.

use std::process::ExitCode;

use wsbench::counting::{self, Counting};
use wsbench::ours::Client;
use wsbench::peers::{Embedded, Tung};
use wsbench::workloads::{self, push_header, BIG_SIZE, SEGMENT, SMALL_SIZE};

#[global_allocator]
static ALLOC: Counting = Counting;

/// Allowed heap above a message's own size (+1 for its NUL) while it is assembled.
const SLACK: usize = 64;
/// Allowed heap of an open idle connection on 32-bit (checked by heap32.sh).
const IDLE_LIMIT: isize = 200;

struct Figure {
    allocs: usize,
    peak_above_idle: usize,
}

fn measure(f: impl FnOnce()) -> Figure {
    counting::reset_peak();
    let s0 = counting::snapshot();
    f();
    let s1 = counting::snapshot();
    Figure {
        allocs: s1.allocs - s0.allocs,
        peak_above_idle: s1.peak.saturating_sub(s0.live),
    }
}

/// Segments that each hold whole frames only (text and binary, 16..1400 bytes).
fn whole_frame_segments() -> (Vec<Vec<u8>>, u64) {
    let mut segs = Vec::new();
    let mut messages = 0;
    for (size, op) in [
        (16usize, 1u8),
        (100, 2),
        (125, 1),
        (126, 2),
        (700, 2),
        (1400, 1),
    ] {
        for _ in 0..50 {
            let mut seg = Vec::new();
            loop {
                let mut frame = Vec::new();
                push_header(&mut frame, true, op, size);
                frame.extend((0..size).map(|i| b'a' + (i % 26) as u8));
                if seg.len() + frame.len() > SEGMENT {
                    break;
                }
                seg.extend_from_slice(&frame);
                messages += 1;
            }
            segs.push(seg);
        }
    }
    (segs, messages)
}

fn main() -> ExitCode {
    let mut failures = Vec::<String>::new();
    let mut check = |ok: bool, what: String| {
        println!("heap check {}: {what}", if ok { "PASS" } else { "FAIL" });
        if !ok {
            failures.push(what);
        }
    };

    // Idle connections.
    let ours = match Client::open() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("heap: libwebsocket did not open: {e:?}");
            return ExitCode::FAILURE;
        }
    };
    let idle = ours.idle_heap();
    drop(ours);
    let before = counting::snapshot().live;
    let tung = Tung::open();
    let tung_idle = counting::snapshot().live - before;
    drop(tung);
    println!("heap idle-open tungstenite={tung_idle} B embedded-websocket=0 B (caller buffers: {} B rx + message/send buffers)", 2 * SEGMENT);
    println!(
        "heap idle-open ours: {idle} B on this 64-bit host (the < {IDLE_LIMIT} B budget is for 32-bit: make bench-heap32)"
    );

    // Whole frames inside one segment: zero allocations.
    let (segs, n) = whole_frame_segments();
    let mut ours = Client::open().expect("open");
    let fig = measure(|| {
        for s in &segs {
            ours.feed_segment(s);
        }
    });
    let ok = ours.messages() == n && ours.failure().is_none();
    check(
        ok && fig.allocs == 0,
        format!(
            "{n} messages each within one segment: {} allocations, delivered {}",
            fig.allocs,
            ours.messages()
        ),
    );
    drop(ours);

    println!(
        "{:<18} {:<19} {:>10} {:>14} {:>18}",
        "workload", "engine", "allocs", "allocs/msg", "peak above idle B"
    );
    for w in workloads::all() {
        let msgs = w.messages as u64;
        let bytes = w.payload_bytes as u64;

        let mut ours = Client::open().expect("open");
        let fig = measure(|| ours.feed(&w.stream));
        let delivered = ours.expect(msgs, bytes);
        print_row(w.name, "ours", &fig, msgs);
        check(delivered.is_ok(), format!("{}: {:?}", w.name, delivered));
        if w.messages == 1 {
            // One frame: one exact buffer. Joined fragments: the total is not
            // known in advance and the engine grows by half again (at most
            // 50 % slack, to keep reassembly linear -- docs/contract.md#defect-quadratic-receive).
            let fragmented = w.name.contains("frag");
            let bound = if fragmented {
                w.payload_bytes * 3 / 2 + 1 + SLACK
            } else {
                w.payload_bytes + 1 + SLACK
            };
            let rule = if fragmented { "size*3/2" } else { "size" };
            check(
                fig.peak_above_idle <= bound,
                format!(
                    "{}: peak {} B above idle (<= {rule}+1+{SLACK} = {bound})",
                    w.name, fig.peak_above_idle
                ),
            );
        } else {
            let frame_len = SMALL_SIZE + 2;
            let straddle = workloads::straddling(w.messages, frame_len);
            check(
                fig.allocs <= straddle,
                format!(
                    "{}: {} allocations for {} messages, {} of which straddle a segment boundary (allowed: {straddle})",
                    w.name, fig.allocs, w.messages, straddle
                ),
            );
            check(
                fig.peak_above_idle <= SMALL_SIZE + 1 + SLACK,
                format!(
                    "{}: peak {} B above idle (<= {})",
                    w.name,
                    fig.peak_above_idle,
                    SMALL_SIZE + 1 + SLACK
                ),
            );
        }
        drop(ours);

        let stream: &'static [u8] = Box::leak(w.stream.clone().into_boxed_slice());
        let mut tung = Tung::open();
        let mut got = Ok(0);
        let fig = measure(|| got = tung.receive(stream, w.messages));
        print_row(w.name, "tungstenite", &fig, msgs);
        if got != Ok(bytes) {
            println!("  tungstenite delivered {got:?}, expected {bytes} bytes");
        }
        drop(tung);

        let mut emb = Embedded::open(BIG_SIZE);
        let mut got = Ok((0, 0));
        let fig = measure(|| got = emb.receive(&w.stream));
        if got == Ok((msgs, bytes)) {
            print_row(w.name, "embedded-websocket", &fig, msgs);
        } else {
            println!(
                "{:<18} {:<19} failed: {got:?}",
                w.name, "embedded-websocket"
            );
        }
    }

    if failures.is_empty() {
        println!("heap: all checks passed");
        ExitCode::SUCCESS
    } else {
        println!("heap: {} check(s) failed", failures.len());
        ExitCode::FAILURE
    }
}

fn print_row(name: &str, engine: &str, f: &Figure, msgs: u64) {
    println!(
        "{:<18} {:<19} {:>10} {:>14.4} {:>18}",
        name,
        engine,
        f.allocs,
        f.allocs as f64 / msgs as f64,
        f.peak_above_idle
    );
}
