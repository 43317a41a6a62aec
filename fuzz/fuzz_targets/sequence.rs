//! Sequence mode of the `engine` target (issue 11), and the whole of the
//! `sequence` target (`sequence_main.rs`): the input read as a program of
//! public calls on two caller-owned `ws_info`s (never zeroed, garbage in
//! every field the contract does not ask the caller to set), interleaved
//! with the port's events and with callers that rewrite `connectionState`
//! between calls (to 0 as the original Lua module does before `ws_connect`,
//! to 4, 5 or anything). Callbacks run further operations from the same
//! program (re-entrant calls, e.g. `ws_close` then `ws_connect` from
//! `onConnection`, `ws_connect`, `ws_close` or `ws_release` from a final
//! callback, also one reporting a lost connection with state 5).
//!
//! Some connections are started with automatic reconnection
//! (`ws_options.reconnect_initial_ms`, see `Backoff`); the fake port then
//! answers `ws_port_resolve(ws, NULL)` (the wait's port state), sometimes
//! refusing it with `WS_ERR_NO_MEMORY_HANDSHAKE`, and the program fires the
//! timer of a waiting `ws_info`.
//!
//! The port fakes model each `ws_info` from the port's side (`Phase`): a
//! live connection from `ws_port_resolve(ws, host)` to `ws_port_close`, a
//! reconnection's wait from `ws_port_resolve(ws, NULL)` to the
//! `ws_port_resolve(ws, host)` that turns it into the next connection (on
//! the same port state, only from that `ws_info`'s `ws_event_timer`) or to
//! `ws_port_close`. Checked:
//! - at most one live connection or wait per `ws_info`; a connection's
//!   first port call comes from `ws_connect` (or from the timer of a wait);
//!   no port call for a `ws_info` with neither (a wait: only the timer and
//!   `ws_port_close`); `ws->port` NULL at each port state's first call, then
//!   left as the port set it;
//! - a refused `ws_connect` (one on a live connection) calls nothing back,
//!   calls no port function and leaves `connectionState` 1..=3;
//! - every connection that reached the port and was not released gets
//!   exactly one final callback, after its `ws_port_close`, within the same
//!   library call; a final callback without one only for a URL error of
//!   `ws_connect` itself (status != 0, state 4);
//! - a connection started with reconnection and ending with a status != 0
//!   is followed by `ws_port_resolve(ws, NULL)` before its final callback;
//!   accepted: that callback sees state 5, the engine set and the wait's
//!   port state, and, unless the callback ended or began the wait,
//!   `ws_port_timer_arm` follows right after it (and only then), with a
//!   wait in [s/2, s] (s from `reconnect_initial_ms`, doubling up to
//!   `reconnect_max_ms`, back to the start once a connection opens);
//!   refused: `ws_port_close` follows and the callback sees state 4;
//! - otherwise (status 0, reconnection off) no `ws_port_resolve(ws, NULL)`,
//!   and the final callback sees state 4 and no engine, with no port state
//!   left: nothing more happens on that `ws_info` until a new `ws_connect`;
//! - during a wait: `ws_close` ends it with one more final callback (status
//!   0, state 4), `ws_connect` and `ws_release` end it without one, the
//!   timer resolves the next connection, any other event changes nothing;
//! - events for a `ws_info` without a connection change nothing; callbacks
//!   only for a live connection; no engine memory is left once both
//!   `ws_info`s are released at the end of each program.
//!
//! The `unsafe` entry-point calls pass the two boxed `ws_info`s (alive and
//! never moved during the run), C literals, options and buffers with their
//! lengths.

use std::cell::RefCell;
use std::ffi::{c_char, c_int, c_void, CStr};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use super::{accept_for, engine, request_key, Count, LIVE_BLOCKS, LIVE_BYTES};
use websocket::capi::{self, ws_info, ws_options};
use websocket::status::WS_ERR_NO_MEMORY_HANDSHAKE;
use websocket::testkit;
use websocket_fuzz::encode_frame;

