//! The engine behind a `ws_info`: the registry of live connections, the one
//! way to reach an engine ([`with_engine`]), the drive loop that carries out
//! its actions through the port, teardown, and the user callbacks.

use core::cell::Cell;
use core::ffi::{c_char, c_int, c_void};
use core::ptr;

use super::types::*;
use crate::buffer::{Boxed, Buf};
use crate::client::{Action, Client, Phase, Redial};
use crate::status::{Status, WS_ERR_NO_MEMORY_HANDSHAKE, WS_OK};

/// The engine of one connection. `ws_info.engine` points at it for the
/// caller's information only: the library finds a connection's engine by
/// its `ws_info` address in the registry of live engines ([`Registry`]),
/// never by trusting `ws_info.engine` or `connectionState`, which a caller
/// may leave as garbage (a never-used `ws_info` need not be zeroed) or
/// rewrite between calls.
pub(super) struct Engine {
    /// The `ws_info` this engine belongs to: the registry's key.
    pub(super) ws: *mut ws_info,
    /// The next live engine (registry link), NULL at the end.
    pub(super) next: *mut Engine,
    /// Distinguishes this connection from a later one on the same ws_info.
    pub(super) serial: u32,
    pub(super) on_close: ws_onCloseCallback,
    pub(super) on_fragment: ws_onFragmentCallback,
    /// With `onPong` or reconnection only.
    pub(super) extra: Option<Boxed<Extra>>,
    pub(super) client: Client,
}

// Engine state stays one small allocation per connection: 172 bytes on
// i686, 176 where u64 is 8-aligned (thumbv7em, riscv32, LX106) as of
// writing (200 before the timeouts, port and TLS flag moved into the
// handshake allocation, the timer command became one byte, the mask PRNG
// two words, the send queue's rarely used front buffer an allocation of
// its own and the keep-alive ping count 16 bits).
// The pong and reconnection state (`Engine::extra`) adds one pointer (8
// bytes with the alignment).
#[cfg(target_pointer_width = "32")]
const _: () = assert!(core::mem::size_of::<Engine>() <= 176 + 8);

/// What a connection with `onPong` or reconnection keeps (its own
/// allocation: none for the others).
pub(super) struct Extra {
    pub(super) pong: Pong,
    /// Reconnection on (`reconnect_initial_ms` > 0).
    pub(super) redial: Option<Redial>,
}

/// The pong event's state (`on_pong` NULL: pongs are not reported).
pub(super) struct Pong {
    pub(super) on_pong: ws_onPongCallback,
    pub(super) clock_us: ws_clockCallback,
    /// `clock_us` when our most recent ping went into the send queue.
    pub(super) ping_at: u32,
    /// A ping of ours awaits its first pong (for the round-trip time).
    pub(super) ping_out: bool,
}

/// Reads the connection's clock (0 without one).
pub(super) fn now_us(clock: ws_clockCallback) -> u32 {
    // SAFETY: the caller's clock function, which takes no argument and
    // must not call the library (documented on `ws_clockCallback`).
    clock.map_or(0, |f| unsafe { f() })
}

impl Engine {
    /// Our ping went into the send queue: the next pong is timed from now.
    pub(super) fn stamp_ping(&mut self) {
        if let Some(p) = self.extra.as_mut().map(|x| &mut x.pong) {
            if p.on_pong.is_some() {
                p.ping_at = now_us(p.clock_us);
                p.ping_out = true;
            }
        }
    }
}

