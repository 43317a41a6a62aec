//! The whole engine through the C API (`ws_*` of the rlib built with feature
//! `std`), with the port (`ws_port_*`) faked here.  Each input drives one
//! connection: URL, resolve, TCP connect, the opening handshake answered with
//! the accept computed (independently) from the key the engine sent, then the
//! fuzzer's server stream in fuzzer-chosen segments, then an orderly end.
//!
//! Input: byte 0 = flags, byte 1 = re-entrancy mode (bits 6-7) and the
//! allocation number to fail (bits 0-5, 0 = none), then the split header and
//! the server stream (see `split_input`).
//! Flags: bits 0-1 max_message (1 MiB, 64, 1000, 70000); bit 2 busy port
//! (refuses a send while one is in flight); bit 3 user `ws_close` after the
//! middle segment; bit 4 timer expiry after each segment; bit 5 onReceive
//! echoes the message with `ws_send`; bit 6 the 101 response shares the
//! segments with the stream; bit 7 asynchronous name resolution.
//! Re-entrancy (byte 1): bit 7 `ws_release` from the first onReceive (then
//! no onFailure at all); bit 6 `ws_connect` with an empty host from within
//! onFailure (a second, immediate onFailure -4 must follow, nested).
//!
//! Checked: no panic; exactly one onFailure, with `connectionState` 4, no
//! engine and no engine memory left; no callback after it; port contract
//! (first call resolve, last call close, BUSY only while a send is due,
//! `ws->port` untouched); every message delivered NUL-terminated; every frame
//! the client sent is masked and well formed; the engine's live heap bounded;
//! and, per a reference decode of the stream (fuzz/src/lib.rs): the messages
//! delivered, the final status, the pongs and the close frame sent.
//!
//! Then the same input runs again as a program of public calls on two
//! `ws_info`s whose callers rewrite `connectionState` between calls
//! (`sequence.rs`): never two live connections on one `ws_info`, and the
//! reconnection of connections started with `reconnect_initial_ms`. The
//! `sequence` target (`sequence_main.rs`) runs that program alone.
#![no_main]

mod sequence;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use websocket::capi::{self, header_t, ws_info, ws_options};
use websocket::status::{self, Status};
use websocket::testkit;
use websocket_fuzz::{
    close_code_valid, encode_frame, offered_protocols, ref_decode, ref_frames, ref_request,
    segments, split_input, unmask, utf8_valid_prefix, RefEnd, RefEvent, RefTail,
};

// ---------------------------------------------------------------------------
// Counting allocator: counts the blocks and bytes allocated while the engine
// runs (inside ws_* calls, outside the harness's own callbacks and port fakes).
// ---------------------------------------------------------------------------

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static PEAK_BYTES: AtomicIsize = AtomicIsize::new(0);