static ACTIVE: AtomicBool = AtomicBool::new(false);

/// True while a sequence runs: the port fakes forward here.
pub fn active() -> bool {
    ACTIVE.load(Relaxed)
}

/// The port's view of one `ws_info`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
enum Phase {
    /// No port state.
    #[default]
    None,
    /// A connection: from `ws_port_resolve(ws, host)` to `ws_port_close`.
    Live,
    /// A reconnection's wait: from `ws_port_resolve(ws, NULL)` to
    /// `ws_port_close` or the resolve that starts the next connection.
    /// `refused`: the port answered `WS_ERR_NO_MEMORY_HANDSHAKE`.
    Wait { refused: bool },
}

/// The expected reconnection backoff of a connection started with
/// `reconnect_initial_ms` > 0 (shared by its reconnections).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
struct Backoff {
    initial: u32,
    max: u32,
    step: u32,
}

/// What the ending of a port state owes the caller.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Due {
    /// A connection ended at the port (`ws_port_close`); `reconnect`: it
    /// was started with reconnection; `wait`: `ws_port_resolve(ws, NULL)`
    /// followed (accepted or not).
    Lost { reconnect: bool, wait: Option<bool> },
    /// `ws_close` ended a wait: a final callback with status 0.
    WaitClosed,
}

/// A public call that must act on the wait it was made on (identified by
/// its port cookie) before anything else.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Act {
    /// `ws_close`: ends it (final callback with status 0).
    Close,
    /// `ws_connect`: ends it without a callback.
    Connect,
    /// `ws_release` (also of a live connection): ends it, no callback.
    Release,
    /// `ws_event_timer`: resolves the next connection on it.
    Timer,
}

#[derive(Default)]
struct Conn {
    phase: Phase,
    /// What this fake port keeps in `ws->port` for the current port state
    /// (0: none).
    cookie: usize,
    /// `ws_port_resolve` answered PENDING: `ws_event_resolved` is due.
    resolve_due: bool,
    /// `ws_port_connect` called: `ws_event_connected` may follow.
    connecting: bool,
    connected: bool,
    sent_due: usize,
    /// What the library sent on the live connection.
    out: Vec<u8>,
    /// The connection (chain) was started with reconnection.
    backoff: Option<Backoff>,
    /// The range of the wait's `ws_port_timer_arm` (from the backoff).
    wait_range: (u32, u32),
    /// A final callback is owed (see `Due`).
    due: Option<Due>,
    /// A state-5 final callback returned with its wait pending:
    /// `ws_port_timer_arm` is due before the library call returns.
    arm_due: bool,
    /// Inside `ws_connect` on this `ws_info`, before its resolve: the new
    /// connection's backoff (`Some(None)`: no reconnection).
    starting: Option<Option<Backoff>>,
    /// A call made on a wait (its cookie) that must act on it first.
    expect: Option<(Act, usize)>,
    /// Port calls for this `ws_info`.
    port_calls: usize,
}