/// The live engines (a singly linked list through `Engine::next`, one node
/// per `ws_info` with a live connection) and the connection counter behind
/// `Engine::serial`. Plain cells, not atomics: the LX106 (ESP8266) has no
/// atomic instructions, so an atomic load/store would become a libcall the
/// firmware does not provide.
///
/// A node is linked by `ws_connect_with` right after its allocation and
/// unlinked by `teardown` right before it is freed, so every node is a live
/// engine. Only pointer values (never the caller's fields) decide whether a
/// `ws_info` has a connection: garbage in a never-used `ws_info` and any
/// `connectionState` a caller writes are harmless, and `ws_connect` can
/// refuse a second connection on a `ws_info` whose first one is live.
pub(super) struct Registry {
    head: Cell<*mut Engine>,
    serial: Cell<u32>,
    /// The engine being torn down while `ws_port_close` runs (for
    /// `ws_hold_sending`), else NULL.
    closing: Cell<*mut Engine>,
    /// During a final callback: its `ws_info` and the server's HTTP
    /// status (`ws_http_status`).
    ending: Cell<(*mut ws_info, u16)>,
}

impl Registry {
    const fn new() -> Registry {
        Registry {
            head: Cell::new(ptr::null_mut()),
            serial: Cell::new(0),
            closing: Cell::new(ptr::null_mut()),
            ending: Cell::new((ptr::null_mut(), 0)),
        }
    }
}

/// The HTTP status of `ws`'s refused handshake while its final callback
/// runs, else 0.
pub(super) fn ending_http_status(ws: *mut ws_info) -> u16 {
    registry(|r| match r.ending.get() {
        (w, h) if w == ws => h,
        _ => 0,
    })
}

// SAFETY: the library is single-threaded by contract (every entry point is
// called from the platform's one event loop, never concurrently), so the
// cells are never accessed from two threads. (Host builds with `std` keep
// one registry per thread instead, see `registry`.)
#[cfg(not(any(test, feature = "std")))]
unsafe impl Sync for Registry {}

#[cfg(not(any(test, feature = "std")))]
static REGISTRY: Registry = Registry::new();

/// Runs `f` on the registry. Host builds (`std`: tests, benches, fuzzing)
/// keep one per thread, so the test harness's threads each have their own
/// connections; a connection is then used from the thread that made it.
#[inline(always)]
pub(super) fn registry<R>(f: impl FnOnce(&Registry) -> R) -> R {
    #[cfg(not(any(test, feature = "std")))]
    {
        f(&REGISTRY)
    }
    #[cfg(any(test, feature = "std"))]
    {
        std::thread_local! {
            static REGISTRY: Registry = const { Registry::new() };
        }
        REGISTRY.with(f)
    }
}

pub(super) fn next_serial() -> u32 {
    registry(|r| {
        let s = r.serial.get().wrapping_add(1);
        r.serial.set(s);
        s
    })
}

/// The live engine of `ws`, or NULL. Compares pointer values only: `*ws`
/// is not read. Not inlined: one copy serves every entry point (flash);
/// the hot paths use [`lookup`].
#[inline(never)]
pub(super) fn find(ws: *mut ws_info) -> *mut Engine {
    let mut p = registry(|r| r.head.get());
    while !p.is_null() {
        // SAFETY: every node in the registry is a live engine (see
        // `Registry`); no reference to it is alive here (callers hold none
        // while they look up).
        unsafe {
            if (*p).ws == ws {
                return p;
            }
            p = (*p).next;
        }
    }
    p
}

/// [`find`] for the hot paths (sending, receiving, `ws_event_sent`): the
/// first node, usually the only connection, is checked inline.
#[inline(always)]
pub(super) fn lookup(ws: *mut ws_info) -> *mut Engine {
    let head = registry(|r| r.head.get());
    // SAFETY: as in `find`.
    if !head.is_null() && unsafe { (*head).ws } == ws {
        return head;
    }
    find(ws)
}

