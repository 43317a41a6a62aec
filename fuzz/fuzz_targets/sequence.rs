//! Sequence mode of the `engine` target (issue 11): the same input read as a
//! program of public calls on two caller-owned `ws_info`s (never zeroed,
//! garbage in every field the contract does not ask the caller to set),
//! interleaved with the port's events and with callers that rewrite
//! `connectionState` between calls (to 0 as the original Lua module does
//! before `ws_connect`, to 4, or to anything). Callbacks run further
//! operations from the same program (re-entrant calls, e.g. `ws_close` then
//! `ws_connect` from `onConnection`, `ws_connect` from the final callback).
//!
//! The port fakes model each `ws_info`'s connection from the port's side:
//! live from `ws_port_resolve` to `ws_port_close`. Checked: never two live
//! connections on one `ws_info` (a resolve while one is live); no port call
//! for a `ws_info` without a live connection (besides its resolve); a
//! refused `ws_connect` (one on a live connection) calls nothing back, calls
//! no port function and leaves `connectionState` 1..=3; the final callback
//! comes after `ws_port_close`, with state 4 and no engine, exactly once per
//! connection unless `ws_release` ended it; events for a `ws_info` without a
//! connection change nothing; no engine memory is left once both are released.
//!
//! The `unsafe` entry-point calls pass the two boxed `ws_info`s (alive and
//! never moved during the run), C literals, and buffers with their lengths.

use std::cell::RefCell;
use std::ffi::{c_char, c_int};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use super::{accept_for, engine, request_key, Count, LIVE_BLOCKS, LIVE_BYTES};
use websocket::capi::{self, ws_info, ws_options};
use websocket::testkit;
use websocket_fuzz::encode_frame;

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// True while a sequence runs: the port fakes forward here.
pub fn active() -> bool {
    ACTIVE.load(Relaxed)
}

/// The port's view of one `ws_info`.
#[derive(Default)]
struct Conn {
    /// Between `ws_port_resolve` and `ws_port_close`.
    live: bool,
    /// `ws_port_resolve` answered PENDING: `ws_event_resolved` is due.
    resolve_due: bool,
    /// `ws_port_connect` called: `ws_event_connected` may follow.
    connecting: bool,
    connected: bool,
    sent_due: usize,
    /// What the library sent on the live connection.
    out: Vec<u8>,
    /// A connection reached the port and has not had its final callback
    /// (nor been released).
    awaiting_final: bool,
}

#[derive(Default)]
struct Seq {
    program: Vec<u8>,
    at: usize,
    ws: [usize; 2],
    conns: [Conn; 2],
    depth: usize,
    random: u32,
    /// Final callbacks seen, per ws_info.
    finals: [usize; 2],
    problems: Vec<String>,
}

thread_local! {
    static SQ: RefCell<Seq> = RefCell::new(Seq::default());
}

fn sq<R>(f: impl FnOnce(&mut Seq) -> R) -> R {
    SQ.with(|s| f(&mut s.borrow_mut()))
}

fn next_byte() -> Option<u8> {
    sq(|s| {
        let b = s.program.get(s.at).copied();
        s.at += 1;
        b
    })
}

fn index(ws: *mut ws_info) -> Option<usize> {
    sq(|s| s.ws.iter().position(|&w| w == ws as usize))
}

fn problem(what: String) {
    sq(|s| s.problems.push(what));
}

/// A port call other than resolve: only for a live connection.
fn port_call(ws: *mut ws_info, name: &str) -> Option<usize> {
    let i = index(ws);
    match i {
        Some(i) if sq(|s| s.conns[i].live) => Some(i),
        _ => {
            problem(format!(
                "ws_port_{name} without a live connection on ws {i:?}"
            ));
            None
        }
    }
}

// ---------------------------------------------------------------- the port

pub fn resolve(ws: *mut ws_info) -> c_int {
    let _c = Count::set(false);
    let Some(i) = index(ws) else {
        problem("ws_port_resolve for an unknown ws_info".into());
        return -1;
    };
    let pending = next_byte().unwrap_or(0) & 1 != 0;
    sq(|s| {
        let c = &mut s.conns[i];
        if c.live {
            s.problems
                .push(format!("two live connections on ws_info {i}"));
        }
        if c.awaiting_final {
            s.problems.push(format!(
                "ws {i}: a connection ended without its final callback"
            ));
        }
        *c = Conn {
            live: true,
            resolve_due: pending,
            awaiting_final: true,
            ..Conn::default()
        };
    });
    if pending {
        capi::WS_PORT_PENDING
    } else {
        capi::WS_PORT_DONE
    }
}