#[derive(Default)]
struct Seq {
    program: Vec<u8>,
    at: usize,
    ws: [usize; 2],
    conns: [Conn; 2],
    depth: usize,
    random: u32,
    cookies: usize,
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

/// `ws->port` (the port's field: this fake's cookie).
fn port_field(ws: *mut ws_info) -> usize {
    // SAFETY: the harness's own ws_info, alive during the run.
    unsafe { (*ws).port as usize }
}

/// A port call other than resolve: only for a live connection, or for a
/// wait (accepted) if `wait_ok`. Checks that `ws->port` is still ours.
fn port_call(ws: *mut ws_info, name: &str, wait_ok: bool) -> Option<usize> {
    let i = index(ws);
    let field = port_field(ws);
    let ok = i.is_some_and(|i| {
        sq(|s| {
            let c = &mut s.conns[i];
            c.port_calls += 1;
            if c.phase != Phase::None && field != c.cookie {
                s.problems.push(format!(
                    "ws {i}: ws->port changed under the port ({field:#x}, \
                     set {:#x}) at ws_port_{name}",
                    c.cookie
                ));
            }
            match c.phase {
                Phase::Live => true,
                Phase::Wait { refused } => wait_ok && !refused,
                Phase::None => false,
            }
        })
    });
    if ok {
        i
    } else {
        let phase = i.map(|i| sq(|s| s.conns[i].phase));
        problem(format!("ws_port_{name} on ws {i:?} in phase {phase:?}"));
        None
    }
}

// ---------------------------------------------------------------- the port

pub fn resolve(ws: *mut ws_info, host: *const c_char) -> c_int {
    let _c = Count::set(false);
    let Some(i) = index(ws) else {
        problem("ws_port_resolve for an unknown ws_info".into());
        return -1;
    };
    let field = port_field(ws);
    sq(|s| s.conns[i].port_calls += 1);
    if host.is_null() {
        return resolve_wait(ws, i, field);
    }
    // SAFETY: the library passes a NUL-terminated host name for the call.
    let name = unsafe { CStr::from_ptr(host) }.to_bytes();
    if name != b"127.0.0.1" {
        problem(format!("ws {i}: resolve asked for {name:?}"));
    }
    let b = next_byte().unwrap_or(0);
    let answer = match b % 8 {
        1 | 3 | 5 => capi::WS_PORT_PENDING,
        6 => -1,
        7 if b & 0x80 != 0 => WS_ERR_NO_MEMORY_HANDSHAKE.code(),
        _ => capi::WS_PORT_DONE,
    };
    sq(|s| {
        let mut bad = Vec::new();
        let c = &mut s.conns[i];
        let (cookie, backoff) = match c.phase {
            Phase::Wait { refused: false } => {
                // The wait's turn: only from its ws_event_timer.
                if c.expect == Some((Act::Timer, c.cookie)) {
                    c.expect = None;
                } else {
                    bad.push("a wait resolved outside its ws_event_timer".to_string());
                }
                if field != c.cookie {
                    bad.push(format!(
                        "resolve of a wait with ws->port {field:#x}, not its \
                         state {:#x}",
                        c.cookie
                    ));
                }
                (c.cookie, c.backoff)
            }
            phase => {
                if phase != Phase::None {
                    bad.push(format!(
                        "ws_port_resolve in phase {phase:?} (two live \
                         connections on one ws_info)"
                    ));
                }
                if c.due.is_some() {
                    bad.push(format!(
                        "a connection ended without its final callback ({:?})",
                        c.due
                    ));
                }
                if field != 0 {
                    bad.push(format!("first port call with ws->port {field:#x}"));
                }
                let backoff = c.starting.take().unwrap_or_else(|| {
                    bad.push("a connection started outside ws_connect".into());
                    None
                });
                s.cookies += 0x10;
                (s.cookies, backoff)
            }
        };
        let c = &mut s.conns[i];
        *c = Conn {
            phase: Phase::Live,
            cookie,
            resolve_due: answer == capi::WS_PORT_PENDING,
            backoff,
            port_calls: c.port_calls,
            ..Conn::default()
        };
        s.problems
            .extend(bad.into_iter().map(|b| format!("ws {i}: {b}")));
    });
    // SAFETY: the harness's own ws_info; `port` belongs to the port.
    unsafe { (*ws).port = sq(|s| s.conns[i].cookie) as *mut c_void };
    answer
}

/// `ws_port_resolve(ws, NULL)`: the port state of a reconnection's wait,
/// only right after the end of a connection started with reconnection.
fn resolve_wait(ws: *mut ws_info, i: usize, field: usize) -> c_int {
    let refuse = next_byte().unwrap_or(0) & 3 == 3;
    let cookie = sq(|s| {
        let c = &mut s.conns[i];
        let ok = c.phase == Phase::None
            && c.due
                == Some(Due::Lost {
                    reconnect: true,
                    wait: None,
                });
        if !ok {
            s.problems.push(format!(
                "ws {i}: ws_port_resolve(NULL) in phase {:?}, owing {:?}",
                c.phase, c.due
            ));
        }
        if field != 0 {
            s.problems
                .push(format!("ws {i}: a wait's resolve with ws->port {field:#x}"));
        }
        if let Some(Due::Lost { wait, .. }) = &mut c.due {
            *wait = Some(!refuse);
        }
        if let Some(b) = &mut c.backoff {
            c.wait_range = (b.step / 2, b.step);
            b.step = b.step.saturating_mul(2).min(b.max);
        }
        c.phase = Phase::Wait { refused: refuse };
        c.arm_due = false;
        if refuse {
            c.cookie = 0;
        } else {
            s.cookies += 0x10;
            c.cookie = s.cookies;
        }
        c.cookie
    });
    if refuse {
        return WS_ERR_NO_MEMORY_HANDSHAKE.code();
    }
    // SAFETY: the harness's own ws_info; `port` belongs to the port.
    unsafe { (*ws).port = cookie as *mut c_void };
    capi::WS_PORT_DONE
}

pub fn connect(ws: *mut ws_info) -> c_int {
    let _c = Count::set(false);
    if let Some(i) = port_call(ws, "connect", false) {
        sq(|s| s.conns[i].connecting = true);
    }
    0
}

pub fn send(ws: *mut ws_info, data: &[u8]) -> c_int {
    let _c = Count::set(false);
    if let Some(i) = port_call(ws, "send", false) {
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
    let Some(i) = index(ws) else {
        problem("ws_port_close for an unknown ws_info".into());
        return;
    };
    let field = port_field(ws);
    sq(|s| {
        let c = &mut s.conns[i];
        c.port_calls += 1;
        if c.phase != Phase::None && field != c.cookie {
            s.problems.push(format!(
                "ws {i}: ws->port changed under the port at ws_port_close"
            ));
        }
        let expect = c.expect.filter(|e| e.1 == c.cookie);
        match c.phase {
            Phase::None => s
                .problems
                .push(format!("ws {i}: ws_port_close without a port state")),
            Phase::Live => {
                if expect == Some((Act::Release, c.cookie)) {
                    c.expect = None;
                } else {
                    if c.due.is_some() {
                        s.problems.push(format!(
                            "ws {i}: a connection ended while one still owes \
                             its final callback ({:?})",
                            c.due
                        ));
                    }
                    c.due = Some(Due::Lost {
                        reconnect: c.backoff.is_some(),
                        wait: None,
                    });
                }
            }
            // The library gives up the refused wait before the callback.
            Phase::Wait { refused: true } => {}
            Phase::Wait { refused: false } => match expect {
                Some((Act::Close, _)) => {
                    c.expect = None;
                    c.due = Some(Due::WaitClosed);
                }
                Some((Act::Connect | Act::Release, _)) => c.expect = None,
                _ => s.problems.push(format!(
                    "ws {i}: a wait ended outside ws_close/ws_connect/\
                     ws_release ({expect:?})"
                )),
            },
        }
        c.phase = Phase::None;
        c.cookie = 0;
        c.arm_due = false;
        c.resolve_due = false;
        c.connecting = false;
        c.connected = false;
        c.sent_due = 0;
    });
}

pub fn timer_arm(ws: *mut ws_info, ms: u32) {
    let _c = Count::set(false);
    let Some(i) = port_call(ws, "timer_arm", true) else {
        return;
    };
    sq(|s| {
        let c = &mut s.conns[i];
        if c.phase == Phase::Live {
            return;
        }
        if !std::mem::take(&mut c.arm_due) {
            s.problems.push(format!(
                "ws {i}: a wait's timer armed other than right after its \
                 state-5 final callback"
            ));
        }
        let (lo, hi) = c.wait_range;
        if !(lo..=hi).contains(&ms) {
            s.problems.push(format!(
                "ws {i}: reconnection wait {ms} ms not in [{lo}, {hi}] \
                 (backoff {:?})",
                c.backoff
            ));
        }
    });
}

pub fn timer_disarm(ws: *mut ws_info) {
    let _c = Count::set(false);
    port_call(ws, "timer_disarm", true);
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

/// A callback other than the final one: only on a live connection.
fn live_callback(ws: *mut ws_info, name: &str, connected: bool) {
    let Some(i) = index(ws) else {
        problem(format!("{name} for an unknown ws_info"));
        return;
    };
    sq(|s| {
        let c = &s.conns[i];
        if c.phase != Phase::Live || (connected && !c.connected) {
            s.problems.push(format!(
                "ws {i}: {name} in phase {:?} (TCP up {})",
                c.phase, c.connected
            ));
        }
    });
}

unsafe extern "C" fn on_connection(ws: *mut ws_info) {
    let _c = Count::set(false);
    live_callback(ws, "onConnection", true);
    // SAFETY: the library passes the caller's live ws_info.
    let state = unsafe { (*ws).connectionState };
    if state != 3 {
        problem(format!("onConnection in state {state}"));
    }
    // An opened connection starts its reconnection backoff afresh.
    if let Some(i) = index(ws) {
        sq(|s| {
            if let Some(b) = &mut s.conns[i].backoff {
                b.step = b.initial;
            }
        });
    }
    nested(ws);
}

unsafe extern "C" fn on_receive(ws: *mut ws_info, len: c_int, msg: *mut c_char, _op: c_int) {
    let _c = Count::set(false);
    live_callback(ws, "onReceive", true);
    // SAFETY: the library passes `len` bytes plus a NUL.
    let nul = unsafe { *msg.add(usize::try_from(len).unwrap_or(0)) };
    if nul != 0 {
        problem("message not NUL-terminated".into());
    }
    nested(ws);
}

fn on_final(ws: *mut ws_info, status: c_int) {
    let _c = Count::set(false);
    let Some(i) = index(ws) else {
        problem("final callback for an unknown ws_info".into());
        return;
    };
    // SAFETY: the library passes the caller's ws_info.
    let (state, eng) = unsafe { ((*ws).connectionState, (*ws).engine) };
    let field = port_field(ws);
    // The wait this callback announces (state 5), by its cookie.
    let wait = sq(|s| {
        s.finals[i] += 1;
        let mut bad = Vec::new();
        let c = &mut s.conns[i];
        let want5 = match c.due.take() {
            None => {
                // Only a URL error of ws_connect itself, before any port call.
                if c.starting.take().is_none() || c.phase != Phase::None || status == 0 {
                    bad.push("no connection owes one (nor a URL error of ws_connect)");
                }
                false
            }
            Some(Due::WaitClosed) => {
                if status != 0 {
                    bad.push("ws_close ended a wait with a status != 0");
                }
                false
            }
            Some(Due::Lost { reconnect, wait }) => {
                match (status == 0, reconnect, wait) {
                    (true, _, Some(_)) => bad.push("status 0 followed by a reconnection"),
                    (false, true, None) => {
                        bad.push("started with reconnection, status != 0, no wait made")
                    }
                    (false, false, Some(_)) => bad.push("a wait without reconnection"),
                    _ => {}
                }
                wait == Some(true)
            }
        };
        let wait = if want5 {
            let ok = state == 5
                && !eng.is_null()
                && c.phase == (Phase::Wait { refused: false })
                && field == c.cookie;
            if !ok {
                bad.push("want state 5, the engine and the wait's port state");
            }
            Some(c.cookie)
        } else {
            if state != 4 || !eng.is_null() || c.phase != Phase::None {
                bad.push("want state 4, no engine, no port state");
            }
            None
        };
        let phase = c.phase;
        for b in bad {
            s.problems.push(format!(
                "ws {i}: final callback (status {status}, state {state}, \
                 engine set {}, phase {phase:?}): {b}",
                !eng.is_null()
            ));
        }
        wait
    });
    nested(ws);
    // The wait still pending (not ended nor begun from the callback): the
    // library arms its timer now.
    if let Some(cookie) = wait {
        sq(|s| {
            let c = &mut s.conns[i];
            if c.phase == (Phase::Wait { refused: false }) && c.cookie == cookie {
                c.arm_due = true;
            }
        });
    }
}

unsafe extern "C" fn on_failure(ws: *mut ws_info, status: c_int) {
    on_final(ws, status);
}

unsafe extern "C" fn on_close(
    ws: *mut ws_info,
    status: c_int,
    _code: c_int,
    _reason: *const c_char,
    _len: c_int,
) {
    on_final(ws, status);
}

// ----------------------------------------------------------- the program

const URL: &std::ffi::CStr = c"ws://127.0.0.1:9001/";
const BAD_URL: &std::ffi::CStr = c"ws://:80/";

/// A library call; afterwards nothing is owed: every connection that ended
/// had its final callback, every state-5 callback's wait was armed, every
/// call on a wait acted on it.
fn lib<R>(f: impl FnOnce() -> R) -> R {
    let r = engine(f);
    sq(|s| {
        for (i, c) in s.conns.iter_mut().enumerate() {
            if let Some(d) = c.due.take() {
                s.problems.push(format!(
                    "ws {i}: the library call returned owing a final callback \
                     ({d:?})"
                ));
            }
            if std::mem::take(&mut c.arm_due) {
                s.problems.push(format!(
                    "ws {i}: a wait's timer not armed after its state-5 final \
                     callback"
                ));
            }
            if let Some(e) = c.expect.take() {
                s.problems
                    .push(format!("ws {i}: {e:?} on a wait did not act on it"));
            }
        }
    });
    r
}

fn feed(ws: *mut ws_info, bytes: &[u8]) {
    if bytes.is_empty() {
        return;
    }
    // Allocated outside the counted library call.
    let mut scratch = Vec::with_capacity(bytes.len());
    lib(|| unsafe { testkit::feed_segment(ws, bytes, &mut scratch) });
}

/// Marks a call `act` on ws_info `i`, if it has a wait (or, for a release,
/// a live connection): it must act on it first.
fn expect(i: usize, act: Act) {
    sq(|s| {
        let c = &mut s.conns[i];
        let on = match c.phase {
            Phase::Wait { refused: false } => true,
            Phase::Live => act == Act::Release,
            _ => false,
        };
        if on {
            c.expect = Some((act, c.cookie));
        }
    });
}

/// What an event that must change nothing could change.
fn snapshot(i: usize, ws: *mut ws_info) -> (c_int, usize, usize, Phase, usize) {
    // SAFETY: the harness's own ws_info.
    let state = unsafe { (*ws).connectionState };
    sq(|s| {
        let c = &s.conns[i];
        (state, s.finals[i], c.port_calls, c.phase, c.cookie)
    })
}

/// The reconnection settings of a `ws_connect_with` from one program byte:
/// bits 0-1 `reconnect_initial_ms`, bits 2-3 `reconnect_max_ms` (below the
/// initial one: raised to it).
fn reconnect_options(o: &mut ws_options, cfg: u8) -> Backoff {
    o.reconnect_initial_ms = [1, 7, 40, 1000][usize::from(cfg & 3)];
    match (cfg >> 2) & 3 {
        0 => {} // WS_DEFAULT_RECONNECT_MAX_MS from ws_options_init
        1 => o.reconnect_max_ms = 0,
        2 => o.reconnect_max_ms = 100,
        _ => o.reconnect_max_ms = 5,
    }
    Backoff {
        initial: o.reconnect_initial_ms,
        max: o.reconnect_max_ms.max(o.reconnect_initial_ms),
        step: o.reconnect_initial_ms,
    }
}

/// One operation `op` (0..128) on ws_info `i`.
fn step(i: usize, op: u8) {
    let ws = sq(|s| s.ws[i]) as *mut ws_info;
    let (phase, resolve_due, connecting, connected, sent_due) = sq(|s| {
        let c = &s.conns[i];
        (
            c.phase,
            c.resolve_due,
            c.connecting,
            c.connected,
            c.sent_due,
        )
    });
    let live = phase == Phase::Live;
    let waiting = phase == (Phase::Wait { refused: false });
    match op % 20 {
        // Starting a connection: refused while one is live; a wait is
        // dropped. ws_connect_with: bit 5 onClose, bit 6 reconnection
        // (settings and bit 4 a bad URL from the next byte).
        0..=2 => {
            let finals = sq(|s| s.finals[i]);
            let full = op % 20 == 2;
            let mut o: ws_options = unsafe_zeroed_options();
            unsafe { capi::ws_options_init(&mut o) };
            if op & 0x20 != 0 {
                o.onClose = Some(on_close);
            }
            let mut url = if op % 20 == 1 { BAD_URL } else { URL };
            let mut backoff = None;
            if full && op & 0x40 != 0 {
                let cfg = next_byte().unwrap_or(0);
                backoff = Some(reconnect_options(&mut o, cfg));
                if cfg & 0x10 != 0 {
                    url = BAD_URL;
                }
            }
            expect(i, Act::Connect);
            sq(|s| s.conns[i].starting = Some(backoff));
            lib(|| {
                if full {
                    unsafe { capi::ws_connect_with(ws, url.as_ptr(), &o) }
                } else {
                    unsafe { capi::ws_connect(ws, url.as_ptr()) }
                }
            });
            sq(|s| s.conns[i].starting = None);
            if live {
                // Refused (unless a callback of the live connection ended
                // it meanwhile, which a refused call cannot cause).
                // SAFETY: the harness's own ws_info.
                let state = unsafe { (*ws).connectionState };
                let (f, still) = sq(|s| (s.finals[i], s.conns[i].phase == Phase::Live));
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
            let v = match next_byte().unwrap_or(0) % 7 {
                0 | 1 => 0,
                2 => 4,
                3 => 3,
                4 => 1,
                5 => 5,
                _ => -0x5a5a,
            };
            // SAFETY: the harness's own ws_info.
            unsafe { (*ws).connectionState = v };
        }
        5 if resolve_due => {
            sq(|s| s.conns[i].resolve_due = false);
            let ok = next_byte().unwrap_or(1) & 3 != 0;
            lib(|| unsafe { capi::ws_event_resolved(ws, c_int::from(ok)) });
        }
        6 if connecting && !connected => {
            sq(|s| s.conns[i].connected = true);
            lib(|| unsafe { capi::ws_event_connected(ws) });
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
            lib(|| unsafe { testkit::deliver_sent(ws, 1, take) }).ok();
        }
        10 if connecting => {
            let err = match next_byte().unwrap_or(0) % 3 {
                0 => 0,
                1 => -9,
                _ => -11,
            };
            lib(|| unsafe { capi::ws_event_disconnected(ws, err) });
        }
        // The timer: a live connection's, or a wait's turn (armed or not).
        11 if live || waiting => {
            expect(i, Act::Timer);
            lib(|| unsafe { capi::ws_event_timer(ws) });
        }
        12 => {
            let before = snapshot(i, ws);
            let r = lib(|| unsafe { capi::ws_send_long(ws, 1, c"x".as_ptr(), 1) });
            let after = snapshot(i, ws);
            let same = (before.1, before.2, before.3, before.4)
                == (after.1, after.2, after.3, after.4)
                && (after.0 == before.0 || waiting && after.0 == 5);
            if !live && (r != websocket::status::WS_ERR_NOT_CONNECTED || !same) {
                problem(format!(
                    "ws {i}: ws_send in phase {phase:?} returned {} or changed \
                     something",
                    r.code()
                ));
            }
        }
        13 | 14 => {
            let finals = sq(|s| s.finals[i]);
            expect(i, Act::Close);
            if op % 20 == 13 {
                lib(|| unsafe { capi::ws_close(ws) });
            } else {
                lib(|| unsafe { capi::ws_close_with(ws, 4000, c"r".as_ptr(), 1) });
            }
            // A wait: ended with one final callback (status 0, checked
            // there), which may itself start anything.
            if waiting && sq(|s| s.finals[i]) == finals {
                problem(format!(
                    "ws {i}: ws_close of a wait without a final callback"
                ));
            }
        }
        15 => {
            let finals = sq(|s| s.finals[i]);
            expect(i, Act::Release);
            lib(|| unsafe { capi::ws_release(ws) });
            let (f, phase) = sq(|s| (s.finals[i], s.conns[i].phase));
            if f != finals || phase != Phase::None {
                problem(format!(
                    "ws {i}: ws_release called back ({finals} -> {f}) or left \
                     the port state {phase:?}"
                ));
            }
        }
        16 => {
            let p = lib(|| unsafe { capi::ws_protocol(ws) });
            if !live && !p.is_null() {
                problem(format!("ws {i}: ws_protocol non-NULL in phase {phase:?}"));
            }
        }
        // Stray events for a ws_info without a connection, and a wait's
        // events other than its timer, change nothing.
        17..=19 if !live => {
            let before = snapshot(i, ws);
            match op % 20 {
                // (Not ws_event_disconnected: the port reports that only
                // after ws_port_connect; the library ends any phase on it.)
                17 if waiting => match next_byte().unwrap_or(0) % 3 {
                    0 => lib(|| unsafe { capi::ws_event_resolved(ws, 1) }),
                    1 => lib(|| unsafe { capi::ws_event_resolved(ws, 0) }),
                    _ => lib(|| unsafe { capi::ws_event_connected(ws) }),
                },
                17 => lib(|| unsafe { capi::ws_event_timer(ws) }),
                18 => lib(|| unsafe { capi::ws_event_sent(ws) }),
                _ => feed(ws, &encode_frame(true, 1, None, b"stray")),
            }
            // (The library may write a wait's true state 5 back over a
            // caller's rewrite.)
            let after = snapshot(i, ws);
            let restated = waiting
                && after.0 == 5
                && (before.1, before.2, before.3, before.4) == (after.1, after.2, after.3, after.4);
            if after != before && !restated {
                problem(format!(
                    "ws {i}: a stray event changed something ({before:?} -> {after:?})"
                ));
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
        b.connectionState = if f_bit(data, 2) { 5 } else { 3 };
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
    // No allocation failures here: every check assumes memory.
    websocket::buffer::stats::fail_nth(0);
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
    // Release everything: live connections and waits end without a callback.
    for i in 0..2 {
        step(i, 15);
    }
    ACTIVE.store(false, Relaxed);
    let problems = sq(|s| std::mem::take(&mut s.problems));
    assert!(problems.is_empty(), "sequence problems: {problems:#?}");
    sq(|s| {
        for (i, c) in s.conns.iter().enumerate() {
            assert_eq!(c.phase, Phase::None, "ws {i}: port state after ws_release");
            assert_eq!(c.due, None, "ws {i}: connection without its end");
        }
    });
    assert_eq!(LIVE_BLOCKS.load(Relaxed), 0, "engine blocks leaked");
    assert_eq!(LIVE_BYTES.load(Relaxed), 0, "engine bytes leaked");
    drop((a, b));
}

/// Bit `n` of the first input byte.
fn f_bit(data: &[u8], n: u32) -> bool {
    data.first().is_some_and(|&f| f >> n & 1 != 0)
}