fn note_bytes(delta: isize) {
    let now = LIVE_BYTES.fetch_add(delta, Relaxed) + delta;
    PEAK_BYTES.fetch_max(now, Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged; the counters have no effect on the memory handed out.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        // SAFETY: same contract as ours.
        let p = unsafe { System.alloc(l) };
        if !p.is_null() && COUNTING.load(Relaxed) {
            LIVE_BLOCKS.fetch_add(1, Relaxed);
            note_bytes(l.size() as isize);
        }
        p
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        if COUNTING.load(Relaxed) {
            LIVE_BLOCKS.fetch_sub(1, Relaxed);
            note_bytes(-(l.size() as isize));
        }
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, new: usize) -> *mut u8 {
        // SAFETY: same contract as ours.
        let q = unsafe { System.realloc(p, l, new) };
        if !q.is_null() && COUNTING.load(Relaxed) {
            note_bytes(new as isize - l.size() as isize);
        }
        q
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Sets the counting flag for a scope and restores it afterwards.
struct Count(bool);
impl Count {
    fn set(on: bool) -> Count {
        Count(COUNTING.swap(on, Relaxed))
    }
}
impl Drop for Count {
    fn drop(&mut self) {
        COUNTING.store(self.0, Relaxed);
    }
}

/// Calls into the library with allocation counting on. The entry points
/// are `unsafe`; every call here passes the harness's own boxed `ws_info`
/// (alive for the whole run, never moved), C literals or buffers whose
/// lengths are passed with them, and options filled by `ws_options_init`.
fn engine<R>(f: impl FnOnce() -> R) -> R {
    let _c = Count::set(true);
    f()
}

// ---------------------------------------------------------------------------
// Harness state shared by the port fakes and the callbacks.
// ---------------------------------------------------------------------------

/// What the port saw of one connection.
#[derive(Default)]
struct Port {
    calls: usize,
    resolve_calls: usize,
    connect_calls: usize,
    closed: bool,
    after_close: Vec<&'static str>,
    timer: Option<u32>,
    sent_due: usize,
    out: Vec<u8>,
}

/// One final callback (onFailure, or onClose with the close frame's data).
#[derive(Clone, Debug, PartialEq)]
struct Final {
    conn: usize,
    status: Status,
    /// Through onClose: (code, reason or None for NULL, reason_len).
    close: Option<(i32, Option<Vec<u8>>, i32)>,
}

#[derive(Default)]
struct State {
    // options chosen by the input
    busy_mode: bool,
    echo: bool,
    resolve_async: bool,
    use_on_close: bool,
    // port: the current connection, and the first one once a second started
    port: Port,
    first_port: Option<Port>,
    /// 0 = the fuzzed connection, 1 = the one started from its final callback.
    conn: usize,
    random: u32,
    port_cookie: usize,
    /// What `ws->port` must hold: NULL from each `ws_connect` (the library
    /// clears it for the port), then what `ws_port_resolve` set.
    port_set: usize,
    // callbacks
    opened: [usize; 2],
    finals: Vec<Final>,
    after_final: Vec<&'static str>,
    received: Vec<(usize, u8, Vec<u8>)>,
    /// onFragment pieces: (connection, opcode, bytes, fin).
    pieces: Vec<(usize, u8, Vec<u8>, bool)>,
    /// The protocol `ws_protocol` must return while the connection is open.
    want_proto: Option<Vec<u8>>,
    /// Inside onReceive (an echo `ws_send` may end the connection there).
    in_receive: bool,
    release_in_receive: bool,
    released: bool,
    reconnect_in_failure: bool,
    /// `ws_connect_with` these options (address) from the first final callback.
    reconnect_full: usize,
    /// Engine blocks alive when the outer final callback started.
    outer_live: isize,
    problems: Vec<String>,
}

thread_local! {
    static ST: RefCell<State> = RefCell::new(State::default());
}

fn st<R>(f: impl FnOnce(&mut State) -> R) -> R {
    ST.with(|s| f(&mut s.borrow_mut()))
}

fn port_call(name: &'static str) {
    st(|s| {
        s.port.calls += 1;
        if s.port.closed {
            s.port.after_close.push(name);
        }
    });
}

// ---------------------------------------------------------------------------
// The port (implemented by the platform; here fakes recording everything).
// ---------------------------------------------------------------------------

#[no_mangle]
pub extern "C" fn ws_port_resolve(ws: *mut ws_info, host: *const c_char) -> c_int {
    if sequence::active() {
        return sequence::resolve(ws, host);
    }
    let _c = Count::set(false);
    let first = st(|s| s.port.calls == 0);
    port_call("resolve");
    // SAFETY: the library passes a NUL-terminated host name valid for the call.
    let h = unsafe { CStr::from_ptr(host) }.to_bytes().to_vec();
    let cookie = st(|s| s.port_cookie);
    // SAFETY: `ws` is the caller's live ws_info; `port` belongs to the port.
    unsafe { (*ws).port = cookie as *mut c_void };
    st(|s| {
        s.port_set = cookie;
        s.port.resolve_calls += 1;
        if !first {
            s.problems
                .push("ws_port_resolve is not the first port call".into());
        }
        if h != b"127.0.0.1" {
            s.problems.push(format!(
                "resolve asked for {:?}",
                String::from_utf8_lossy(&h)
            ));
        }
        if s.resolve_async {
            capi::WS_PORT_PENDING
        } else {
            capi::WS_PORT_DONE
        }
    })
}

#[no_mangle]
pub extern "C" fn ws_port_connect(_ws: *mut ws_info, port: u16, secure: c_int) -> c_int {
    if sequence::active() {
        return sequence::connect(_ws);
    }
    let _c = Count::set(false);
    port_call("connect");
    st(|s| {
        s.port.connect_calls += 1;
        if port != 9001 || secure != 0 {
            s.problems
                .push(format!("connect to port {port} secure {secure}"));
        }
    });
    0
}

#[no_mangle]
pub extern "C" fn ws_port_send(_ws: *mut ws_info, data: *const u8, len: u16) -> c_int {
    let _c = Count::set(false);
    // SAFETY: the library passes `len` readable bytes at `data` for the call.
    let bytes = unsafe { std::slice::from_raw_parts(data, usize::from(len)) };
    if sequence::active() {
        return sequence::send(_ws, bytes);
    }
    port_call("send");
    st(|s| {
        if len == 0 {
            s.problems.push("ws_port_send with 0 bytes".into());
        }
        if s.busy_mode && s.port.sent_due > 0 {
            return capi::WS_PORT_BUSY;
        }
        s.port.out.extend_from_slice(bytes);
        s.port.sent_due += 1;
        trace(format_args!(
            "port send {:02x?}",
            &bytes[..bytes.len().min(40)]
        ));
        0
    })
}

#[no_mangle]
pub extern "C" fn ws_port_close(_ws: *mut ws_info) {
    if sequence::active() {
        return sequence::close(_ws);
    }
    let _c = Count::set(false);
    port_call("close");
    st(|s| {
        s.port.closed = true;
        s.port.timer = None;
        s.port.sent_due = 0;
    });
}

#[no_mangle]
pub extern "C" fn ws_port_timer_arm(_ws: *mut ws_info, ms: u32) {
    if sequence::active() {
        return sequence::timer_arm(_ws, ms);
    }
    let _c = Count::set(false);
    port_call("timer_arm");
    trace(format_args!("timer arm {ms}"));
    st(|s| s.port.timer = Some(ms));
}

#[no_mangle]
pub extern "C" fn ws_port_timer_disarm(_ws: *mut ws_info) {
    if sequence::active() {
        return sequence::timer_disarm(_ws);
    }
    let _c = Count::set(false);
    port_call("timer_disarm");
    st(|s| s.port.timer = None);
}

#[no_mangle]
pub extern "C" fn ws_port_random(buf: *mut u8, len: usize) {
    let _c = Count::set(false);
    // SAFETY: the library passes `len` writable bytes at `buf`.
    let out = unsafe { std::slice::from_raw_parts_mut(buf, len) };
    if sequence::active() {
        return sequence::random(out);
    }
    st(|s| {
        for b in out {
            s.random = s.random.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *b = (s.random >> 16) as u8;
        }
    });
}

#[no_mangle]
pub extern "C" fn ws_port_sha1(data: *const u8, len: usize, digest: *mut u8) {
    let _c = Count::set(false);
    // SAFETY: the library passes `len` readable bytes at `data` and 20
    // writable ones at `digest`.
    let (input, out) = unsafe {
        (
            std::slice::from_raw_parts(data, len),
            std::slice::from_raw_parts_mut(digest, 20),
        )
    };
    out.copy_from_slice(&sha1_smol::Sha1::from(input).digest().bytes());
}

// ---------------------------------------------------------------------------
// Callbacks.
// ---------------------------------------------------------------------------

fn callback_seen(name: &'static str) {
    st(|s| {
        let conn = s.conn;
        if s.finals.iter().any(|f| f.conn == conn) {
            s.after_final.push(name);
        }
    });
}

/// `ws_protocol` must give the server's choice while the connection is open.
fn check_protocol(ws: *mut ws_info, at: &str) {
    let p = engine(|| unsafe { capi::ws_protocol(ws) });
    let got = if p.is_null() {
        None
    } else {
        // SAFETY: a non-NULL result is a NUL-terminated string alive while
        // the connection lasts (we are inside it).
        Some(unsafe { CStr::from_ptr(p) }.to_bytes().to_vec())
    };
    st(|s| {
        if got != s.want_proto {
            s.problems.push(format!(
                "{at}: ws_protocol {:?}, want {:?}",
                got, s.want_proto
            ));
        }
    });
}

unsafe extern "C" fn on_connection(ws: *mut ws_info) {
    let _c = Count::set(false);
    callback_seen("onConnection");
    // SAFETY: the library passes the live ws_info it was given.
    let state = unsafe { (*ws).connectionState };
    st(|s| {
        let c = s.conn;
        s.opened[c] += 1;
        if state != 3 {
            s.problems.push(format!("onConnection in state {state}"));
        }
    });
    check_protocol(ws, "onConnection");
}

/// `ws_release` from the first delivery (message or piece): torn down, no
/// final callback.
fn release_now(ws: *mut ws_info) -> bool {
    if !st(|s| s.release_in_receive && !s.released && s.conn == 0) {
        return false;
    }
    st(|s| s.released = true);
    engine(|| unsafe { capi::ws_release(ws) });
    // SAFETY: the library passes the live ws_info it was given.
    let (state, eng) = unsafe { ((*ws).connectionState, (*ws).engine) };
    st(|s| {
        if !s.port.closed {
            s.problems
                .push("ws_release did not call ws_port_close".into());
        }
        if state != 4 || !eng.is_null() {
            s.problems.push(format!(
                "after ws_release: state {state}, engine set {}",
                !eng.is_null()
            ));
        }
    });
    true
}

unsafe extern "C" fn on_receive(ws: *mut ws_info, len: c_int, msg: *mut c_char, op: c_int) {
    let _c = Count::set(false);
    callback_seen("onReceive");
    let Ok(n) = usize::try_from(len) else {
        st(|s| s.problems.push(format!("onReceive with length {len}")));
        return;
    };
    // SAFETY: the library passes `len` bytes plus a terminating NUL.
    let all = unsafe { std::slice::from_raw_parts(msg as *const u8, n + 1) };
    let (body, nul) = all.split_at(n);
    let echo = st(|s| {
        let c = s.conn;
        if nul != [0] {
            s.problems.push("message not NUL-terminated".into());
        }
        if s.opened[c] != 1 {
            s.problems.push("onReceive before onConnection".into());
        }
        if s.use_stream() {
            s.problems.push("onReceive while streaming".into());
        }
        if !(op == 1 || op == 2) {
            s.problems.push(format!("onReceive opcode {op}"));
        }
        s.received.push((c, op as u8, body.to_vec()));
        s.echo && c == 0
    });
    check_protocol(ws, "onReceive");
    if release_now(ws) {
        return;
    }
    if echo {
        if let Ok(short) = u16::try_from(n) {
            // Re-entrant send from the callback (allowed by DESIGN.md).
            st(|s| s.in_receive = true);
            engine(|| unsafe { capi::ws_send(ws, op, msg, short) });
            st(|s| s.in_receive = false);
        }
    }
}

static STREAM: AtomicBool = AtomicBool::new(false);

impl State {
    fn use_stream(&self) -> bool {
        STREAM.load(Relaxed)
    }
}

unsafe extern "C" fn on_fragment(
    ws: *mut ws_info,
    chunk: *const c_char,
    len: c_int,
    op: c_int,
    fin: c_int,
) {
    let _c = Count::set(false);
    callback_seen("onFragment");
    let Ok(n) = usize::try_from(len) else {
        st(|s| s.problems.push(format!("onFragment with length {len}")));
        return;
    };
    let piece = if n == 0 {
        Vec::new()
    } else {
        // SAFETY: the library passes `len` readable bytes for the call.
        unsafe { std::slice::from_raw_parts(chunk as *const u8, n) }.to_vec()
    };
    st(|s| {
        let c = s.conn;
        if s.opened[c] != 1 {
            s.problems.push("onFragment before onConnection".into());
        }
        if !(op == 1 || op == 2) || !(fin == 0 || fin == 1) {
            s.problems.push(format!("onFragment opcode {op} fin {fin}"));
        }
        s.pieces.push((c, op as u8, piece, fin != 0));
    });
    check_protocol(ws, "onFragment");
    release_now(ws);
}

/// The final callback, through either onFailure or onClose.
fn on_final(ws: *mut ws_info, code: c_int, close: Option<(i32, Option<Vec<u8>>, i32)>) {
    callback_seen(if close.is_some() {
        "onClose"
    } else {
        "onFailure"
    });
    // SAFETY: the library passes the live ws_info it was given.
    let (state, eng) = unsafe { ((*ws).connectionState, (*ws).engine) };
    let live = LIVE_BLOCKS.load(Relaxed);
    trace(format_args!(
        "final({code}, {close:?}), {live} engine blocks alive"
    ));
    // SAFETY: a plain C API call on the caller's ws_info.
    let proto = engine(|| unsafe { capi::ws_protocol(ws) });
    let (first, reconnect, full) = st(|s| {
        let first = s.finals.is_empty();
        let conn = s.conn;
        s.finals.push(Final {
            conn,
            status: Status::from_code(code),
            close: close.clone(),
        });
        if close.is_some() != s.use_on_close {
            s.problems.push(format!(
                "final callback through {} (onClose set: {})",
                if close.is_some() {
                    "onClose"
                } else {
                    "onFailure"
                },
                s.use_on_close
            ));
        }
        if state != 4 {
            s.problems.push(format!("final callback in state {state}"));
        }
        if !eng.is_null() {
            s.problems
                .push("engine still attached in the final callback".into());
        }
        if !proto.is_null() {
            s.problems
                .push("ws_protocol not NULL in the final callback".into());
        }
        if !s.port.closed && s.port.resolve_calls > 0 {
            s.problems
                .push("final callback before ws_port_close".into());
        }
        // Everything is freed before the final callback, except that one
        // reached from a send inside onReceive comes while the message being
        // delivered (one block) is still held; it is freed when onReceive returns.
        // With onClose, the buffer holding the reason (one block) lives
        // until the callback returns.
        let reason_block = matches!(&close, Some((c, _, _)) if *c != -1);
        // A final callback nested in another one (reconnect) also sees
        // the blocks the outer one was allowed.
        let allowed = isize::from(s.in_receive) + isize::from(reason_block) + s.outer_live;
        if live > allowed {
            s.problems
                .push(format!("{live} engine blocks alive in the final callback"));
        }
        if let Some((c, reason, len)) = &close {
            match reason {
                None if *c != -1 || *len != 0 => s
                    .problems
                    .push(format!("onClose code {c} with NULL reason of {len}")),
                Some(r) if *c < 1000 || r.len() > 123 || std::str::from_utf8(r).is_err() => {
                    s.problems.push(format!("onClose code {c} reason {r:02x?}"))
                }
                _ => {}
            }
        }
        (first, s.reconnect_in_failure, s.reconnect_full)
    });
    if !first {
        return;
    }
    st(|s| s.outer_live = live);
    if full != 0 {
        // DESIGN.md: a whole new connection from the final callback; the
        // harness drives it after this returns.
        st(|s| {
            s.first_port = Some(std::mem::take(&mut s.port));
            s.conn = 1;
            s.want_proto = None;
        });
        let opts = full as *const ws_options;
        st(|s| s.port_set = 0);
        engine(|| unsafe { capi::ws_connect_with(ws, URL.as_ptr(), opts) });
    } else if reconnect {
        // An empty host fails at once (-4) with a nested final callback and
        // no port call.
        // (Plain ws_connect: no onClose for that one.)
        let calls = st(|s| {
            s.use_on_close = false;
            s.port.calls
        });
        st(|s| s.port_set = 0);
        engine(|| unsafe { capi::ws_connect(ws, c"ws://:80/".as_ptr()) });
        st(|s| {
            if s.finals.len() != 2 || s.finals[1].status != status::WS_ERR_NO_HOST {
                s.problems
                    .push(format!("reconnect from the final callback: {:?}", s.finals));
            }
            if s.port.calls != calls {
                s.problems
                    .push("port called for a URL that fails at once".into());
            }
        });
    }
    st(|s| s.outer_live = 0);
}

unsafe extern "C" fn on_failure(ws: *mut ws_info, code: c_int) {
    let _c = Count::set(false);
    on_final(ws, code, None);
}

unsafe extern "C" fn on_close(
    ws: *mut ws_info,
    code: c_int,
    close_code: c_int,
    reason: *const c_char,
    len: c_int,
) {
    let _c = Count::set(false);
    let r = if reason.is_null() {
        None
    } else {
        let n = usize::try_from(len).unwrap_or(0).min(200);
        // SAFETY: the library passes `len` readable bytes at `reason`.
        Some(unsafe { std::slice::from_raw_parts(reason as *const u8, n) }.to_vec())
    };
    on_final(ws, code, Some((close_code, r, len)));
}

// ---------------------------------------------------------------------------
// The run.
// ---------------------------------------------------------------------------

const URL: &CStr = c"ws://127.0.0.1:9001/fuzz?q=1";

/// Delivers `ws_event_sent` for every accepted chunk (more may be accepted
/// meanwhile) of connection `conn`, as the platform's event loop would.
fn pump(ws: *mut ws_info, conn: usize) {
    let take = || {
        st(|s| {
            let due = s.conn == conn && !s.port.closed && s.port.sent_due > 0;
            s.port.sent_due -= usize::from(due);
            due
        })
    };
    if engine(|| unsafe { testkit::deliver_sent(ws, 100_000, take) }).is_err() {
        st(|s| s.problems.push("send pump does not settle".into()));
    }
}

/// `FUZZ_TRACE=1` prints the harness's steps (for analysing reproducers).
fn trace(what: std::fmt::Arguments) {
    if std::env::var_os("FUZZ_TRACE").is_some() {
        eprintln!("[engine] {what}");
    }
}

/// Connection `conn` is over (its port closed, or a later one started).
fn over(conn: usize) -> bool {
    st(|s| s.conn != conn || s.port.closed)
}

fn accept_for(key: &[u8]) -> String {
    let mut h = sha1_smol::Sha1::new();
    h.update(key);
    h.update(b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11");
    base64::engine::general_purpose::STANDARD.encode(h.digest().bytes())
}

/// The key of the request at the start of `out`, and the request's length.
fn request_key(out: &[u8]) -> Option<(Vec<u8>, usize)> {
    let end = out.windows(4).position(|w| w == b"\r\n\r\n")? + 4;
    let req = &out[..end];
    let tag = b"\r\nSec-WebSocket-Key: ";
    let at = req.windows(tag.len()).position(|w| w == tag)? + tag.len();
    let key = req[at..].split(|&b| b == b'\r').next()?.to_vec();
    assert_eq!(key.len(), 24, "key length");
    Some((key, end))
}

/// Data and control frames the client sent after its request.
fn client_frames(wire: &[u8]) -> (Vec<(u8, Vec<u8>)>, RefTail) {
    let (frames, tail) = ref_frames(wire);
    let mut out = Vec::new();
    for f in frames {
        let h = &f.header;
        let mask = h
            .mask
            .unwrap_or_else(|| panic!("client frame not masked: {h:?}"));
        assert!(h.fin && h.rsv == 0, "client frame flags {h:?}");
        assert!(
            matches!(h.opcode, 1 | 2 | 8 | 9 | 10),
            "client opcode {}",
            h.opcode
        );
        assert!(
            h.opcode < 8 || h.len <= 125,
            "client control frame of {}",
            h.len
        );
        let min = if h.len < 126 {
            6
        } else if h.len <= 0xffff {
            8
        } else {
            14
        };
        assert_eq!(h.header_len, min, "client header not minimal");
        let mut p = f.raw.clone();
        unmask(&mut p, mask, 0);
        out.push((h.opcode, p));
    }
    (out, tail)
}

fn expected_status(end: &RefEnd) -> Status {
    match end {
        RefEnd::Violation(v, _) => *v,
        RefEnd::Closed => status::WS_ERR_SERVER_CLOSED,
        RefEnd::Idle | RefEnd::Partial => status::WS_OK,
    }
}

/// Takes a length byte and that many bytes from the front of `rest`.
fn take_param<'a>(rest: &mut &'a [u8]) -> &'a [u8] {
    let Some((&n, tail)) = rest.split_first() else {
        return &[];
    };
    let n = usize::from(n).min(tail.len());
    let (p, tail) = tail.split_at(n);
    *rest = tail;
    p
}

fn take_byte(rest: &mut &[u8]) -> u8 {
    match rest.split_first() {
        Some((&b, tail)) => {
            *rest = tail;
            b
        }
        None => 0,
    }
}

/// A C string of `b` up to its first NUL (what a C caller could pass).
fn c_string(b: &[u8]) -> CString {
    let n = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    CString::new(&b[..n]).unwrap_or_default()
}

/// The caller's `extraHeaders`: owned strings and the `{NULL, NULL}`-ended array.
struct Headers {
    _strings: Vec<CString>,
    /// (name, value) as the library sees them (value NULL = empty).
    pairs: Vec<(Vec<u8>, Vec<u8>)>,
    array: Vec<header_t>,
}

/// Lines `name=value` (a line without '=' gives a NULL value).
fn make_headers(spec: &[u8]) -> Headers {
    let mut strings = Vec::new();
    let mut pairs = Vec::new();
    let mut array = Vec::new();
    if !spec.is_empty() {
        for line in spec.split(|&b| b == b'\n').take(12) {
            let eq = line.iter().position(|&b| b == b'=');
            let name = c_string(&line[..eq.unwrap_or(line.len())]);
            let value = eq.map(|e| c_string(&line[e + 1..]));
            pairs.push((
                name.as_bytes().to_vec(),
                value.as_ref().map_or(Vec::new(), |v| v.as_bytes().to_vec()),
            ));
            array.push(header_t {
                key: name.as_ptr() as *mut c_char,
                value: value
                    .as_ref()
                    .map_or(std::ptr::null_mut(), |v| v.as_ptr() as *mut c_char),
            });
            strings.push(name);
            strings.extend(value);
        }
    }
    array.push(header_t {
        key: std::ptr::null_mut(),
        value: std::ptr::null_mut(),
    });
    Headers {
        _strings: strings,
        pairs,
        array,
    }
}

/// Connection events up to the request: resolve (async or not), TCP connect.
fn open_tcp(ws: *mut ws_info, conn: usize) {
    if !over(conn) && st(|s| s.resolve_async && s.port.resolve_calls == 1) {
        // SAFETY: plain read of the caller's ws_info.
        assert_eq!(unsafe { (*ws).connectionState }, 1, "state while resolving");
        engine(|| unsafe { capi::ws_event_resolved(ws, 1) });
    }
    if !over(conn) && st(|s| s.port.connect_calls == 1) {
        // SAFETY: plain read of the caller's ws_info.
        assert_eq!(
            unsafe { (*ws).connectionState },
            2,
            "state while connecting"
        );
        engine(|| unsafe { capi::ws_event_connected(ws) });
        pump(ws, conn);
    }
}

/// The user's close call of this input: `ws_close`, or `ws_close_with`.
#[derive(Clone)]
struct UserClose {
    with: Option<(c_int, Option<Vec<u8>>, usize)>,
}

impl UserClose {
    fn call(&self, ws: *mut ws_info) {
        match &self.with {
            None => engine(|| unsafe { capi::ws_close(ws) }),
            Some((code, reason, len)) => {
                let p = reason
                    .as_ref()
                    .map_or(std::ptr::null(), |r| r.as_ptr() as *const c_char);
                engine(|| unsafe { capi::ws_close_with(ws, *code, p, *len) });
            }
        }
    }
    /// The payload of the close frame this call must send.
    fn payload(&self) -> Vec<u8> {
        let dflt = 1000u16.to_be_bytes().to_vec();
        let Some((code, reason, len)) = &self.with else {
            return dflt;
        };
        let Ok(c) = u16::try_from(*code) else {
            return dflt;
        };
        let r: &[u8] = match reason {
            None if *len > 0 => return dflt,
            None => &[],
            Some(r) => r,
        };
        if !close_code_valid(c) || r.len() > 123 || std::str::from_utf8(r).is_err() {
            return dflt;
        }
        [&c.to_be_bytes()[..], r].concat()
    }
}

/// Joins streamed pieces into messages: (opcode, bytes, finished).
fn join_pieces(pieces: &[(u8, Vec<u8>, bool)]) -> Vec<(u8, Vec<u8>, bool)> {
    let mut out: Vec<(u8, Vec<u8>, bool)> = Vec::new();
    for (op, p, fin) in pieces {
        match out.last_mut() {
            Some(m) if !m.2 => {
                assert_eq!(m.0, *op, "opcode changes within a streamed message");
                m.1.extend_from_slice(p);
                m.2 = *fin;
            }
            _ => out.push((*op, p.clone(), *fin)),
        }
    }
    out
}

fn run(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let flags = data[0];
    let fail_nth = usize::from(data[1] & 0x3f);
    let release = data[1] & 0x80 != 0;
    let v2 = data[2];
    let stream = v2 & 0x01 != 0;
    let use_on_close = v2 & 0x02 != 0;
    let close_with = v2 & 0x04 != 0;
    let proto_mode = (v2 >> 3) & 3;
    let with_headers = v2 & 0x20 != 0;
    let reconnect_full = v2 & 0x40 != 0;
    let server_proto = v2 & 0x80 != 0;
    let reconnect = data[1] & 0x40 != 0 && !reconnect_full;

    // Parameters of the v2 modes, in this order when their flag is set.
    let mut rest = &data[3..];
    let header_spec = if with_headers {
        take_param(&mut rest)
    } else {
        &[]
    };
    let offer: Option<Vec<u8>> = match proto_mode {
        0 => None,
        1 => Some(Vec::new()),
        2 => Some(c_string(take_param(&mut rest)).into_bytes()),
        _ => Some(b"chat, superchat,x".to_vec()),
    };
    let choice = if server_proto {
        Some(take_byte(&mut rest))
    } else {
        None
    };
    let user_close = UserClose {
        with: if close_with {
            let raw = u16::from_le_bytes([take_byte(&mut rest), take_byte(&mut rest)]);
            let code = match raw >> 12 {
                0xf => c_int::from(raw) - 0x10000,
                0xe => c_int::from(raw) + 0x10000,
                _ => c_int::from(raw),
            };
            let n = take_byte(&mut rest);
            if n == 0xff {
                Some((code, None, 3))
            } else {
                let len = usize::from(n).min(rest.len());
                let r = rest[..len].to_vec();
                rest = &rest[len..];
                Some((code, Some(r), len))
            }
        } else {
            None
        },
    };
    let (cuts, body) = split_input(rest);
    let max_message: u32 = [1 << 20, 64, 1000, 70000][usize::from(flags & 3)];
    let close_mid = flags & 0x08 != 0;
    let fire_timer = flags & 0x10 != 0;
    let glued = flags & 0x40 != 0;
    let headers = make_headers(header_spec);
    let offer_c = offer.as_ref().map(|o| c_string(o));

    STREAM.store(stream, Relaxed);
    ST.with(|s| {
        *s.borrow_mut() = State {
            busy_mode: flags & 0x04 != 0,
            echo: flags & 0x20 != 0,
            resolve_async: flags & 0x80 != 0,
            use_on_close,
            release_in_receive: release,
            reconnect_in_failure: reconnect,
            port_cookie: 0x5eed_0000 | usize::from(flags),
            random: u32::from(flags) << 16 | u32::from(data[1]) << 8 | u32::from(v2),
            ..State::default()
        }
    });
    LIVE_BLOCKS.store(0, Relaxed);
    LIVE_BYTES.store(0, Relaxed);
    PEAK_BYTES.store(0, Relaxed);

    // The caller's ws_info: not zeroed (docs/contract.md#not-zeroed), only the documented fields set.
    // SAFETY: every field is a plain integer, pointer or Option<fn>; the
    // garbage in `engine`/`port` is never dereferenced by a correct library
    // (it must overwrite them first), and the callbacks are set below.
    let mut info: Box<ws_info> = Box::new(unsafe {
        let mut m = std::mem::MaybeUninit::<ws_info>::uninit();
        std::ptr::write_bytes(
            m.as_mut_ptr() as *mut u8,
            0xA5,
            std::mem::size_of::<ws_info>(),
        );
        let p = m.as_mut_ptr();
        (*p).connectionState = 0;
        (*p).extraHeaders = if with_headers {
            headers.array.as_ptr() as *mut header_t
        } else {
            std::ptr::null_mut()
        };
        (*p).reservedData = std::ptr::null_mut();
        (*p).onConnection = Some(on_connection);
        (*p).onReceive = Some(on_receive);
        (*p).onFailure = Some(on_failure);
        m.assume_init()
    });
    let ws: *mut ws_info = &mut *info;

    // SAFETY: ws_options holds integers, raw pointers and Option<fn>, for
    // which all-zero bytes are valid (0, NULL, None); ws_options_init then
    // fills in the defaults.
    let mut opts: ws_options = unsafe { std::mem::zeroed() };
    unsafe { capi::ws_options_init(&mut opts) };
    assert_eq!(opts.max_message, capi::WS_DEFAULT_MAX_MESSAGE);
    assert!(opts.protocols.is_null() && opts.onClose.is_none() && opts.onFragment.is_none());
    opts.max_message = max_message;
    opts.protocols = offer_c.as_ref().map_or(std::ptr::null(), |c| c.as_ptr());
    if use_on_close {
        opts.onClose = Some(on_close);
    }
    if stream {
        opts.onFragment = Some(on_fragment);
    }
    if reconnect_full {
        st(|s| s.reconnect_full = &opts as *const ws_options as usize);
    }

    // What the request must be (key aside), from docs/contract.md#request.
    let pairs: Vec<(&[u8], &[u8])> = if with_headers {
        headers
            .pairs
            .iter()
            .map(|(n, v)| (n.as_slice(), v.as_slice()))
            .collect()
    } else {
        Vec::new()
    };
    let render = |key: &[u8]| {
        ref_request(
            b"/fuzz?q=1",
            b"127.0.0.1",
            9001,
            key,
            &pairs,
            offer.as_deref(),
        )
    };
    let bad_header = render(&[b'A'; 24]).is_err();

    websocket::buffer::stats::fail_nth(fail_nth);
    st(|s| s.port_set = 0);
    engine(|| unsafe { capi::ws_connect_with(ws, URL.as_ptr(), &opts) });
    open_tcp(ws, 0);

    // The server's side: answer the request, then the fuzzer's stream.
    let out = st(|s| {
        if s.conn == 0 {
            s.port.out.clone()
        } else {
            Vec::new()
        }
    });
    let mut req_len = 0;
    let mut response = Vec::new();
    // The handshake verdict the answer must get: Ok(protocol) or the status.
    let mut verdict: Result<Option<Vec<u8>>, Status> = Ok(None);
    if let Some((key, n)) = request_key(&out) {
        req_len = n;
        let want = render(&key).expect("request sent despite a bad header");
        assert!(
            out[..n] == want[..],
            "request differs:\n{}\nvs expected\n{}",
            String::from_utf8_lossy(&out[..n]),
            String::from_utf8_lossy(&want)
        );
        let offered = offered_protocols(&want).unwrap_or_default();
        let mut proto_line = Vec::new();
        if let Some(c) = choice {
            let pick = if c == 0xff || offered.is_empty() {
                b"zz!not-offered".to_vec()
            } else {
                offered[usize::from(c) % offered.len()].clone()
            };
            // Longer values fail the response parser (-27): not what is tested here.
            if pick.len() <= 64 {
                verdict = if pick.is_empty() {
                    Ok(None)
                } else if offered.contains(&pick) {
                    Ok(Some(pick.clone()))
                } else {
                    Err(status::WS_ERR_BAD_ACCEPT)
                };
                proto_line = [&b"Sec-WebSocket-Protocol: "[..], &pick, b"\r\n"].concat();
            }
        }
        response = [
            format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\n",
                accept_for(&key)
            )
            .as_bytes(),
            &proto_line,
            b"\r\n",
        ]
        .concat();
        if let Ok(p) = &verdict {
            st(|s| s.want_proto = p.clone());
        }
    }
    let have_request = req_len > 0;
    if have_request {
        assert_eq!(
            out.len(),
            req_len,
            "bytes sent before the handshake finished"
        );
    }
    let wire: Vec<u8>;
    let segs: Vec<&[u8]> = if glued {
        wire = [&response[..], body].concat();
        segments(&wire, &cuts)
    } else {
        let mut v = vec![&response[..]];
        v.extend(segments(body, &cuts));
        v
    };
    let mid = segs.len() / 2;
    if have_request {
        for (i, seg) in segs.iter().enumerate() {
            if over(0) {
                break;
            }
            trace(format_args!("segment {i}: {:02x?}", seg));
            if !seg.is_empty() {
                let mut copy = seg.to_vec();
                engine(|| unsafe { capi::ws_event_received(ws, copy.as_mut_ptr(), copy.len()) });
                pump(ws, 0);
            }
            if !over(0) && st(|s| s.opened[0] == 1) {
                check_protocol(ws, "between segments");
            }
            if fire_timer && !over(0) && st(|s| s.opened[0] == 1 && s.port.timer.is_some()) {
                trace(format_args!("timer fires"));
                engine(|| unsafe { capi::ws_event_timer(ws) });
                pump(ws, 0);
            }
            if close_mid && i == mid && !over(0) {
                trace(format_args!("user close"));
                user_close.call(ws);
                pump(ws, 0);
            }
        }
    }
    // Orderly end: user close, then the peer drops TCP.
    if !over(0) {
        user_close.call(ws);
        pump(ws, 0);
    }
    if !over(0) {
        engine(|| unsafe { capi::ws_event_disconnected(ws, 0) });
    }

    // A second connection started from the first one's final callback:
    // handshake, one message and the server's close, all in one segment.
    let second = st(|s| s.conn == 1);
    let mut second_out = Vec::new();
    if second {
        st(|s| s.want_proto = None);
        open_tcp(ws, 1);
        let out2 = st(|s| s.port.out.clone());
        if let Some((key, n)) = request_key(&out2) {
            let mut seg = format!(
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                 Sec-WebSocket-Accept: {}\r\n\r\n",
                accept_for(&key)
            )
            .into_bytes();
            seg.extend(encode_frame(true, 1, None, b"again"));
            seg.extend(encode_frame(true, 8, None, b"\x03\xe8bye"));
            if !over(1) {
                engine(|| unsafe { capi::ws_event_received(ws, seg.as_mut_ptr(), seg.len()) });
                pump(ws, 1);
            }
            let sent = st(|s| s.port.out[n..].to_vec());
            second_out = sent;
        }
        if !over(1) {
            engine(|| unsafe { capi::ws_event_disconnected(ws, 0) });
        }
        if !over(1) {
            user_close.call(ws);
            pump(ws, 1);
        }
        if !over(1) {
            engine(|| unsafe { capi::ws_event_disconnected(ws, 0) });
        }
    }
    let peak = PEAK_BYTES.load(Relaxed);
    trace(format_args!("engine heap peak {peak} bytes"));
    websocket::buffer::stats::fail_nth(0);

    // ---- checks ----
    let mut s = ST.with(|s| std::mem::take(&mut *s.borrow_mut()));
    assert!(s.problems.is_empty(), "problems: {:?}", s.problems);
    let port2 = if second {
        Some(std::mem::replace(
            &mut s.port,
            s.first_port.take().unwrap_or_default(),
        ))
    } else {
        None
    };
    let finals0: Vec<&Final> = s.finals.iter().filter(|f| f.conn == 0).collect();
    let finals1: Vec<&Final> = s.finals.iter().filter(|f| f.conn == 1).collect();
    if s.released {
        assert!(
            s.finals.is_empty(),
            "final callback after ws_release: {:?}",
            s.finals
        );
    } else if reconnect {
        assert_eq!(s.finals.len(), 2, "final callbacks: {:?}", s.finals);
    } else {
        assert_eq!(finals0.len(), 1, "final callbacks: {:?}", s.finals);
        assert_eq!(
            finals1.len(),
            usize::from(second),
            "final callbacks: {:?}",
            s.finals
        );
    }
    // (In the empty-host reconnect mode the nested final callback is expected.)
    let after: Vec<_> = s
        .after_final
        .iter()
        .filter(|n| !(reconnect && matches!(**n, "onFailure" | "onClose")))
        .collect();
    assert!(
        after.is_empty(),
        "callbacks after the final one: {:?}",
        s.after_final
    );
    assert!(
        s.port.after_close.is_empty(),
        "port calls after ws_port_close: {:?}",
        s.port.after_close
    );
    assert!(
        s.port.closed || s.port.resolve_calls == 0,
        "ws_port_close never called"
    );
    assert!(s.opened[0] <= 1, "onConnection {} times", s.opened[0]);
    assert_eq!(info.connectionState, 4, "final state");
    assert!(info.engine.is_null(), "engine pointer left set");
    assert_eq!(
        info.port as usize, s.port_set,
        "ws->port: NULL from ws_connect, then as the port set it"
    );
    assert_eq!(LIVE_BLOCKS.load(Relaxed), 0, "engine blocks leaked");
    assert_eq!(LIVE_BYTES.load(Relaxed), 0, "engine bytes leaked");
    // Streaming: no reassembly, so the heap does not grow with the messages.
    let bound = if stream {
        // (The request, with the headers and the offer, is kept until the
        // response is checked.)
        let offer_len = offer.as_ref().map_or(0, |o| o.len());
        4096 + 4 * (header_spec.len() + offer_len) as isize
    } else {
        16384 + max_message as isize + 16 * data.len() as isize
    };
    assert!(peak <= bound, "engine heap peak {peak} > {bound}");
    // After the end the same ws_info refuses sends.
    assert_eq!(
        engine(|| unsafe { capi::ws_send_long(ws, 1, c"x".as_ptr(), 1) }),
        capi::WS_ERR_NOT_CONNECTED
    );

    if bad_header {
        // An unsendable extra header fails at once, before any port call.
        assert_eq!(s.port.calls, 0, "port used despite a bad header");
        assert_eq!(
            finals0[0].status,
            status::WS_ERR_BAD_HEADER,
            "bad header status"
        );
        if let Some(p2) = &port2 {
            assert_eq!(p2.calls, 0, "port used despite a bad header");
            assert_eq!(finals1[0].status, status::WS_ERR_BAD_HEADER);
        }
        return;
    }

    // Streaming limit: none; the reference decodes without one.
    let limit = if stream {
        u64::MAX
    } else {
        u64::from(max_message)
    };
    let (ref_ev, ref_end, ref_partial) = ref_decode(body, limit);
    let ref_msgs: Vec<(u8, Vec<u8>)> = ref_ev
        .iter()
        .filter_map(|e| match e {
            RefEvent::Message(o, d) => Some((*o, d.clone())),
            _ => None,
        })
        .collect();
    let pieces0: Vec<(u8, Vec<u8>, bool)> = s
        .pieces
        .iter()
        .filter(|p| p.0 == 0)
        .map(|p| (p.1, p.2.clone(), p.3))
        .collect();
    let received0: Vec<(u8, Vec<u8>)> = s
        .received
        .iter()
        .filter(|m| m.0 == 0)
        .map(|m| (m.1, m.2.clone()))
        .collect();
    // Streamed pieces joined: whole messages, plus one unfinished at the end.
    let joined = join_pieces(&pieces0);
    let (done0, unfinished): (Vec<(u8, Vec<u8>)>, Option<(u8, Vec<u8>)>) = if stream {
        assert!(received0.is_empty(), "onReceive while streaming");
        let mut done: Vec<(u8, Vec<u8>)> = Vec::new();
        let mut unfinished = None;
        for (o, d, fin) in joined {
            if fin {
                done.push((o, d));
            } else {
                unfinished = Some((o, d));
            }
        }
        (done, unfinished)
    } else {
        assert!(pieces0.is_empty(), "onFragment without streaming");
        (received0, None)
    };

    if s.released {
        // ws_release from the first delivery: exactly that one came.
        let first = ref_msgs.first().cloned().or_else(|| ref_partial.clone());
        if stream {
            assert_eq!(pieces0.len(), 1, "pieces after ws_release");
            let (o, d) = first.expect("a piece without a reference message");
            assert_eq!(pieces0[0].0, o, "released piece opcode");
            assert!(d.starts_with(&pieces0[0].1), "released piece differs");
        } else {
            assert_eq!(done0.len(), 1, "messages after ws_release");
            assert!(
                Some(&done0[0]) == first.as_ref(),
                "released message differs"
            );
        }
        return;
    }
    let code = finals0[0].status;
    let oom = matches!(
        code,
        status::WS_ERR_NO_MEMORY_MESSAGE
            | status::WS_ERR_NO_MEMORY_CONTROL
            | status::WS_ERR_NO_MEMORY_HANDSHAKE
            | status::WS_ERR_NO_MEMORY_SEND
    );
    if fail_nth == 0 {
        assert!(!oom, "out of memory {code} without failure injection");
        assert!(have_request, "no request sent");
        // (A user close in the middle of a glued response may come first.)
        if !(close_mid && glued) {
            match &verdict {
                Ok(_) => assert_eq!(
                    s.opened[0], 1,
                    "valid 101 response not accepted (status {code})"
                ),
                Err(e) => {
                    assert_eq!(
                        s.opened[0], 0,
                        "response with a non-offered protocol accepted"
                    );
                    assert_eq!(code, *e, "status for a non-offered protocol");
                }
            }
        }
    }
    let strict = fail_nth == 0 && !close_mid;
    if let Some(p2) = &port2 {
        check_second(
            p2,
            finals1[0],
            &s,
            &second_out,
            use_on_close,
            stream,
            fail_nth == 0,
        );
    }
    if s.opened[0] == 0 {
        assert!(done0.is_empty() && unfinished.is_none());
        if use_on_close {
            assert_eq!(
                finals0[0].close,
                Some((-1, None, 0)),
                "onClose before opening"
            );
        }
        return;
    }

    let want = expected_status(&ref_end);
    assert!(
        done0.len() <= ref_msgs.len() && done0[..] == ref_msgs[..done0.len()],
        "delivered messages are not a prefix of the reference ({} vs {}; end {:?})",
        done0.len(),
        ref_msgs.len(),
        ref_end
    );
    if let Some((o, d)) = &unfinished {
        // The message being streamed: a prefix of the next reference message
        // (whole or in progress), never past a byte that breaks UTF-8.
        let next = ref_msgs
            .get(done0.len())
            .cloned()
            .or_else(|| ref_partial.clone());
        let (ro, rd) = next.expect("streamed piece without a reference message");
        assert_eq!(*o, ro, "streamed opcode");
        assert!(rd.starts_with(d), "streamed bytes are not a prefix");
        if *o == 1 {
            assert!(utf8_valid_prefix(d), "a piece breaking UTF-8 was delivered");
        }
    }
    let (sent, _tail) = client_frames(&s.port.out[req_len..]);
    if strict {
        assert_eq!(
            done0.len(),
            ref_msgs.len(),
            "messages lost (end {ref_end:?})"
        );
        if stream {
            // Everything of the unfinished message came, except after a
            // UTF-8 error (where the breaking piece is held back).
            match (&ref_end, &ref_partial) {
                (RefEnd::Violation(v, _), _) if *v == status::WS_ERR_INVALID_UTF8 => {}
                (_, Some((o, d))) => {
                    let got = unfinished.clone().unwrap_or((*o, Vec::new()));
                    assert!(
                        got == (*o, d.clone()),
                        "unfinished streamed message {} of {} bytes",
                        got.1.len(),
                        d.len()
                    );
                }
                _ => assert!(unfinished.is_none(), "unfinished streamed message"),
            }
        }
        assert_eq!(code, want, "final status (reference end {ref_end:?})");
        // Control frames sent: a pong per ping, then the close frame.
        // Keep-alive pings (empty) only come from timer expiries: the harness
        // fires the timer right after the 101 response, before any frame.
        let ctrl: Vec<&(u8, Vec<u8>)> = sent
            .iter()
            .filter(|(o, p)| *o >= 8 && !(fire_timer && *o == 9 && p.is_empty()))
            .collect();
        let mut want_ctrl: Vec<(u8, Vec<u8>)> = ref_ev
            .iter()
            .filter_map(|e| match e {
                RefEvent::Ping(p) => Some((10, p.clone())),
                _ => None,
            })
            .collect();
        let server_close = match ref_ev.last() {
            Some(RefEvent::Close(c, r)) => Some((c.unwrap_or(1005), r.clone())),
            _ => None,
        };
        match &ref_end {
            RefEnd::Closed => {
                let body = match ref_ev.last() {
                    Some(RefEvent::Close(Some(c), _)) => c.to_be_bytes().to_vec(),
                    _ => Vec::new(),
                };
                want_ctrl.push((8, body));
            }
            RefEnd::Violation(_, c) => want_ctrl.push((8, c.to_be_bytes().to_vec())),
            RefEnd::Idle | RefEnd::Partial => want_ctrl.push((8, user_close.payload())),
        }
        let mut got_ctrl: Vec<(u8, Vec<u8>)> = ctrl.into_iter().cloned().collect();
        if s.busy_mode {
            // DESIGN.md: at most one pong waits for the port; a newer ping
            // replaces it or (with frames queued after it) gets none. So
            // with a refusing port the pongs are a subsequence of the pings.
            let mut pings = want_ctrl.iter().filter(|f| f.0 == 10);
            let pongs: Vec<(u8, Vec<u8>)> =
                got_ctrl.iter().filter(|f| f.0 == 10).cloned().collect();
            for p in &pongs {
                assert!(
                    pings.any(|q| q == p),
                    "pongs {pongs:?} not a subsequence of the pings {want_ctrl:?}"
                );
            }
            got_ctrl.retain(|f| f.0 != 10);
            want_ctrl.retain(|f| f.0 != 10);
        }
        assert_eq!(got_ctrl, want_ctrl, "control frames sent (end {ref_end:?})");
        if use_on_close {
            let want_close = match (&ref_end, server_close) {
                (RefEnd::Closed, Some((c, r))) => {
                    let n = r.len() as i32;
                    (i32::from(c), Some(r), n)
                }
                _ => (-1, None, 0),
            };
            assert_eq!(finals0[0].close, Some(want_close), "onClose code/reason");
        }
    } else if !oom {
        assert!(
            code == want || code == status::WS_OK,
            "final status {code}, reference {want}"
        );
        if let (Some((c, r, _)), RefEnd::Closed) = (&finals0[0].close, &ref_end) {
            if let Some(RefEvent::Close(rc, rr)) = ref_ev.last() {
                // (Out of memory for the reason: reported without one.)
                let reason_ok = r.as_ref() == Some(rr)
                    || (fail_nth > 0 && r.as_ref().is_some_and(|r| r.is_empty()));
                assert!(
                    *c == -1 || (*c == i32::from(rc.unwrap_or(1005)) && reason_ok),
                    "onClose {c} {r:?} vs the server's {rc:?}"
                );
            }
        }
    }
    if close_mid && !oom {
        // The one close frame sent: the user's, or the answer to the
        // server's, or a protocol error's.
        let closes: Vec<&Vec<u8>> = sent.iter().filter(|f| f.0 == 8).map(|f| &f.1).collect();
        assert!(closes.len() <= 1, "{} close frames sent", closes.len());
        if let Some(c) = closes.first() {
            let ok = **c == user_close.payload()
                || matches!(&ref_end, RefEnd::Violation(_, v) if **c == v.to_be_bytes())
                || matches!(ref_ev.last(), Some(RefEvent::Close(rc, _))
                    if **c == rc.map_or(Vec::new(), |x| x.to_be_bytes().to_vec()));
            assert!(ok, "close frame sent {c:02x?}");
        }
    }
    if s.opened[0] == 1 && !oom {
        // Echoed messages come back out in order as data frames.
        let data_sent: Vec<(u8, Vec<u8>)> = sent.into_iter().filter(|(o, _)| *o < 8).collect();
        let echoed: Vec<(u8, Vec<u8>)> = if s.echo && !stream {
            done0
                .iter()
                .filter(|(_, d)| d.len() <= 0xffff)
                .cloned()
                .collect()
        } else {
            Vec::new()
        };
        if strict {
            assert_eq!(data_sent.len(), echoed.len(), "data frames sent");
        }
        assert!(
            data_sent.len() <= echoed.len() && data_sent[..] == echoed[..data_sent.len()],
            "echoed data differs"
        );
    }
}