pub fn connect(ws: *mut ws_info) -> c_int {
    let _c = Count::set(false);
    if let Some(i) = port_call(ws, "connect") {
        sq(|s| s.conns[i].connecting = true);
    }
    0
}

pub fn send(ws: *mut ws_info, data: &[u8]) -> c_int {
    let _c = Count::set(false);
    if let Some(i) = port_call(ws, "send") {
        sq(|s| {
            let c = &mut s.conns[i];
            c.out.extend_from_slice(data);
            c.sent_due += 1;
        });
    }
    0
}

pub fn close(ws: *mut ws_info) {
    let _c = Count::set(false);
    if let Some(i) = port_call(ws, "close") {
        sq(|s| {
            let c = &mut s.conns[i];
            c.live = false;
            c.resolve_due = false;
            c.connecting = false;
            c.connected = false;
            c.sent_due = 0;
        });
    }
}

pub fn timer(ws: *mut ws_info) {
    let _c = Count::set(false);
    port_call(ws, "timer");
}

pub fn random(buf: &mut [u8]) {
    sq(|s| {
        for b in buf {
            s.random = s.random.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *b = (s.random >> 16) as u8;
        }
    });
}

// ----------------------------------------------------------- the callbacks

/// Runs up to two operations of the program from inside a callback.
fn nested(ws: *mut ws_info) {
    let go = sq(|s| {
        if s.depth >= 3 {
            false
        } else {
            s.depth += 1;
            true
        }
    });
    if !go {
        return;
    }
    let me = index(ws).unwrap_or(0);
    for _ in 0..2 {
        let Some(b) = next_byte() else { break };
        // Mostly the ws_info the callback is about.
        let target = if b & 0x80 != 0 { 1 - me } else { me };
        step(target, b & 0x7f);
    }
    sq(|s| s.depth -= 1);
}

unsafe extern "C" fn on_connection(ws: *mut ws_info) {
    let _c = Count::set(false);
    // SAFETY: the library passes the caller's live ws_info.
    let state = unsafe { (*ws).connectionState };
    if state != 3 {
        problem(format!("onConnection in state {state}"));
    }
    nested(ws);
}

unsafe extern "C" fn on_receive(ws: *mut ws_info, len: c_int, msg: *mut c_char, _op: c_int) {
    let _c = Count::set(false);
    // SAFETY: the library passes `len` bytes plus a NUL.
    let nul = unsafe { *msg.add(usize::try_from(len).unwrap_or(0)) };
    if nul != 0 {
        problem("message not NUL-terminated".into());
    }
    nested(ws);
}

fn on_final(ws: *mut ws_info) {
    let _c = Count::set(false);
    let Some(i) = index(ws) else { return };
    // SAFETY: the library passes the caller's ws_info.
    let (state, eng) = unsafe { ((*ws).connectionState, (*ws).engine) };
    sq(|s| {
        s.finals[i] += 1;
        let c = &mut s.conns[i];
        if c.live {
            s.problems
                .push(format!("ws {i}: final callback before ws_port_close"));
        }
        c.awaiting_final = false;
        if state != 4 || !eng.is_null() {
            s.problems.push(format!(
                "ws {i}: final callback in state {state}, engine set {}",
                !eng.is_null()
            ));
        }
    });
    nested(ws);
}

unsafe extern "C" fn on_failure(ws: *mut ws_info, _status: c_int) {
    on_final(ws);
}

unsafe extern "C" fn on_close(
    ws: *mut ws_info,
    _status: c_int,
    _code: c_int,
    _reason: *const c_char,
    _len: c_int,
) {
    on_final(ws);
}

// ----------------------------------------------------------- the program

const URL: &std::ffi::CStr = c"ws://127.0.0.1:9001/";

fn feed(ws: *mut ws_info, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    // Allocated outside the counted library call.
    let mut scratch = Vec::with_capacity(bytes.len());
    engine(|| unsafe { testkit::feed_segment(ws, bytes, &mut scratch) });
}