/// Makes `ws`'s live engine of a new connection with `client` (the
/// engine's `serial` fresh, `connectionState` the client's). Returns the
/// serial, or `None` without memory (nothing made). `ws` must have no
/// live engine.
pub(super) fn attach(
    ws: *mut ws_info,
    client: Client,
    on_close: ws_onCloseCallback,
    on_fragment: ws_onFragmentCallback,
    extra: Option<Boxed<Extra>>,
) -> Option<u32> {
    let serial = next_serial();
    let state = client.connection_state();
    let e = Boxed::new(Engine {
        ws,
        next: ptr::null_mut(),
        serial,
        on_close,
        on_fragment,
        extra,
        client,
    })
    .ok()?
    .into_raw();
    registry(|r| {
        // SAFETY: `e` is a live engine made by `Boxed::into_raw`, not yet in
        // the registry, and no reference to it is alive.
        unsafe { (*e).next = r.head.get() };
        r.head.set(e);
    });
    // SAFETY: valid ws; the engine is its live engine from now on.
    unsafe {
        (*ws).engine = e as *mut c_void;
        (*ws).connectionState = state;
    }
    Some(serial)
}

/// Removes `e` from the registry (before it is freed).
pub(super) fn unlink(e: *mut Engine) {
    registry(|r| {
        let mut at: &Cell<*mut Engine> = &r.head;
        loop {
            let p = at.get();
            if p.is_null() {
                return;
            }
            if p == e {
                // SAFETY: `p` is a live engine in the registry.
                at.set(unsafe { (*p).next });
                return;
            }
            // SAFETY: `p` is a live engine in the registry; `next` is a
            // plain pointer field, viewed as a cell to relink it in place
            // (Cell<T> has the layout of T).
            at = unsafe { &*(ptr::addr_of_mut!((*p).next) as *const Cell<*mut Engine>) };
        }
    });
}

/// Runs `f` on the live engine of `ws` if it has one (and, with `serial`,
/// only if it is still the same connection), then writes the connection's
/// state into `ws.connectionState`. The borrow ends with `f`.
pub(super) fn with_engine<R>(
    ws: *mut ws_info,
    serial: Option<u32>,
    f: impl FnOnce(&mut Engine) -> R,
) -> Option<R> {
    with_engine_at(ws, find(ws), serial, f)
}