/// The second connection (started from the first one's final callback)
/// works like any other: one message, then the server's close 1000 "bye".
fn check_second(
    port: &Port,
    fin: &Final,
    s: &State,
    sent: &[u8],
    on_close: bool,
    stream: bool,
    strict: bool,
) {
    assert!(
        port.after_close.is_empty(),
        "second: port calls after close"
    );
    assert!(
        port.closed || port.resolve_calls == 0,
        "second: ws_port_close never called"
    );
    if !strict {
        return;
    }
    assert_eq!(
        s.opened[1], 1,
        "second connection not opened (status {})",
        fin.status
    );
    assert_eq!(
        fin.status,
        status::WS_ERR_SERVER_CLOSED,
        "second connection status"
    );
    let msgs: Vec<(u8, Vec<u8>)> = if stream {
        let p: Vec<(u8, Vec<u8>, bool)> = s
            .pieces
            .iter()
            .filter(|p| p.0 == 1)
            .map(|p| (p.1, p.2.clone(), p.3))
            .collect();
        join_pieces(&p)
            .into_iter()
            .map(|(o, d, _)| (o, d))
            .collect()
    } else {
        s.received
            .iter()
            .filter(|m| m.0 == 1)
            .map(|m| (m.1, m.2.clone()))
            .collect()
    };
    assert_eq!(
        msgs,
        vec![(1, b"again".to_vec())],
        "second connection messages"
    );
    if on_close {
        assert_eq!(fin.close, Some((1000, Some(b"bye".to_vec()), 3)));
    }
    let (frames, _) = client_frames(sent);
    assert_eq!(
        frames,
        vec![(8, 1000u16.to_be_bytes().to_vec())],
        "second: frames sent"
    );
}

fuzz_target!(|data: &[u8]| {
    // The `sequence` target (sequence_main.rs, this file as a module) runs
    // the program only.
    if option_env!("CARGO_BIN_NAME") != Some("sequence") {
        run(data);
    }
    sequence::run(data);
});
