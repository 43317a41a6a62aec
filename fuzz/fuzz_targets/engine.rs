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
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use websocket::capi::{self, ws_info, ws_options};
use websocket::status;
use websocket_fuzz::{
    ref_frames, ref_messages, segments, split_input, unmask, RefEnd, RefEvent, RefTail,
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

/// Calls into the library with allocation counting on.
fn engine<R>(f: impl FnOnce() -> R) -> R {
    let _c = Count::set(true);
    f()
}

// ---------------------------------------------------------------------------
// Harness state shared by the port fakes and the callbacks.
// ---------------------------------------------------------------------------

#[derive(Default)]
struct State {
    // options chosen by the input
    busy_mode: bool,
    echo: bool,
    resolve_async: bool,
    // port
    port_calls: usize,
    resolve_calls: usize,
    connect_calls: usize,
    closed: bool,
    after_close: Vec<&'static str>,
    timer: Option<u32>,
    sent_due: usize,
    out: Vec<u8>,
    random: u32,
    port_cookie: usize,
    // callbacks
    opened: usize,
    failures: Vec<i32>,
    after_failure: Vec<&'static str>,
    received: Vec<(u8, Vec<u8>)>,
    /// Inside onReceive (an echo `ws_send` may end the connection there).
    in_receive: bool,
    release_in_receive: bool,
    released: bool,
    reconnect_in_failure: bool,
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
        s.port_calls += 1;
        if s.closed {
            s.after_close.push(name);
        }
    });
}

// ---------------------------------------------------------------------------
// The port (implemented by the platform; here fakes recording everything).
// ---------------------------------------------------------------------------