/// One operation `op` (0..128) on ws_info `i`.
fn step(i: usize, op: u8) {
    let ws = sq(|s| s.ws[i]) as *mut ws_info;
    let (live, resolve_due, connecting, connected, sent_due) = sq(|s| {
        let c = &s.conns[i];
        (c.live, c.resolve_due, c.connecting, c.connected, c.sent_due)
    });
    match op % 20 {
        // Starting a connection: refused while one is live.
        0..=2 => {
            let finals = sq(|s| s.finals[i]);
            let full = op % 20 == 2;
            let mut o: ws_options = unsafe_zeroed_options();
            unsafe { capi::ws_options_init(&mut o) };
            if op & 0x20 != 0 {
                o.onClose = Some(on_close);
            }
            let url = if op % 20 == 1 { c"ws://:80/" } else { URL };
            engine(|| {
                if full {
                    unsafe { capi::ws_connect_with(ws, url.as_ptr(), &o) }
                } else {
                    unsafe { capi::ws_connect(ws, url.as_ptr()) }
                }
            });
            if live {
                // Refused (unless a callback of the live connection ended
                // it meanwhile, which a refused call cannot cause).
                // SAFETY: the harness's own ws_info.
                let state = unsafe { (*ws).connectionState };
                let (f, still) = sq(|s| (s.finals[i], s.conns[i].live));
                if f != finals || !still || !(1..=3).contains(&state) {
                    problem(format!(
                        "ws {i}: ws_connect on a live connection not refused \
                         (finals {finals} -> {f}, live {still}, state {state})"
                    ));
                }
            }
        }
        // The caller rewrites connectionState.
        3 | 4 => {
            let v = match next_byte().unwrap_or(0) % 6 {
                0 | 1 => 0,
                2 => 4,
                3 => 3,
                4 => 1,
                _ => -0x5a5a,
            };
            // SAFETY: the harness's own ws_info.
            unsafe { (*ws).connectionState = v };
        }
        5 if resolve_due => {
            sq(|s| s.conns[i].resolve_due = false);
            let ok = next_byte().unwrap_or(1) & 3 != 0;
            engine(|| unsafe { capi::ws_event_resolved(ws, c_int::from(ok)) });
        }
        6 if connecting && !connected => {
            sq(|s| s.conns[i].connected = true);
            engine(|| unsafe { capi::ws_event_connected(ws) });
        }
        7 if connected => {
            let resp = sq(|s| request_key(&s.conns[i].out)).map(|(key, _)| {
                format!(
                    "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
                     Connection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
                    accept_for(&key)
                )
            });
            if let Some(r) = resp {
                feed(ws, r.as_bytes());
            }
        }
        8 if connected => {
            let frame = match next_byte().unwrap_or(0) % 5 {
                0 => encode_frame(true, 1, None, b"hello"),
                1 => encode_frame(true, 9, None, b"p"),
                2 => encode_frame(true, 8, None, &1000u16.to_be_bytes()),
                3 => encode_frame(true, 2, None, &[0, 1, 2]),
                _ => {
                    let n = usize::from(next_byte().unwrap_or(0) % 16);
                    (0..n).filter_map(|_| next_byte()).collect()
                }
            };
            feed(ws, &frame);
        }
        9 if sent_due > 0 => {
            // One owed event (not necessarily all of them).
            let mut once = true;
            let take = || {
                let due = std::mem::take(&mut once);
                sq(|s| s.conns[i].sent_due -= usize::from(due));
                due
            };
            engine(|| unsafe { testkit::deliver_sent(ws, 1, take) }).ok();
        }
        10 if connecting => {
            let err = match next_byte().unwrap_or(0) % 3 {
                0 => 0,
                1 => -9,
                _ => -11,
            };
            engine(|| unsafe { capi::ws_event_disconnected(ws, err) });
        }
        11 if live => engine(|| unsafe { capi::ws_event_timer(ws) }),
        12 => {
            engine(|| unsafe { capi::ws_send(ws, 1, c"x".as_ptr(), 1) });
        }
        13 => engine(|| unsafe { capi::ws_close(ws) }),
        14 => engine(|| unsafe { capi::ws_close_with(ws, 4000, c"r".as_ptr(), 1) }),
        15 => {
            let was = live;
            engine(|| unsafe { capi::ws_release(ws) });
            if was {
                sq(|s| s.conns[i].awaiting_final = false);
            }
            if sq(|s| s.conns[i].live) {
                problem(format!("ws {i}: ws_release left the port open"));
            }
        }
        16 => {
            engine(|| unsafe { capi::ws_protocol(ws) });
        }
        // Stray events for a ws_info without a connection change nothing.
        17..=19 if !live => {
            // SAFETY: the harness's own ws_info.
            let before = unsafe { (*ws).connectionState };
            let finals = sq(|s| s.finals[i]);
            match op % 20 {
                17 => engine(|| unsafe { capi::ws_event_timer(ws) }),
                18 => engine(|| unsafe { capi::ws_event_sent(ws) }),
                _ => feed(ws, &encode_frame(true, 1, None, b"stray")),
            }
            // SAFETY: as above.
            let after = unsafe { (*ws).connectionState };
            if after != before || sq(|s| s.finals[i]) != finals {
                problem(format!("ws {i}: a stray event changed something"));
            }
        }
        _ => {}
    }
}