/// `with_engine` on `p`, the result of `find(ws)` or `lookup(ws)` with no
/// user callback since (port functions call nothing back, so the engine
/// outlives them).
#[inline(always)]
pub(super) fn with_engine_at<R>(
    ws: *mut ws_info,
    p: *mut Engine,
    serial: Option<u32>,
    f: impl FnOnce(&mut Engine) -> R,
) -> Option<R> {
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` is the live engine of `ws` (found in the registry, so
    // `ws` is the non-NULL ws_info it was made for, and still there: no
    // callback ran since). No other reference to the engine exists:
    // callbacks run outside `with_engine` closures.
    let e = unsafe { &mut *p };
    if serial.is_some_and(|s| s != e.serial) {
        return None;
    }
    let r = f(e);
    let state = e.client.connection_state();
    // SAFETY: `ws` is the caller's live ws_info; `e` is not used after this point.
    unsafe { (*ws).connectionState = state };
    Some(r)
}

/// Detaches and frees the live engine of `ws` (if any), stops the port,
/// sets `connectionState` 4. No callback. If the port holds the chunk it
/// may still read (`ws_hold_sending` from inside `ws_port_close`), the
/// engine is kept, with nothing but its send queue, until `ws_free_held`.
pub(super) fn teardown(ws: *mut ws_info) {
    let p = find(ws);
    if p.is_null() {
        return;
    }
    unlink(p);
    registry(|r| r.closing.set(p));
    // SAFETY: `ws` is the ws_info of the engine `p` (non-NULL); `p` was
    // made by `Boxed::<Engine>::into_raw`, is now out of the registry and
    // referenced nowhere else, so it is freed exactly once: here, or (its
    // `ws` cleared by `ws_hold_sending`) by the port's `ws_free_held`,
    // which the port never calls from inside `ws_port_close`.
    unsafe {
        (*ws).engine = ptr::null_mut();
        (*ws).connectionState = 4;
        ws_port_close(ws);
        registry(|r| r.closing.set(ptr::null_mut()));
        if !(*p).ws.is_null() {
            drop(Boxed::from_raw(p));
        }
    }
}

/// `ws_hold_sending`: inside `ws_port_close(ws)`, keeps the engine being
/// torn down if a chunk it handed to the port may still be read; returns
/// it as the handle (NULL: nothing held).
pub(super) fn hold_sending(ws: *mut ws_info) -> *mut Engine {
    let p = registry(|r| r.closing.get());
    // SAFETY: `closing` is the engine `teardown` is freeing, alive until
    // `ws_port_close` returns (this runs inside it); no other reference
    // to it exists.
    unsafe {
        if p.is_null() || (*p).ws != ws || !(*p).client.sending() {
            return ptr::null_mut();
        }
        (*p).ws = ptr::null_mut();
        (*p).client.keep_only_sending();
    }
    p
}

/// The end of a connection as reported to the caller.
pub(super) struct Ending {
    on_close: ws_onCloseCallback,
    /// Close code, -1 for none.
    code: c_int,
    /// The server's HTTP status of a refused handshake, 0 for none.
    http: u16,
    /// With `onClose` only: the engine's buffer holding the close reason
    /// from `at` on, freed after the callback.
    info: Buf,
    at: usize,
}

impl Ending {
    pub(super) const fn none(on_close: ws_onCloseCallback) -> Ending {
        Ending {
            on_close,
            code: -1,
            http: 0,
            info: Buf::new(),
            at: 0,
        }
    }

    fn of(e: &mut Engine) -> Ending {
        let mut end = Ending::none(e.on_close);
        end.http = e.client.http_status();
        if end.on_close.is_some() {
            if let Some((code, info, at)) = e.client.take_close_info() {
                end.code = c_int::from(code);
                end.info = info;
                end.at = at;
            }
        }
        end
    }
}

/// The final callback: `onClose` if the connection has one, else `onFailure`.
pub(super) fn call_failure(ws: *mut ws_info, st: Status, end: &Ending) {
    // For `ws_http_status` during the callback (which may end another
    // connection's callback nested in it: restored after).
    let outer = registry(|r| r.ending.replace((ws, end.http)));
    // SAFETY: `ws` is valid; the callback is the caller's, called with no
    // engine borrow alive; `reason` points at `reason_len` bytes of `end`,
    // alive during the call.
    unsafe {
        if let Some(cb) = end.on_close {
            let r = end.info.as_slice().get(end.at..).unwrap_or(&[]);
            let reason = if end.code < 0 {
                ptr::null()
            } else {
                r.as_ptr() as *const c_char
            };
            let len = c_int::try_from(r.len()).unwrap_or(0);
            cb(ws, st.code(), end.code, reason, len);
        } else if let Some(cb) = (*ws).onFailure {
            cb(ws, st.code());
        }
    }
    registry(|r| r.ending.set(outer));
}

pub(super) fn call_connection(ws: *mut ws_info) {
    // SAFETY: as in `call_failure`.
    unsafe {
        if let Some(cb) = (*ws).onConnection {
            cb(ws);
        }
    }
}

/// `onPong` with the pong's payload and the time since our ping.
pub(super) fn call_pong(ws: *mut ws_info, payload: *const u8, len: usize) {
    let Some(Some((cb, clock, at, out))) = with_engine(ws, None, |e| {
        let p = &mut e.extra.as_mut()?.pong;
        let out = core::mem::replace(&mut p.ping_out, false);
        Some((p.on_pong, p.clock_us, p.ping_at, out))
    }) else {
        return;
    };
    let rtt = if out && clock.is_some() {
        c_int::try_from(now_us(clock).wrapping_sub(at)).unwrap_or(c_int::MAX)
    } else {
        -1
    };
    if let Some(cb) = cb {
        let len = c_int::try_from(len).unwrap_or(0);
        // SAFETY: as in `call_failure`; `payload` points at `len` bytes
        // valid during the call.
        unsafe { cb(ws, payload as *const c_char, len, rtt) };
    }
}

pub(super) fn call_receive(ws: *mut ws_info, msg: *mut u8, len: usize, opcode: u8) {
    let len = c_int::try_from(len).unwrap_or(c_int::MAX);
    // SAFETY: as in `call_failure`; `msg` points at `len` bytes plus a NUL
    // that stay valid during the call.
    unsafe {
        if let Some(cb) = (*ws).onReceive {
            cb(ws, len, msg as *mut c_char, c_int::from(opcode));
        }
    }
}

/// What `drive` does next, copied out of the engine borrow.
pub(super) enum Do {
    Idle,
    Connect(u16, bool),
    Send(*const u8, u16),
    Arm(u32),
    Disarm,
    Opened,
    Finish(Status, Ending),
}

/// Carries out the engine's actions until it is idle or gone.
pub(super) fn drive(ws: *mut ws_info) {
    drive_at(ws, find(ws));
}

/// `drive` for `p`, found as for `with_engine_at`. The engine is looked up
/// again only after a user callback (`onConnection` may end it).
pub(super) fn drive_at(ws: *mut ws_info, mut p: *mut Engine) {
    loop {
        let next = with_engine_at(ws, p, None, |e| match e.client.poll() {
            Action::Idle => Do::Idle,
            Action::Connect { port, secure } => Do::Connect(port, secure),
            Action::Send(b) => Do::Send(b.as_ptr(), u16::try_from(b.len()).unwrap_or(u16::MAX)),
            Action::ArmTimer(ms) => Do::Arm(ms),
            Action::DisarmTimer => Do::Disarm,
            Action::Opened => Do::Opened,
            Action::Finish(st) => Do::Finish(st, Ending::of(e)),
        });
        let Some(next) = next else { return };
        match next {
            Do::Idle => return,
            Do::Connect(port, secure) => {
                // SAFETY: port function called with a valid ws; it calls no event before returning.
                let r = unsafe { ws_port_connect(ws, port, c_int::from(secure)) };
                if r < 0 {
                    with_engine_at(ws, p, None, |e| e.client.port_error(r));
                }
            }
            Do::Send(b, n) => {
                // SAFETY: `b..b+n` lies in the engine's send queue, which
                // keeps it unchanged until its sent event (or past
                // `ws_port_close` if held); the port calls no event before
                // returning.
                let r = unsafe { ws_port_send(ws, b, n) };
                with_engine_at(ws, p, None, |e| e.client.send_result(r));
            }
            // SAFETY: valid ws, plain port calls.
            Do::Arm(ms) => unsafe { ws_port_timer_arm(ws, ms) },
            // SAFETY: valid ws, plain port call.
            Do::Disarm => unsafe { ws_port_timer_disarm(ws) },
            Do::Opened => {
                with_engine_at(ws, p, None, |e| {
                    if let Some(r) = e.extra.as_mut().and_then(|x| x.redial.as_mut()) {
                        r.backoff.reset();
                    }
                });
                call_connection(ws);
                p = find(ws);
            }
            Do::Finish(st, end) => {
                finish(ws, st, &end);
                return;
            }
        }
    }
}

/// Starts resolving `host` (NUL-terminated) for the connection of `ws`,
/// then carries out what follows.
pub(super) fn resolve(ws: *mut ws_info, host: *const c_char) {
    // SAFETY: valid ws and a NUL-terminated host name, alive during the
    // call (the port copies what it keeps and calls no event back).
    let r = unsafe { ws_port_resolve(ws, host) };
    if r == WS_ERR_NO_MEMORY_HANDSHAKE.code() {
        with_engine(ws, None, |e| {
            e.client.resolve_failed(WS_ERR_NO_MEMORY_HANDSHAKE)
        });
    } else if r != WS_PORT_PENDING {
        with_engine(ws, None, |e| e.client.resolved(r == WS_PORT_DONE));
    }
    drive(ws);
}

/// The connection of `ws` is over with `st`: tears it down and reports
/// it. With reconnection on and a non-zero status, the next connection
/// is set up first (so the final callback sees `connectionState` 5 and
/// may cancel it with `ws_close`), and its wait starts after the callback
/// if it is still pending.
#[inline(never)]
fn finish(ws: *mut ws_info, st: Status, end: &Ending) {
    let kept = with_engine(ws, None, |e| {
        let redial = e.extra.as_ref().is_some_and(|x| x.redial.is_some());
        let extra = if redial && st != WS_OK {
            e.extra.take()
        } else {
            None
        };
        (extra, e.on_close, e.on_fragment)
    });
    teardown(ws);
    let next = match kept {
        Some((Some(extra), on_close, on_fragment)) => redial(ws, extra, on_close, on_fragment),
        _ => None,
    };
    call_failure(ws, st, end);
    if let Some((serial, wait)) = next {
        let waiting = with_engine(ws, Some(serial), |e| e.client.phase() == Phase::Waiting);
        if waiting == Some(true) {
            // SAFETY: valid ws, plain port call.
            unsafe { ws_port_timer_arm(ws, wait) };
        }
    }
}

/// 16 random bytes from the port.
pub(super) fn random16() -> [u8; 16] {
    let mut b = [0u8; 16];
    // SAFETY: `b` is a writable buffer of 16 bytes.
    unsafe { ws_port_random(b.as_mut_ptr(), b.len()) };
    b
}

/// SHA-1 through the port (`ws_port_sha1`: the ESP8266 ROM's on the device).
pub(super) fn sha1(data: &[u8]) -> [u8; 20] {
    let mut d = [0u8; 20];
    // SAFETY: `data` is readable for `data.len()` bytes, `d` writable for 20.
    unsafe { ws_port_sha1(data.as_ptr(), data.len(), d.as_mut_ptr()) };
    d
}

/// Makes the next connection of `ws` (its engine waiting, live, with
/// `connectionState` 5) and the port state for its timer. Returns its
/// serial and the wait, or `None` (nothing made: no reconnection) without
/// memory.
#[inline(never)]
fn redial(
    ws: *mut ws_info,
    mut extra: Boxed<Extra>,
    on_close: ws_onCloseCallback,
    on_fragment: ws_onFragmentCallback,
) -> Option<(u32, u32)> {
    let (key, mask) = (random16(), random16());
    // No ping of the new connection is out yet.
    extra.pong.ping_out = false;
    let r = extra.redial.as_mut()?;
    // The jitter from the key's random bytes (the key is no secret).
    let wait = r
        .backoff
        .next_wait(u32::from_le_bytes([key[0], key[1], key[2], key[3]]));
    let client = r.next_client(&key, mask, sha1).ok()?;
    let serial = attach(ws, client, on_close, on_fragment, Some(extra))?;
    // SAFETY: valid ws; the lost connection's port state is gone
    // (`ws_port_close`): the port finds `port` NULL at the wait's first
    // call, as at a connection's; then a plain port call.
    if unsafe {
        (*ws).port = ptr::null_mut();
        ws_port_resolve(ws, ptr::null())
    } != WS_PORT_DONE
    {
        teardown(ws);
        return None;
    }
    Some((serial, wait))
}

/// Runs `f` on the client of `ws` (if it has one), then carries out the
/// actions it queued.
pub(super) fn run<R>(ws: *mut ws_info, f: impl FnOnce(&mut Client) -> R) -> Option<R> {
    run_at(ws, find(ws), f)
}

/// `run` on `p`, found as for `with_engine_at`.
#[inline(always)]
pub(super) fn run_at<R>(
    ws: *mut ws_info,
    p: *mut Engine,
    f: impl FnOnce(&mut Client) -> R,
) -> Option<R> {
    let (r, act) = with_engine_at(ws, p, None, |e| {
        let r = f(&mut e.client);
        (r, e.client.has_actions())
    })?;
    if act {
        drive_at(ws, p);
    }
    Some(r)
}