#[no_mangle]
pub extern "C" fn ws_port_resolve(ws: *mut ws_info, host: *const c_char) -> c_int {
    let _c = Count::set(false);
    let first = st(|s| s.port_calls == 0);
    port_call("resolve");
    // SAFETY: the library passes a NUL-terminated host name valid for the call.
    let h = unsafe { CStr::from_ptr(host) }.to_bytes().to_vec();
    let cookie = st(|s| s.port_cookie);
    // SAFETY: `ws` is the caller's live ws_info; `port` belongs to the port.
    unsafe { (*ws).port = cookie as *mut c_void };
    st(|s| {
        s.resolve_calls += 1;
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
    let _c = Count::set(false);
    port_call("connect");
    st(|s| {
        s.connect_calls += 1;
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
    port_call("send");
    // SAFETY: the library passes `len` readable bytes at `data` for the call.
    let bytes = unsafe { std::slice::from_raw_parts(data, usize::from(len)) };
    st(|s| {
        if len == 0 {
            s.problems.push("ws_port_send with 0 bytes".into());
        }
        if s.busy_mode && s.sent_due > 0 {
            return capi::WS_PORT_BUSY;
        }
        s.out.extend_from_slice(bytes);
        s.sent_due += 1;
        trace(format_args!(
            "port send {:02x?}",
            &bytes[..bytes.len().min(40)]
        ));
        0
    })
}

#[no_mangle]
pub extern "C" fn ws_port_close(_ws: *mut ws_info) {
    let _c = Count::set(false);
    port_call("close");
    st(|s| {
        s.closed = true;
        s.timer = None;
        s.sent_due = 0;
    });
}

#[no_mangle]
pub extern "C" fn ws_port_timer_arm(_ws: *mut ws_info, ms: u32) {
    let _c = Count::set(false);
    port_call("timer_arm");
    trace(format_args!("timer arm {ms}"));
    st(|s| s.timer = Some(ms));
}

#[no_mangle]
pub extern "C" fn ws_port_timer_disarm(_ws: *mut ws_info) {
    let _c = Count::set(false);
    port_call("timer_disarm");
    st(|s| s.timer = None);
}

#[no_mangle]
pub extern "C" fn ws_port_random(buf: *mut u8, len: usize) {
    let _c = Count::set(false);
    // SAFETY: the library passes `len` writable bytes at `buf`.
    let out = unsafe { std::slice::from_raw_parts_mut(buf, len) };
    st(|s| {
        for b in out {
            s.random = s.random.wrapping_mul(1_103_515_245).wrapping_add(12345);
            *b = (s.random >> 16) as u8;
        }
    });
}

// ---------------------------------------------------------------------------
// Callbacks.
// ---------------------------------------------------------------------------

fn callback_seen(name: &'static str) {
    st(|s| {
        if !s.failures.is_empty() {
            s.after_failure.push(name);
        }
    });
}

unsafe extern "C" fn on_connection(ws: *mut ws_info) {
    let _c = Count::set(false);
    callback_seen("onConnection");
    // SAFETY: the library passes the live ws_info it was given.
    let state = unsafe { (*ws).connectionState };
    st(|s| {
        s.opened += 1;
        if state != 3 {
            s.problems.push(format!("onConnection in state {state}"));
        }
    });
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
        if nul != [0] {
            s.problems.push("message not NUL-terminated".into());
        }
        if s.opened != 1 {
            s.problems.push("onReceive before onConnection".into());
        }
        if !(op == 1 || op == 2) {
            s.problems.push(format!("onReceive opcode {op}"));
        }
        s.received.push((op as u8, body.to_vec()));
        s.echo
    });
    if st(|s| s.release_in_receive && !s.released) {
        st(|s| s.released = true);
        engine(|| capi::ws_release(ws));
        // SAFETY: the library passes the live ws_info it was given.
        let (state, eng) = unsafe { ((*ws).connectionState, (*ws).engine) };
        st(|s| {
            if !s.closed {
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
        return;
    }
    if echo {
        if let Ok(short) = u16::try_from(n) {
            // Re-entrant send from the callback (allowed by DESIGN.md).
            st(|s| s.in_receive = true);
            engine(|| capi::ws_send(ws, op, msg, short));
            st(|s| s.in_receive = false);
        }
    }
}

unsafe extern "C" fn on_failure(ws: *mut ws_info, code: c_int) {
    let _c = Count::set(false);
    callback_seen("onFailure");
    // SAFETY: the library passes the live ws_info it was given.
    let (state, eng) = unsafe { ((*ws).connectionState, (*ws).engine) };
    let live = LIVE_BLOCKS.load(Relaxed);
    trace(format_args!(
        "onFailure({code}), {live} engine blocks alive"
    ));
    let reconnect = st(|s| s.reconnect_in_failure && s.failures.is_empty());
    st(|s| {
        s.failures.push(code);
        if state != 4 {
            s.problems.push(format!("onFailure in state {state}"));
        }
        if !eng.is_null() {
            s.problems.push("engine still attached in onFailure".into());
        }
        if !s.closed && s.resolve_calls > 0 {
            s.problems.push("onFailure before ws_port_close".into());
        }
        // Everything is freed before onFailure, except that an onFailure
        // reached from a send inside onReceive comes while the message being
        // delivered (one block) is still held; it is freed when onReceive returns.
        let allowed = if s.in_receive { 1 } else { 0 };
        if live > allowed {
            s.problems
                .push(format!("{live} engine blocks alive in onFailure"));
        }
    });
    if reconnect {
        // DESIGN.md: ws_connect is allowed from onFailure. An empty host
        // fails at once (-4) with a nested onFailure and no port call.
        let calls = st(|s| s.port_calls);
        engine(|| capi::ws_connect(ws, c"ws://:80/".as_ptr()));
        st(|s| {
            if s.failures.len() != 2 || s.failures[1] != status::NO_HOST {
                s.problems
                    .push(format!("reconnect from onFailure: {:?}", s.failures));
            }
            if s.port_calls != calls {
                s.problems
                    .push("port called for a URL that fails at once".into());
            }
        });
    }
}

// ---------------------------------------------------------------------------
// The run.
// ---------------------------------------------------------------------------

const URL: &CStr = c"ws://127.0.0.1:9001/fuzz?q=1";

/// Delivers `ws_event_sent` for every accepted chunk (more may be accepted
/// meanwhile), as the platform's event loop would.
fn pump(ws: *mut ws_info) {
    for _ in 0..100_000 {
        let go = st(|s| {
            if s.closed || s.sent_due == 0 {
                false
            } else {
                s.sent_due -= 1;
                true
            }
        });
        if !go {
            return;
        }
        engine(|| capi::ws_event_sent(ws));
    }
    st(|s| s.problems.push("send pump does not settle".into()));
}

/// `FUZZ_TRACE=1` prints the harness's steps (for analysing reproducers).
fn trace(what: std::fmt::Arguments) {
    if std::env::var_os("FUZZ_TRACE").is_some() {
        eprintln!("[engine] {what}");
    }
}

fn closed() -> bool {
    st(|s| s.closed)
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
    assert!(
        req.starts_with(b"GET /fuzz?q=1 HTTP/1.1\r\nHost: 127.0.0.1:9001\r\n"),
        "request line/host wrong: {:?}",
        String::from_utf8_lossy(req)
    );
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

fn expected_status(end: &RefEnd) -> i32 {
    match end {
        RefEnd::Violation(v, _) => *v,
        RefEnd::Closed => status::SERVER_CLOSED,
        RefEnd::Idle | RefEnd::Partial => status::OK,
    }
}

fn run(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let flags = data[0];
    let fail_nth = usize::from(data[1] & 0x3f);
    let release = data[1] & 0x80 != 0;
    let reconnect = data[1] & 0x40 != 0;
    let (cuts, body) = split_input(&data[2..]);
    let max_message: u32 = [1 << 20, 64, 1000, 70000][usize::from(flags & 3)];
    let user_close = flags & 0x08 != 0;
    let fire_timer = flags & 0x10 != 0;
    let glued = flags & 0x40 != 0;

    ST.with(|s| {
        *s.borrow_mut() = State {
            busy_mode: flags & 0x04 != 0,
            echo: flags & 0x20 != 0,
            resolve_async: flags & 0x80 != 0,
            release_in_receive: release,
            reconnect_in_failure: reconnect,
            port_cookie: 0x5eed_0000 | usize::from(flags),
            random: u32::from(flags) << 8 | u32::from(data[1]),
            ..State::default()
        }
    });
    LIVE_BLOCKS.store(0, Relaxed);
    LIVE_BYTES.store(0, Relaxed);
    PEAK_BYTES.store(0, Relaxed);

    // The caller's ws_info: not zeroed (SPEC 2), only the documented fields set.
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
        (*p).extraHeaders = std::ptr::null_mut();
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
    capi::ws_options_init(&mut opts);
    assert_eq!(opts.max_message, capi::WS_DEFAULT_MAX_MESSAGE);
    opts.max_message = max_message;

    websocket::buffer::stats::fail_nth(fail_nth);
    engine(|| capi::ws_connect_with(ws, URL.as_ptr(), &opts));
    if st(|s| s.resolve_async && s.resolve_calls == 1 && !s.closed) {
        assert_eq!(info.connectionState, 1, "state while resolving");
        engine(|| capi::ws_event_resolved(ws, 1));
    }
    if st(|s| s.connect_calls == 1 && !s.closed) {
        assert_eq!(info.connectionState, 2, "state while connecting");
        engine(|| capi::ws_event_connected(ws));
        pump(ws);
    }

    // The server's side: answer the request, then the fuzzer's stream.
    let out = st(|s| s.out.clone());
    let mut req_len = 0;
    let mut response = Vec::new();
    if let Some((key, n)) = request_key(&out) {
        req_len = n;
        response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {}\r\n\r\n",
            accept_for(&key)
        )
        .into_bytes();
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
            if closed() {
                break;
            }
            trace(format_args!("segment {i}: {:02x?}", seg));
            if !seg.is_empty() {
                let mut copy = seg.to_vec();
                engine(|| capi::ws_event_received(ws, copy.as_mut_ptr(), copy.len()));
                pump(ws);
            }
            if fire_timer && !closed() && st(|s| s.opened == 1 && s.timer.is_some()) {
                trace(format_args!("timer fires"));
                engine(|| capi::ws_event_timer(ws));
                pump(ws);
            }
            if user_close && i == mid && !closed() {
                trace(format_args!("ws_close"));
                engine(|| capi::ws_close(ws));
                pump(ws);
            }
        }
    }
    // Orderly end: user close, then the peer drops TCP.
    if !closed() {
        engine(|| capi::ws_close(ws));
        pump(ws);
    }
    if !closed() {
        engine(|| capi::ws_event_disconnected(ws, 0));
    }
    let peak = PEAK_BYTES.load(Relaxed);
    websocket::buffer::stats::fail_nth(0);

    // ---- checks ----
    let s = ST.with(|s| std::mem::take(&mut *s.borrow_mut()));
    assert!(s.problems.is_empty(), "problems: {:?}", s.problems);
    if s.released {
        assert!(
            s.failures.is_empty(),
            "onFailure after ws_release: {:?}",
            s.failures
        );
    } else if reconnect {
        assert_eq!(s.failures.len(), 2, "onFailure calls: {:?}", s.failures);
    } else {
        assert_eq!(s.failures.len(), 1, "onFailure calls: {:?}", s.failures);
    }
    let after: Vec<_> = s
        .after_failure
        .iter()
        .filter(|n| !(reconnect && **n == "onFailure"))
        .collect();
    assert!(
        after.is_empty(),
        "callbacks after onFailure: {:?}",
        s.after_failure
    );
    assert!(
        s.after_close.is_empty(),
        "port calls after ws_port_close: {:?}",
        s.after_close
    );
    assert!(
        s.closed || s.resolve_calls == 0,
        "ws_port_close never called"
    );
    assert!(s.opened <= 1, "onConnection {} times", s.opened);
    assert_eq!(info.connectionState, 4, "final state");
    assert!(info.engine.is_null(), "engine pointer left set");
    if s.resolve_calls > 0 {
        assert_eq!(
            info.port as usize, s.port_cookie,
            "library touched ws->port"
        );
    }
    assert_eq!(LIVE_BLOCKS.load(Relaxed), 0, "engine blocks leaked");
    assert_eq!(LIVE_BYTES.load(Relaxed), 0, "engine bytes leaked");
    let bound = 16384 + max_message as isize + 16 * data.len() as isize;
    assert!(peak <= bound, "engine heap peak {peak} > {bound}");
    // After the end the same ws_info refuses sends.
    assert_eq!(
        engine(|| capi::ws_send_long(ws, 1, c"x".as_ptr(), 1)),
        capi::WS_ERR_NOT_CONNECTED
    );

    if s.released {
        // ws_release from the first onReceive: exactly that message came.
        let (ref_ev, _) = ref_messages(body, u64::from(max_message));
        let first = ref_ev.iter().find_map(|e| match e {
            RefEvent::Message(o, d) => Some((*o, d.clone())),
            _ => None,
        });
        assert_eq!(s.received.len(), 1, "messages after ws_release");
        assert!(
            Some(&s.received[0]) == first.as_ref(),
            "released message differs"
        );
        return;
    }
    let code = s.failures[0];
    let oom = matches!(
        code,
        status::NO_MEMORY_MESSAGE
            | status::NO_MEMORY_CONTROL
            | status::NO_MEMORY_HANDSHAKE
            | status::NO_MEMORY_SEND
    );
    if fail_nth == 0 {
        assert!(!oom, "out of memory {code} without failure injection");
        assert!(have_request, "no request sent");
        // (A user close in the middle of a glued response may come first.)
        if !(user_close && glued) {
            assert_eq!(
                s.opened, 1,
                "valid 101 response not accepted (status {code})"
            );
        }
    }
    if s.opened == 0 {
        assert!(s.received.is_empty());
        return;
    }

    let (ref_ev, ref_end) = ref_messages(body, u64::from(max_message));
    let ref_msgs: Vec<(u8, Vec<u8>)> = ref_ev
        .iter()
        .filter_map(|e| match e {
            RefEvent::Message(o, d) => Some((*o, d.clone())),
            _ => None,
        })
        .collect();
    let want = expected_status(&ref_end);
    assert!(
        s.received.len() <= ref_msgs.len() && s.received[..] == ref_msgs[..s.received.len()],
        "delivered messages are not a prefix of the reference ({} vs {}; end {:?})",
        s.received.len(),
        ref_msgs.len(),
        ref_end
    );
    let (sent, _tail) = client_frames(&s.out[req_len..]);
    let strict = fail_nth == 0 && !user_close;
    if strict {
        assert_eq!(
            s.received.len(),
            ref_msgs.len(),
            "messages lost (end {ref_end:?})"
        );
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
        match &ref_end {
            RefEnd::Closed => {
                let body = match ref_ev.last() {
                    Some(RefEvent::Close(Some(c), _)) => c.to_be_bytes().to_vec(),
                    _ => Vec::new(),
                };
                want_ctrl.push((8, body));
            }
            RefEnd::Violation(_, c) => want_ctrl.push((8, c.to_be_bytes().to_vec())),
            RefEnd::Idle | RefEnd::Partial => want_ctrl.push((8, 1000u16.to_be_bytes().to_vec())),
        }
        let got_ctrl: Vec<(u8, Vec<u8>)> = ctrl.into_iter().cloned().collect();
        assert_eq!(got_ctrl, want_ctrl, "control frames sent (end {ref_end:?})");
    } else if !oom {
        assert!(
            code == want || code == status::OK,
            "final status {code}, reference {want}"
        );
    }
    if s.opened == 1 && !oom {
        // Echoed messages come back out in order as data frames.
        let data_sent: Vec<(u8, Vec<u8>)> = sent.into_iter().filter(|(o, _)| *o < 8).collect();
        let echoed: Vec<(u8, Vec<u8>)> = if s.echo {
            s.received
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

fuzz_target!(|data: &[u8]| run(data));