fn unsafe_zeroed_options() -> ws_options {
    // SAFETY: ws_options holds integers, raw pointers and Option<fn>, for
    // which all-zero bytes are valid (0, NULL, None).
    unsafe { std::mem::zeroed() }
}

/// A ws_info as a C caller makes it: garbage except the documented fields.
fn garbage_ws_info(fill: u8) -> Box<ws_info> {
    // SAFETY: every field is a plain integer, pointer or Option<fn>; the
    // garbage in `engine`/`port` must never be dereferenced by the library,
    // and the callbacks are set right after.
    Box::new(unsafe {
        let mut m = std::mem::MaybeUninit::<ws_info>::uninit();
        std::ptr::write_bytes(
            m.as_mut_ptr() as *mut u8,
            fill,
            std::mem::size_of::<ws_info>(),
        );
        let p = m.as_mut_ptr();
        (*p).connectionState = 0;
        (*p).extraHeaders = std::ptr::null_mut();
        (*p).reservedData = std::ptr::null_mut();
        (*p).onConnection = Some(on_connection);
        (*p).onReceive = Some(on_receive);
        (*p).onFailure = Some(on_failure);
        m.assume_init()
    })
}

/// Runs `data` as a program (see the module documentation).
pub fn run(data: &[u8]) {
    let mut a = garbage_ws_info(0xA5);
    let mut b = garbage_ws_info(0x5A);
    // A never-used ws_info may hold any state: the first byte picks one
    // for the second ws_info (the contract asks for 0, a caller may not).
    if data.first().is_some_and(|&f| f & 1 != 0) {
        b.connectionState = 3;
    }
    let pa: *mut ws_info = &mut *a;
    let pb: *mut ws_info = &mut *b;
    sq(|s| {
        *s = Seq {
            program: data.to_vec(),
            ws: [pa as usize, pb as usize],
            random: 0x1234_5678,
            ..Seq::default()
        }
    });
    LIVE_BLOCKS.store(0, Relaxed);
    LIVE_BYTES.store(0, Relaxed);
    ACTIVE.store(true, Relaxed);
    let mut steps = 0;
    while let Some(op) = next_byte() {
        steps += 1;
        if steps > 2000 {
            break;
        }
        step(usize::from(op >> 7), op & 0x7f);
    }
    for w in [pa, pb] {
        let was = index(w).is_some_and(|i| sq(|s| s.conns[i].live));
        engine(|| unsafe { capi::ws_release(w) });
        if was {
            let i = index(w).unwrap_or(0);
            sq(|s| s.conns[i].awaiting_final = false);
        }
    }
    ACTIVE.store(false, Relaxed);
    let problems = sq(|s| std::mem::take(&mut s.problems));
    assert!(problems.is_empty(), "sequence problems: {problems:#?}");
    sq(|s| {
        for (i, c) in s.conns.iter().enumerate() {
            assert!(!c.live, "ws {i}: port still open after ws_release");
            assert!(!c.awaiting_final, "ws {i}: connection without its end");
        }
    });
    assert_eq!(LIVE_BLOCKS.load(Relaxed), 0, "engine blocks leaked");
    assert_eq!(LIVE_BYTES.load(Relaxed), 0, "engine bytes leaked");
    drop((a, b));
}
