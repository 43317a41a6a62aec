//! The C ABI: `ws_info`, the entry points, the `ws_event_*` functions the
//! port calls, and the `ws_port_*` functions the port implements.
//!
//! Re-entrancy: no Rust reference to the engine is alive while user code
//! (a callback) or port code runs. Every access to the engine goes through
//! `with_engine`, whose closure only calls engine methods.
#![allow(non_camel_case_types, non_snake_case)]
// The exported functions take raw pointers from C by design; C callers
// cannot see Rust's `unsafe`, and every dereference is checked for NULL and
// justified where it happens.
#![allow(clippy::not_unsafe_ptr_arg_deref)]
#![deny(unsafe_op_in_unsafe_fn)]

use core::cell::Cell;
use core::ffi::{c_char, c_int, c_ushort, c_void, CStr};
use core::marker::PhantomData;
use core::ptr;

use crate::buffer::{Boxed, Buf};
use crate::client::{Action, Client, Options, Rx, UserOpcode};
use crate::handshake::Header;
use crate::status;
use crate::url;

/// One extra request header; arrays of them end with `{NULL, NULL}`.
#[repr(C)]
pub struct header_t {
    pub key: *mut c_char,
    pub value: *mut c_char,
}

/// Called once the opening handshake has succeeded.
pub type ws_onConnectionCallback = Option<unsafe extern "C" fn(ws: *mut ws_info)>;
/// Called with each whole message; `message[len]` is `'\0'`; the pointer is
/// valid during the call only. `opCode`: 1 text, 2 binary.
pub type ws_onReceiveCallback =
    Option<unsafe extern "C" fn(ws: *mut ws_info, len: c_int, message: *mut c_char, opCode: c_int)>;
/// Called exactly once per connection with its final status (`WS_OK` or a
/// `WS_ERR_*` code, or an espconn error minus 100).
pub type ws_onFailureCallback = Option<unsafe extern "C" fn(ws: *mut ws_info, errorCode: c_int)>;
/// Optional replacement for `onFailure` (set in `ws_options`): called
/// exactly once per connection, at the same point, with the final status and
/// the server's close frame: its `code` (1005 when it carried none) and its
/// `reason` (`reason_len` bytes, not NUL-terminated, valid during the call
/// only); `code` -1, `reason` NULL and `reason_len` 0 when no valid close
/// frame was received.
pub type ws_onCloseCallback = Option<
    unsafe extern "C" fn(
        ws: *mut ws_info,
        status: c_int,
        code: c_int,
        reason: *const c_char,
        reason_len: c_int,
    ),
>;
/// Streaming (set in `ws_options`): called with each piece of a received
/// data message as it arrives, instead of `onReceive`. `chunk` holds `len`
/// bytes, is NOT NUL-terminated and is valid during the call only; `opCode`
/// is the message's (1 or 2) on every piece; `fin` is 1 on its last piece.
pub type ws_onFragmentCallback = Option<
    unsafe extern "C" fn(
        ws: *mut ws_info,
        chunk: *const c_char,
        len: c_int,
        opCode: c_int,
        fin: c_int,
    ),
>;

/// A connection, allocated by the caller. Before the first `ws_connect`
/// only `connectionState` (0), `extraHeaders`, `reservedData` and the
/// callbacks need to be set; the rest may be garbage.
#[repr(C)]
pub struct ws_info {
    /// Written by the library; the caller sets 0 before the first
    /// `ws_connect` and otherwise only reads it:
    ///
    /// * 0 never connected (the library never writes 0).
    /// * 1 resolving: set by `ws_connect` once the URL is valid, before
    ///   `ws_port_resolve`.
    /// * 2 TCP (TLS) connecting: the name is resolved (`ws_event_resolved`,
    ///   or at once inside `ws_connect` when the port resolves at once).
    /// * 3 connected: from `ws_event_connected` through the opening
    ///   handshake, the open connection and any closing handshake
    ///   (`ws_close`, the server's close frame, a protocol error's close)
    ///   until the connection is torn down.
    /// * 4 ended: the connection is torn down (port closed, memory freed).
    ///   Set right before the final `onFailure`/`onClose` call, by
    ///   `ws_release`, and by `ws_connect` for a URL error (reported at
    ///   once through `onFailure`).
    ///
    /// The library decides nothing on this field: a caller that rewrites it
    /// cannot make the library start a second connection on a `ws_info`
    /// whose connection is live (see `ws_connect`), and the library writes
    /// the true state back at its next call on that `ws_info`.
    pub connectionState: c_int,
    /// Extra request headers, or NULL.
    pub extraHeaders: *mut header_t,
    /// The caller's.
    pub reservedData: *mut c_void,
    pub onConnection: ws_onConnectionCallback,
    pub onReceive: ws_onReceiveCallback,
    pub onFailure: ws_onFailureCallback,
    /// Library private: set by `ws_connect`.
    pub engine: *mut c_void,
    /// Port private: set by the port from `ws_port_resolve` on.
    pub port: *mut c_void,
}

/// Tunables for `ws_connect_with`. Always fill with `ws_options_init` first,
/// then set fields: fields may be added at the end in later versions.
#[repr(C)]
pub struct ws_options {
    /// Largest received message in bytes (default `WS_DEFAULT_MAX_MESSAGE`).
    pub max_message: u32,
    /// End of DNS resolution until the handshake is done (default 10000).
    pub connect_timeout_ms: u32,
    /// Silence before a ping (default 30000); 0 disables keep-alive.
    pub ping_interval_ms: u32,
    /// Silence after the first unanswered ping before -19 (default 60000).
    pub pong_timeout_ms: u32,
    /// Closing handshake deadline (default 5000).
    pub close_timeout_ms: u32,
    /// `Sec-WebSocket-Protocol` offered, comma-separated (e.g. "a, b"):
    /// NULL = the default "chat", "" = no protocol header. The server must
    /// choose one of them or none, else -7. Read during `ws_connect_with`
    /// only. An extra header of that name takes precedence.
    pub protocols: *const c_char,
    /// Called instead of `onFailure` when set (default NULL).
    pub onClose: ws_onCloseCallback,
    /// When set, data messages are streamed to it instead of `onReceive`:
    /// no reassembly buffer and no `max_message` limit (default NULL).
    pub onFragment: ws_onFragmentCallback,
}

/// Default `max_message`: 1 MiB.
pub const WS_DEFAULT_MAX_MESSAGE: u32 = 1048576;
/// Largest handshake response header block accepted (else -27).
pub const WS_MAX_HANDSHAKE_RESPONSE: u32 = 8192;
/// `ws_port_resolve`: `ws_event_resolved` will follow.
pub const WS_PORT_PENDING: c_int = 0;
/// `ws_port_resolve`: resolved at once, no event follows.
pub const WS_PORT_DONE: c_int = 1;
/// `ws_port_send`: refused for now, retry after the next `ws_event_sent`.
pub const WS_PORT_BUSY: c_int = 1;

// The status codes (`WS_OK`, `WS_ERR_*`) and their type `ws_status` are
// defined once, in src/status.rs, which cbindgen reads as well.
pub use crate::status::*;

const _: () = {
    assert!(WS_PORT_BUSY == crate::client::PORT_BUSY);
    assert!(WS_MAX_HANDSHAKE_RESPONSE as usize == crate::handshake::MAX_RESPONSE);
};

// The port: implemented by the platform (nodemcu-glue/ or the host runtime).
// Rules: a port function never calls a ws_event_* function before it
// returns (events come from the platform's event loop only). For one
// connection the first port call is ws_port_resolve and the last is
// ws_port_close; no event follows ws_port_close and the port no longer
// touches *ws after it. ws->port belongs to the port (set from
// ws_port_resolve on, garbage before); ws->engine belongs to the library.
extern "C" {
    /// Port: resolve `host`. Returns `WS_PORT_PENDING` (`ws_event_resolved`
    /// follows), `WS_PORT_DONE` (resolved at once, no event follows) or < 0
    /// (failed: status -5). The first port call of a connection; sets `ws->port`.
    pub fn ws_port_resolve(ws: *mut ws_info, host: *const c_char) -> c_int;
    /// Port: connect TCP (TLS when `secure`). Returns 0 (`ws_event_connected`
    /// or `ws_event_disconnected` follows) or an espconn error (< 0).
    pub fn ws_port_connect(ws: *mut ws_info, port: u16, secure: c_int) -> c_int;
    /// Port: send `len` <= 65535 bytes; the port copies them. Returns 0 =
    /// accepted (exactly one `ws_event_sent` follows), `WS_PORT_BUSY` = refused
    /// for now (only while a `ws_event_sent` is still due), or an espconn error
    /// (< 0: the connection fails with err - 100).
    pub fn ws_port_send(ws: *mut ws_info, data: *const u8, len: u16) -> c_int;
    /// Port: drop TCP (deferred as the platform needs), stop the timer, free
    /// port state. The last port call of a connection: no event for `ws`
    /// afterwards, and the port no longer touches `*ws`.
    pub fn ws_port_close(ws: *mut ws_info);
    /// Port: one-shot timer per connection; arming again replaces it.
    /// Expiry calls `ws_event_timer`.
    pub fn ws_port_timer_arm(ws: *mut ws_info, ms: u32);
    /// Port: stop the timer.
    pub fn ws_port_timer_disarm(ws: *mut ws_info);
    /// Port: fill `buf` with `len` random bytes (`os_random` on the device).
    pub fn ws_port_random(buf: *mut u8, len: usize);
}

/// The engine of one connection. `ws_info.engine` points at it for the
/// caller's information only: the library finds a connection's engine by
/// its `ws_info` address in the registry of live engines ([`Registry`]),
/// never by trusting `ws_info.engine` or `connectionState`, which a caller
/// may leave as garbage (a never-used `ws_info` need not be zeroed) or
/// rewrite between calls.
struct Engine {
    /// The `ws_info` this engine belongs to: the registry's key.
    ws: *mut ws_info,
    /// The next live engine (registry link), NULL at the end.
    next: *mut Engine,
    /// Distinguishes this connection from a later one on the same ws_info.
    serial: u32,
    on_close: ws_onCloseCallback,
    on_fragment: ws_onFragmentCallback,
    client: Client,
}

// Engine state stays one small allocation per connection (200 bytes on
// 32-bit targets as of writing; the goal is <= 200).
#[cfg(target_pointer_width = "32")]
const _: () = assert!(core::mem::size_of::<Engine>() <= 200);

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
struct Registry {
    head: Cell<*mut Engine>,
    serial: Cell<u32>,
}

impl Registry {
    const fn new() -> Registry {
        Registry {
            head: Cell::new(ptr::null_mut()),
            serial: Cell::new(0),
        }
    }
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
fn registry<R>(f: impl FnOnce(&Registry) -> R) -> R {
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

fn next_serial() -> u32 {
    registry(|r| {
        let s = r.serial.get().wrapping_add(1);
        r.serial.set(s);
        s
    })
}

/// The live engine of `ws`, or NULL. Compares pointer values only: `*ws`
/// is not read.
#[inline(always)]
fn find(ws: *mut ws_info) -> *mut Engine {
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

/// Links a new engine into the registry.
fn link(e: *mut Engine) {
    registry(|r| {
        // SAFETY: `e` is a live engine made by `Boxed::into_raw`, not yet in
        // the registry, and no reference to it is alive.
        unsafe { (*e).next = r.head.get() };
        r.head.set(e);
    });
}

/// Removes `e` from the registry (before it is freed).
fn unlink(e: *mut Engine) {
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
fn with_engine<R>(
    ws: *mut ws_info,
    serial: Option<u32>,
    f: impl FnOnce(&mut Engine) -> R,
) -> Option<R> {
    let p = find(ws);
    if p.is_null() {
        return None;
    }
    // SAFETY: `p` is the live engine of `ws` (found in the registry, so
    // `ws` is the non-NULL ws_info it was made for). No other reference to
    // the engine exists: callbacks run outside `with_engine` closures.
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
/// sets `connectionState` 4. No callback.
fn teardown(ws: *mut ws_info) {
    let p = find(ws);
    if p.is_null() {
        return;
    }
    unlink(p);
    // SAFETY: `ws` is the ws_info of the engine `p` (non-NULL); `p` was
    // made by `Boxed::<Engine>::into_raw`, is now out of the registry and
    // referenced nowhere else, so it is freed exactly once.
    unsafe {
        (*ws).engine = ptr::null_mut();
        (*ws).connectionState = 4;
        ws_port_close(ws);
        drop(Boxed::from_raw(p));
    }
}

/// The end of a connection as reported to the caller.
struct Ending {
    on_close: ws_onCloseCallback,
    /// Close code, -1 for none.
    code: c_int,
    /// With `onClose` only: the engine's buffer holding the close reason
    /// from `at` on, freed after the callback.
    info: Buf,
    at: usize,
}

impl Ending {
    const fn none(on_close: ws_onCloseCallback) -> Ending {
        Ending {
            on_close,
            code: -1,
            info: Buf::new(),
            at: 0,
        }
    }

    fn of(e: &mut Engine) -> Ending {
        let mut end = Ending::none(e.on_close);
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
fn call_failure(ws: *mut ws_info, st: Status, end: &Ending) {
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
}

fn call_connection(ws: *mut ws_info) {
    // SAFETY: as in `call_failure`.
    unsafe {
        if let Some(cb) = (*ws).onConnection {
            cb(ws);
        }
    }
}

fn call_receive(ws: *mut ws_info, msg: *mut u8, len: usize, opcode: u8) {
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
enum Do {
    Idle,
    Connect(u16, bool),
    Send(*const u8, u16),
    Arm(u32),
    Disarm,
    Opened,
    Finish(Status, Ending),
}

/// Carries out the engine's actions until it is idle or gone.
fn drive(ws: *mut ws_info) {
    loop {
        let next = with_engine(ws, None, |e| match e.client.poll() {
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
                    with_engine(ws, None, |e| e.client.port_error(r));
                }
            }
            Do::Send(p, n) => {
                // SAFETY: `p..p+n` lies in the engine's send queue, which is
                // not touched until the port returns (it copies the data and
                // calls no event before returning).
                let r = unsafe { ws_port_send(ws, p, n) };
                with_engine(ws, None, |e| e.client.send_result(r));
            }
            // SAFETY: valid ws, plain port calls.
            Do::Arm(ms) => unsafe { ws_port_timer_arm(ws, ms) },
            // SAFETY: valid ws, plain port call.
            Do::Disarm => unsafe { ws_port_timer_disarm(ws) },
            Do::Opened => call_connection(ws),
            Do::Finish(st, end) => {
                teardown(ws);
                call_failure(ws, st, &end);
                return;
            }
        }
    }
}

/// Runs `f` on the client of `ws` (if it has one), then carries out the
/// actions it queued.
fn run<R>(ws: *mut ws_info, f: impl FnOnce(&mut Client) -> R) -> Option<R> {
    let (r, act) = with_engine(ws, None, |e| {
        let r = f(&mut e.client);
        (r, e.client.has_actions())
    })?;
    if act {
        drive(ws);
    }
    Some(r)
}

/// Extra headers read from a C `header_t` array.
#[derive(Clone, Copy)]
struct HeaderIter<'a> {
    p: *const header_t,
    _life: PhantomData<&'a header_t>,
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = Header<'a>;
    fn next(&mut self) -> Option<Header<'a>> {
        if self.p.is_null() {
            return None;
        }
        // SAFETY: the caller's array is terminated by an entry whose key is
        // NULL; keys and values are NUL-terminated strings (value may be
        // NULL = empty). We never step past the terminator.
        unsafe {
            let h = &*self.p;
            if h.key.is_null() {
                self.p = ptr::null();
                return None;
            }
            let name = CStr::from_ptr(h.key).to_bytes();
            let value = if h.value.is_null() {
                &[][..]
            } else {
                CStr::from_ptr(h.value).to_bytes()
            };
            self.p = self.p.add(1);
            Some(Header { name, value })
        }
    }
}

fn random16() -> [u8; 16] {
    let mut b = [0u8; 16];
    // SAFETY: `b` is a writable buffer of 16 bytes.
    unsafe { ws_port_random(b.as_mut_ptr(), b.len()) };
    b
}

/// Fills `options` with the defaults.
#[no_mangle]
pub extern "C" fn ws_options_init(options: *mut ws_options) {
    if options.is_null() {
        return;
    }
    let d = Options::DEFAULT;
    // SAFETY: non-NULL pointer to a caller-owned ws_options.
    unsafe {
        options.write(ws_options {
            max_message: d.max_message,
            connect_timeout_ms: d.connect_timeout_ms,
            ping_interval_ms: d.ping_interval_ms,
            pong_timeout_ms: d.pong_timeout_ms,
            close_timeout_ms: d.close_timeout_ms,
            protocols: ptr::null(),
            onClose: None,
            onFragment: None,
        })
    };
}

/// Starts a connection on `ws`. URL errors are reported at once through
/// `onFailure` (`connectionState` 4). Refused while `ws` has a live
/// connection (from `ws_connect` until its teardown, i.e. before its final
/// callback; `ws_release` also ends it), whatever `connectionState` holds:
/// then nothing happens (no callback, no port call, no allocation; the live
/// connection is untouched) except that `connectionState` is set back to
/// the live connection's state (1, 2 or 3). From `onFailure`/`onClose` the
/// old connection is already gone, so a new one may start there.
#[no_mangle]
pub extern "C" fn ws_connect(ws: *mut ws_info, url: *const c_char) {
    ws_connect_with(ws, url, ptr::null());
}

/// `ws_connect` with options (NULL = defaults).
#[no_mangle]
pub extern "C" fn ws_connect_with(
    ws: *mut ws_info,
    url: *const c_char,
    options: *const ws_options,
) {
    if ws.is_null() {
        return;
    }
    // A ws_info with a live connection gets no second one, whatever its
    // `connectionState` says: refused without a callback (the old caller
    // would take an onFailure for the end of its live connection), the
    // live connection untouched and its true state written back.
    if with_engine(ws, None, |_| ()).is_some() {
        return;
    }
    // SAFETY: non-NULL caller-owned ws_info without a live connection:
    // `engine` is garbage or a stale pointer, overwrite it.
    unsafe { (*ws).engine = ptr::null_mut() };
    // SAFETY: NULL or a caller-owned ws_options, read during this call only.
    let o = unsafe { options.as_ref() };
    let on_close = o.and_then(|o| o.onClose);
    let on_fragment = o.and_then(|o| o.onFragment);
    let fail = |st: Status| {
        // SAFETY: valid ws (checked above).
        unsafe { (*ws).connectionState = 4 };
        call_failure(ws, st, &Ending::none(on_close));
    };
    if url.is_null() {
        return fail(status::WS_ERR_BAD_SCHEME);
    }
    // SAFETY: non-NULL, NUL-terminated by the caller's contract.
    let url_bytes = unsafe { CStr::from_ptr(url) }.to_bytes();
    let u = match url::parse(url_bytes) {
        Ok(u) => u,
        Err(e) => return fail(e),
    };
    let opts = match o {
        None => Options::DEFAULT,
        Some(o) => Options {
            max_message: o.max_message,
            connect_timeout_ms: o.connect_timeout_ms,
            ping_interval_ms: o.ping_interval_ms,
            pong_timeout_ms: o.pong_timeout_ms,
            close_timeout_ms: o.close_timeout_ms,
            stream: on_fragment.is_some(),
        },
    };
    let protocols = match o {
        Some(o) if !o.protocols.is_null() => {
            // SAFETY: non-NULL, NUL-terminated by the caller's contract,
            // used during this call only.
            Some(unsafe { CStr::from_ptr(o.protocols) }.to_bytes())
        }
        _ => None,
    };
    let mut host = [0u8; 257];
    if u.host.len() >= host.len() {
        return fail(status::WS_ERR_HOST_TOO_LONG);
    }
    for (d, s) in host.iter_mut().zip(u.host) {
        *d = *s;
    }
    let headers = HeaderIter {
        // SAFETY: valid ws; extraHeaders is set by the caller (or NULL).
        p: unsafe { (*ws).extraHeaders },
        _life: PhantomData,
    };
    let client = match Client::new(&u, headers, protocols, opts, &random16(), random16()) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let engine = match Boxed::new(Engine {
        ws,
        next: ptr::null_mut(),
        serial: next_serial(),
        on_close,
        on_fragment,
        client,
    }) {
        Ok(b) => b,
        Err(_) => return fail(status::WS_ERR_NO_MEMORY_HANDSHAKE),
    };
    let engine = engine.into_raw();
    link(engine);
    // SAFETY: valid ws; the engine is the live engine of ws from now on.
    unsafe {
        (*ws).engine = engine as *mut c_void;
        (*ws).connectionState = 1;
    }
    // SAFETY: valid ws and a NUL-terminated host name.
    let r = unsafe { ws_port_resolve(ws, host.as_ptr() as *const c_char) };
    if r != WS_PORT_PENDING {
        with_engine(ws, None, |e| e.client.resolved(r == WS_PORT_DONE));
    }
    drive(ws);
}

/// Sends a message of at most 65535 bytes (the original API; errors ignored).
#[no_mangle]
pub extern "C" fn ws_send(
    ws: *mut ws_info,
    opCode: c_int,
    message: *const c_char,
    length: c_ushort,
) {
    ws_send_long(ws, opCode, message, usize::from(length));
}

/// Sends a message of any length. Returns 0, or `WS_ERR_NOT_CONNECTED` /
/// `WS_ERR_BAD_OPCODE` (nothing sent, connection unaffected) or
/// `WS_ERR_NO_MEMORY_SEND` (the connection fails with -16). While the opening
/// handshake is in progress the message is held and sent after it.
#[no_mangle]
pub extern "C" fn ws_send_long(
    ws: *mut ws_info,
    opCode: c_int,
    message: *const c_char,
    length: usize,
) -> Status {
    let Some(op) = u8::try_from(opCode).ok().and_then(UserOpcode::new) else {
        return WS_ERR_BAD_OPCODE;
    };
    let payload: &[u8] = if length == 0 {
        &[]
    } else if message.is_null() {
        return WS_ERR_OTHER;
    } else {
        // SAFETY: the caller passes `length` readable bytes at `message`;
        // the slice is only used inside this call, before any callback.
        unsafe { core::slice::from_raw_parts(message as *const u8, length) }
    };
    // A small frame with nothing queued goes from the stack straight to the
    // port (no heap); anything else through the send queue.
    let r = with_engine(ws, None, |e| {
        let r = e.client.send_via(op, payload, |frame| {
            // SAFETY: valid ws; `frame` (at most 128 bytes) is readable for
            // the call. The port copies it, calls no event before returning
            // and never touches `ws->engine`, borrowed here.
            unsafe { ws_port_send(ws, frame.as_ptr(), frame.len() as u16) }
        });
        // A frame the port took directly leaves nothing to do.
        let act = r != Ok(true) && e.client.has_actions();
        (r, act)
    });
    let Some((r, act)) = r else {
        return WS_ERR_NOT_CONNECTED;
    };
    if act {
        drive(ws);
    }
    match r {
        Ok(_) => WS_OK,
        Err(e) => e,
    }
}

/// Closes: states 0/4 nothing; resolving, connecting or handshake: torn
/// down at once with status 0; open: close frame 1000, wait for the server
/// (at most `close_timeout_ms`), then status 0.
#[no_mangle]
pub extern "C" fn ws_close(ws: *mut ws_info) {
    ws_close_with(ws, 1000, ptr::null(), 0);
}

/// `ws_close` sending `code` and `reason` (`len` bytes, UTF-8, at most 123)
/// in the close frame. A code not in 1000-1003, 1007-1014, 3000-4999, or a
/// reason that is too long, not UTF-8 or NULL with `len` > 0, is replaced by
/// 1000 without a reason (the connection is closed either way).
#[no_mangle]
pub extern "C" fn ws_close_with(ws: *mut ws_info, code: c_int, reason: *const c_char, len: usize) {
    // 0 is never a valid code: the engine then sends 1000 without a reason.
    let mut code = u16::try_from(code).unwrap_or(0);
    let reason: &[u8] = if reason.is_null() {
        if len > 0 {
            code = 0;
        }
        &[]
    } else {
        // SAFETY: the caller passes `len` readable bytes at `reason`; the
        // slice is only used inside this call, before any callback.
        unsafe { core::slice::from_raw_parts(reason as *const u8, len) }
    };
    run(ws, |c| c.close_with(code, reason));
}

/// The protocol the server chose (NUL-terminated), or NULL if it chose none.
/// Available from `onConnection` on while the connection lasts; NULL in
/// `onFailure`/`onClose` and afterwards (the string is freed with the
/// connection: copy it if needed later).
#[no_mangle]
pub extern "C" fn ws_protocol(ws: *mut ws_info) -> *const c_char {
    with_engine(ws, None, |e| {
        e.client
            .protocol()
            .map_or(ptr::null(), |p| p.as_ptr() as *const c_char)
    })
    .unwrap_or(ptr::null())
}

/// Tears down at once without any callback (for a client being freed).
/// Afterwards neither the library nor the port touches `*ws` again.
#[no_mangle]
pub extern "C" fn ws_release(ws: *mut ws_info) {
    teardown(ws);
}

/// Port event: name resolution finished (`ok` non-zero = success).
#[no_mangle]
pub extern "C" fn ws_event_resolved(ws: *mut ws_info, ok: c_int) {
    run(ws, |c| c.resolved(ok != 0));
}

/// Port event: TCP (and TLS) connected.
#[no_mangle]
pub extern "C" fn ws_event_connected(ws: *mut ws_info) {
    run(ws, |c| c.connected());
}

/// Port event: bytes received. The library may modify `data[0..len)`.
#[no_mangle]
pub extern "C" fn ws_event_received(ws: *mut ws_info, data: *mut u8, len: usize) {
    if data.is_null() || len == 0 {
        return;
    }
    let Some((serial, keepalive)) =
        with_engine(ws, None, |e| (e.serial, e.client.segment_arrived()))
    else {
        return;
    };
    if let Some(ms) = keepalive {
        // SAFETY: valid ws, plain port call.
        unsafe { ws_port_timer_arm(ws, ms) };
    }
    let mut pos = 0usize;
    // Delivering a message queues no action of its own: the engine's
    // actions are carried out at `Again` and `Done`, and API calls made by
    // a callback carry out theirs before they return.
    loop {
        // Within a segment the next frame is usually a whole message.
        while pos != 0 {
            let whole = with_engine(ws, Some(serial), |e| {
                // SAFETY: the port passes `len` writable bytes at `data`,
                // valid for this call; this slice lives only inside this
                // closure.
                let seg = unsafe { core::slice::from_raw_parts_mut(data, len) };
                e.client.whole_message(seg, &mut pos)
            });
            let Some(Some(m)) = whole else { break };
            // SAFETY: `m.start + m.len < len` (checked by the engine): the
            // message and its NUL lie in the port's buffer.
            unsafe {
                call_receive(ws, data.add(m.start), m.len, m.opcode);
                *data.add(m.start + m.len) = m.saved;
            }
        }
        let step = with_engine(ws, Some(serial), |e| {
            // SAFETY: the port passes `len` writable bytes at `data`, valid
            // for this call; this slice lives only inside this closure.
            let seg = unsafe { core::slice::from_raw_parts_mut(data, len) };
            let rx = e.client.receive(seg, &mut pos);
            (rx, e.on_fragment, e.client.has_actions())
        });
        let Some((step, on_fragment, act)) = step else {
            return;
        };
        // Done and Again come straight from the engine call: still the same
        // connection. A delivery leaves the actions for later (see above).
        match step {
            Rx::Done => {
                if act {
                    drive(ws);
                }
                return;
            }
            Rx::Again => {
                if act {
                    drive(ws);
                }
            }
            Rx::InPlace {
                opcode,
                start,
                len: n,
                restore,
            } => {
                // SAFETY: `start + n < len` (the engine checked the range).
                let msg = unsafe { data.add(start) };
                call_receive(ws, msg, n, opcode);
                if let Some((i, b)) = restore {
                    if i < len {
                        // SAFETY: `i < len`, inside the port's buffer.
                        unsafe { *data.add(i) = b };
                    }
                }
            }
            Rx::Fragment {
                opcode,
                start,
                len: n,
                fin,
            } => {
                if let Some(cb) = on_fragment {
                    let n = c_int::try_from(n).unwrap_or(c_int::MAX);
                    // SAFETY: `start + n <= len` (the engine checked the
                    // range); the caller's callback runs with no engine
                    // borrow alive and reads the piece during the call only.
                    unsafe {
                        cb(
                            ws,
                            data.add(start) as *const c_char,
                            n,
                            c_int::from(opcode),
                            c_int::from(fin),
                        )
                    };
                }
            }
            Rx::Owned { opcode, mut buf } => {
                let n = buf.len().saturating_sub(1);
                call_receive(ws, buf.as_mut_ptr(), n, opcode);
                drop(buf);
            }
        }
    }
}

/// Port event: one chunk accepted by `ws_port_send` has been sent.
#[no_mangle]
pub extern "C" fn ws_event_sent(ws: *mut ws_info) {
    run(ws, |c| c.sent());
}

/// Port event: TCP gone; `err` 0 = closed by the peer, else the espconn error.
#[no_mangle]
pub extern "C" fn ws_event_disconnected(ws: *mut ws_info, err: c_int) {
    run(ws, |c| c.disconnected(err));
}

/// Port event: the connection's timer expired.
#[no_mangle]
pub extern "C" fn ws_event_timer(ws: *mut ws_info) {
    run(ws, |c| c.timer());
}

#[cfg(test)]
mod tests {
    //! The C API against a fake port written in Rust (the `ws_port_*`
    //! symbols below), with callbacks that record into thread-locals.
    use super::*;
    use crate::buffer::stats;
    use crate::client::tests::{client_frames, response_for, sframe};
    use std::cell::RefCell;
    use std::collections::VecDeque;

    #[derive(Default)]
    struct Fake {
        resolve_ret: c_int,
        send_ret: VecDeque<c_int>,
        sent: Vec<u8>,
        chunks: Vec<usize>,
        pending_sent: usize,
        closes: u32,
        resolves: u32,
        connects: Vec<(u16, c_int)>,
        timer: Option<u32>,
        hosts: Vec<Vec<u8>>,
        // callback records
        opened: u32,
        failures: Vec<c_int>,
        msgs: Vec<(c_int, Vec<u8>)>,
        // callback behaviour
        reconnect_url: Option<&'static [u8]>,
        release_on_receive: bool,
        close_on_receive: bool,
        echo_on_receive: bool,
    }

    thread_local! {
        static FAKE: RefCell<Fake> = RefCell::new(Fake::default());
    }

    fn fake<R>(f: impl FnOnce(&mut Fake) -> R) -> R {
        FAKE.with(|c| f(&mut c.borrow_mut()))
    }

    #[no_mangle]
    extern "C" fn ws_port_resolve(_ws: *mut ws_info, host: *const c_char) -> c_int {
        // SAFETY: the library passes a NUL-terminated host name.
        let h = unsafe { CStr::from_ptr(host) }.to_bytes().to_vec();
        fake(|f| {
            f.resolves += 1;
            f.hosts.push(h);
            f.resolve_ret
        })
    }
    #[no_mangle]
    extern "C" fn ws_port_connect(_ws: *mut ws_info, port: u16, secure: c_int) -> c_int {
        fake(|f| f.connects.push((port, secure)));
        0
    }
    #[no_mangle]
    extern "C" fn ws_port_send(_ws: *mut ws_info, data: *const u8, len: u16) -> c_int {
        // SAFETY: the library passes `len` readable bytes.
        let d = unsafe { core::slice::from_raw_parts(data, usize::from(len)) }.to_vec();
        fake(|f| {
            let r = f.send_ret.pop_front().unwrap_or(0);
            if r == 0 {
                f.sent.extend_from_slice(&d);
                f.chunks.push(d.len());
                f.pending_sent += 1;
            }
            r
        })
    }
    #[no_mangle]
    extern "C" fn ws_port_close(_ws: *mut ws_info) {
        fake(|f| {
            f.closes += 1;
            f.timer = None;
            f.pending_sent = 0;
        });
    }
    #[no_mangle]
    extern "C" fn ws_port_timer_arm(_ws: *mut ws_info, ms: u32) {
        fake(|f| f.timer = Some(ms));
    }
    #[no_mangle]
    extern "C" fn ws_port_timer_disarm(_ws: *mut ws_info) {
        fake(|f| f.timer = None);
    }
    #[no_mangle]
    extern "C" fn ws_port_random(buf: *mut u8, len: usize) {
        for i in 0..len {
            // SAFETY: the library passes `len` writable bytes.
            unsafe { *buf.add(i) = (i as u8).wrapping_mul(37).wrapping_add(11) };
        }
    }

    unsafe extern "C" fn on_conn(_ws: *mut ws_info) {
        fake(|f| f.opened += 1);
    }
    unsafe extern "C" fn on_recv(ws: *mut ws_info, len: c_int, msg: *mut c_char, op: c_int) {
        // SAFETY: the library passes `len` bytes plus a NUL.
        let m = unsafe { core::slice::from_raw_parts(msg as *const u8, len as usize + 1) };
        assert_eq!(m[len as usize], 0);
        let m = m[..len as usize].to_vec();
        let (rel, close, echo) = fake(|f| {
            f.msgs.push((op, m.clone()));
            (f.release_on_receive, f.close_on_receive, f.echo_on_receive)
        });
        if echo {
            ws_send_long(ws, op, m.as_ptr() as *const c_char, m.len());
        }
        if close {
            ws_close(ws);
        }
        if rel {
            ws_release(ws);
        }
    }
    unsafe extern "C" fn on_fail(ws: *mut ws_info, st: c_int) {
        // SAFETY: ws is the caller's ws_info.
        assert!(
            unsafe { (*ws).engine }.is_null(),
            "engine detached before onFailure"
        );
        assert_eq!(unsafe { (*ws).connectionState }, 4);
        let again = fake(|f| {
            f.failures.push(st);
            f.reconnect_url.take()
        });
        if let Some(u) = again {
            ws_connect(ws, u.as_ptr() as *const c_char);
        }
    }

    unsafe extern "C" fn on_close_unused(
        _: *mut ws_info,
        _: c_int,
        _: c_int,
        _: *const c_char,
        _: c_int,
    ) {
        unreachable!("reset by ws_options_init");
    }

    /// A ws_info as the Lua binding makes it: not zeroed.
    fn new_ws() -> Box<ws_info> {
        Box::new(ws_info {
            connectionState: 0,
            extraHeaders: ptr::null_mut(),
            reservedData: ptr::null_mut(),
            onConnection: Some(on_conn),
            onReceive: Some(on_recv),
            onFailure: Some(on_fail),
            engine: 0xdead_beef_usize as *mut c_void,
            port: 0x1234_usize as *mut c_void,
        })
    }

    fn ack_all(ws: *mut ws_info) {
        while fake(|f| {
            if f.pending_sent > 0 {
                f.pending_sent -= 1;
                true
            } else {
                false
            }
        }) {
            ws_event_sent(ws);
        }
    }

    /// Connect, resolve at once, TCP up, 101 in; returns the request length.
    fn open(ws: &mut ws_info) -> usize {
        fake(|f| f.resolve_ret = WS_PORT_DONE);
        ws_connect(ws, c"ws://LocalHost:9001/p".as_ptr());
        assert_eq!(ws.connectionState, 2);
        ws_event_connected(ws);
        ack_all(ws);
        let req = fake(|f| f.sent.clone());
        let mut r = response_for(&req);
        ws_event_received(ws, r.as_mut_ptr(), r.len());
        assert_eq!(ws.connectionState, 3);
        assert_eq!(fake(|f| f.opened), 1);
        req.len()
    }

    fn frames_after(skip: usize) -> Vec<(bool, u8, Vec<u8>)> {
        let s = fake(|f| f.sent.clone());
        client_frames(&s[skip..])
    }

    #[test]
    fn connect_receive_send_close_and_reuse() {
        let mut ws = new_ws();
        let skip = open(&mut ws);
        assert_eq!(fake(|f| f.hosts.clone()), vec![b"LocalHost".to_vec()]);
        assert_eq!(fake(|f| f.connects.clone()), vec![(9001, 0)]);
        let mut seg = sframe(true, 1, b"hi there");
        seg.extend(sframe(false, 2, b"ab"));
        seg.extend(sframe(true, 0, b"cd"));
        ws_event_received(&mut *ws, seg.as_mut_ptr(), seg.len());
        assert_eq!(
            fake(|f| f.msgs.clone()),
            vec![(1, b"hi there".to_vec()), (2, b"abcd".to_vec())]
        );
        // The segment is restored except for the consumed bytes.
        assert_eq!(&seg[2..10], b"hi there");
        ws_send(&mut *ws, 1, c"msg".as_ptr(), 3);
        ws_close(&mut *ws);
        ack_all(&mut *ws);
        assert_eq!(
            frames_after(skip),
            vec![(true, 1, b"msg".to_vec()), (true, 8, vec![0x03, 0xE8])]
        );
        // Closing handshake: still 3 until the teardown.
        assert_eq!(ws.connectionState, 3);
        let mut c = sframe(true, 8, &[0x03, 0xE8]);
        ws_event_received(&mut *ws, c.as_mut_ptr(), c.len());
        ws_event_disconnected(&mut *ws, 0);
        assert_eq!(fake(|f| f.failures.clone()), vec![0]);
        assert_eq!(fake(|f| f.closes), 1);
        assert!(ws.engine.is_null());
        assert_eq!(stats::live(), 0);
        // Events after the end are ignored; the same ws_info connects again.
        ws_event_timer(&mut *ws);
        ws_event_sent(&mut *ws);
        fake(|f| *f = Fake::default());
        open(&mut ws);
        ws_release(&mut *ws);
        assert!(fake(|f| f.failures.is_empty()));
        assert_eq!(stats::live(), 0);
    }

    #[test]
    fn defect_64k_send_not_truncated() {
        let mut ws = new_ws();
        let skip = open(&mut ws);
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 13 % 256) as u8).collect();
        let r = ws_send_long(&mut *ws, 2, data.as_ptr() as *const c_char, data.len());
        assert_eq!(r, WS_OK);
        ack_all(&mut *ws);
        let s = fake(|f| f.sent.clone());
        assert_eq!(s[skip], 0x82);
        assert_eq!(s[skip + 1], 0xFF);
        assert_eq!(&s[skip + 2..skip + 10], &100_000u64.to_be_bytes());
        assert_eq!(frames_after(skip), vec![(true, 2, data)]);
        assert!(fake(|f| f.chunks.iter().all(|&c| c <= 65535)));
        ws_release(&mut *ws);
        assert_eq!(stats::live(), 0);
    }

    #[test]
    fn url_errors_and_null_arguments() {
        for (u, st) in [
            (&b"http://x/\0"[..], -1),
            (&b"ws://\0"[..], -4),
            (&b"ws://h:0/\0"[..], -3),
            (&b"ws://h:65536/\0"[..], -3),
        ] {
            let mut ws = new_ws();
            ws_connect(&mut *ws, u.as_ptr() as *const c_char);
            assert_eq!(ws.connectionState, 4);
            assert_eq!(fake(|f| f.failures.pop()), Some(st));
        }
        let long = format!("ws://{}/\0", "a".repeat(256));
        let mut ws = new_ws();
        ws_connect(&mut *ws, long.as_ptr() as *const c_char);
        assert_eq!(fake(|f| f.failures.pop()), Some(-2));
        ws_connect(&mut *ws, ptr::null());
        assert_eq!(fake(|f| f.failures.pop()), Some(-1));
        assert_eq!(
            fake(|f| f.resolves + f.closes),
            0,
            "no port call for URL errors"
        );
        // NULL ws everywhere: nothing happens.
        ws_connect(ptr::null_mut(), c"ws://h/".as_ptr());
        ws_send(ptr::null_mut(), 1, c"x".as_ptr(), 1);
        assert_eq!(
            ws_send_long(ptr::null_mut(), 1, ptr::null(), 0),
            WS_ERR_NOT_CONNECTED
        );
        ws_close(ptr::null_mut());
        ws_release(ptr::null_mut());
        ws_event_received(ptr::null_mut(), ptr::null_mut(), 5);
        ws_event_timer(ptr::null_mut());
        ws_options_init(ptr::null_mut());
        // A ws without callbacks.
        let mut quiet = new_ws();
        quiet.onFailure = None;
        ws_connect(&mut *quiet, c"bad".as_ptr());
        assert_eq!(quiet.connectionState, 4);
        // Send rules.
        let mut ws = new_ws();
        assert_eq!(
            ws_send_long(&mut *ws, 1, c"x".as_ptr(), 1),
            WS_ERR_NOT_CONNECTED
        );
        open(&mut ws);
        assert_eq!(
            ws_send_long(&mut *ws, 3, c"x".as_ptr(), 1),
            WS_ERR_BAD_OPCODE
        );
        assert_eq!(
            ws_send_long(&mut *ws, 8, c"x".as_ptr(), 1),
            WS_ERR_BAD_OPCODE
        );
        assert_eq!(ws_send_long(&mut *ws, 1, ptr::null(), 4), WS_ERR_OTHER);
        assert_eq!(ws_send_long(&mut *ws, 1, ptr::null(), 0), WS_OK);
        // ws_connect while connected is ignored.
        ws_connect(&mut *ws, c"ws://other/".as_ptr());
        assert_eq!(ws.connectionState, 3);
        // ... and while closing.
        ws_close(&mut *ws);
        assert_eq!(ws.connectionState, 3);
        ws_connect(&mut *ws, c"ws://other/".as_ptr());
        assert_eq!(fake(|f| f.connects.len()), 1);
        assert!(fake(|f| f.failures.is_empty()));
        ws_release(&mut *ws);
        assert_eq!(stats::live(), 0);
    }

    /// A caller rewriting `connectionState` (to 0, as the original Lua
    /// module does before `ws_connect`, or to 4) cannot start a second
    /// connection on a ws_info whose connection is live, in any phase: the
    /// call is refused without a callback or port call, the true state is
    /// written back, and the live connection goes on to its one end.
    #[test]
    fn connect_refused_while_live_whatever_the_state_says() {
        for phase in 1..=5 {
            for forged in [0, 4, -7] {
                fake(|f| *f = Fake::default());
                let mut ws = new_ws();
                match phase {
                    1 => {
                        fake(|f| f.resolve_ret = WS_PORT_PENDING);
                        ws_connect(&mut *ws, c"ws://h/".as_ptr());
                    }
                    2 => {
                        fake(|f| f.resolve_ret = WS_PORT_DONE);
                        ws_connect(&mut *ws, c"ws://h/".as_ptr());
                    }
                    3 => {
                        fake(|f| f.resolve_ret = WS_PORT_DONE);
                        ws_connect(&mut *ws, c"ws://h/".as_ptr());
                        ws_event_connected(&mut *ws);
                    }
                    4 => {
                        open(&mut ws);
                    }
                    _ => {
                        // A closing handshake the user started.
                        open(&mut ws);
                        ws_close(&mut *ws);
                    }
                }
                let want = ws.connectionState;
                assert_eq!(want, [1, 2, 3, 3, 3][phase - 1]);
                let engine = ws.engine;
                let before = fake(|f| (f.resolves, f.closes, f.connects.len(), f.sent.len()));
                let live = stats::live();
                ws.connectionState = forged;
                ws_connect(&mut *ws, c"ws://other:81/".as_ptr());
                assert_eq!(ws.connectionState, want, "true state written back");
                assert_eq!(ws.engine, engine);
                assert_eq!(
                    fake(|f| (f.resolves, f.closes, f.connects.len(), f.sent.len())),
                    before,
                    "no port call for a refused connect"
                );
                assert_eq!(stats::live(), live, "nothing allocated");
                assert!(fake(|f| f.failures.is_empty()), "no callback");
                // The same with options.
                ws.connectionState = forged;
                // SAFETY: all-zero bytes are a valid ws_options (0, NULL, None).
                let mut o = unsafe { core::mem::zeroed::<ws_options>() };
                ws_options_init(&mut o);
                ws_connect_with(&mut *ws, c"ws://other:81/".as_ptr(), &o);
                assert_eq!(ws.connectionState, want);
                assert_eq!(stats::live(), live);
                // The live connection goes on, and ends once.
                ws.connectionState = forged;
                ws_event_disconnected(&mut *ws, -9);
                assert_eq!(fake(|f| f.failures.clone()), vec![-109]);
                assert_eq!(ws.connectionState, 4);
                assert!(ws.engine.is_null());
                assert_eq!(fake(|f| f.closes), 1);
                assert_eq!(stats::live(), 0);
                // Ended: a new connection may start (and the forged state
                // does not matter either).
                ws.connectionState = 3;
                fake(|f| f.resolve_ret = WS_PORT_DONE);
                ws_connect(&mut *ws, c"ws://h/".as_ptr());
                assert_eq!(ws.connectionState, 2);
                ws_release(&mut *ws);
                assert_eq!(stats::live(), 0);
            }
        }
    }

    /// The original module's `c:close(); c:connect(url)` from onConnection:
    /// the user's close keeps state 3, so the module refuses on its own; a
    /// caller that writes 0 anyway is refused by the library.
    #[test]
    fn close_then_connect_at_once_keeps_one_connection() {
        let mut ws = new_ws();
        open(&mut ws);
        ws_close(&mut *ws);
        assert_eq!(ws.connectionState, 3, "3 through a user close");
        ws.connectionState = 0;
        ws_connect(&mut *ws, c"ws://other/".as_ptr());
        assert_eq!(ws.connectionState, 3);
        assert_eq!(fake(|f| f.resolves), 1);
        ack_all(&mut *ws);
        let mut c = sframe(true, 8, &[0x03, 0xE8]);
        ws_event_received(&mut *ws, c.as_mut_ptr(), c.len());
        assert_eq!(ws.connectionState, 3, "server answered; TCP still up");
        ws_event_disconnected(&mut *ws, 0);
        assert_eq!(fake(|f| f.failures.clone()), vec![0]);
        assert_eq!(ws.connectionState, 4);
        assert_eq!(stats::live(), 0);
    }

    /// Garbage in a never-used ws_info (any state, any engine pointer) is
    /// never taken for a connection.
    #[test]
    fn garbage_ws_info_is_never_a_connection() {
        for state in [1, 2, 3, 4, 0x5A5A_5A5A, -1] {
            let mut ws = new_ws();
            ws.connectionState = state;
            ws.engine = 0xA5A5_A5A5_usize as *mut c_void;
            assert_eq!(
                ws_send_long(&mut *ws, 1, c"x".as_ptr(), 1),
                WS_ERR_NOT_CONNECTED
            );
            ws_close(&mut *ws);
            ws_event_timer(&mut *ws);
            ws_event_sent(&mut *ws);
            ws_event_connected(&mut *ws);
            ws_event_resolved(&mut *ws, 1);
            ws_event_disconnected(&mut *ws, 0);
            let mut seg = sframe(true, 1, b"x");
            ws_event_received(&mut *ws, seg.as_mut_ptr(), seg.len());
            assert!(ws_protocol(&mut *ws).is_null());
            ws_release(&mut *ws);
            assert_eq!(ws.connectionState, state, "untouched");
            assert_eq!(fake(|f| (f.resolves, f.closes)), (0, 0));
            assert!(fake(|f| f.failures.is_empty() && f.msgs.is_empty()));
            // ... and connects normally.
            fake(|f| f.resolve_ret = WS_PORT_DONE);
            ws_connect(&mut *ws, c"ws://h/".as_ptr());
            assert_eq!(ws.connectionState, 2);
            assert_ne!(ws.engine, 0xA5A5_A5A5_usize as *mut c_void);
            ws_release(&mut *ws);
            assert_eq!(ws.connectionState, 4);
            assert_eq!(stats::live(), 0);
            fake(|f| *f = Fake::default());
        }
    }

    /// Two ws_infos live at once are independent connections.
    #[test]
    fn two_ws_infos_two_connections() {
        let mut a = new_ws();
        let mut b = new_ws();
        fake(|f| f.resolve_ret = WS_PORT_PENDING);
        ws_connect(&mut *a, c"ws://a/".as_ptr());
        ws_connect(&mut *b, c"ws://b/".as_ptr());
        assert_eq!((a.connectionState, b.connectionState), (1, 1));
        ws_event_resolved(&mut *b, 0);
        assert_eq!(fake(|f| f.failures.clone()), vec![-5]);
        assert_eq!((a.connectionState, b.connectionState), (1, 4));
        ws_release(&mut *a);
        assert_eq!(a.connectionState, 4);
        assert_eq!(stats::live(), 0);
    }

    #[test]
    fn dns_failure_pending_then_event() {
        let mut ws = new_ws();
        fake(|f| f.resolve_ret = WS_PORT_PENDING);
        ws_connect(&mut *ws, c"wss://example.org/".as_ptr());
        assert_eq!(ws.connectionState, 1);
        ws_event_resolved(&mut *ws, 0);
        assert_eq!(fake(|f| (f.failures.clone(), f.closes)), (vec![-5], 1));
        // Resolution fails at once.
        fake(|f| f.resolve_ret = -1);
        ws_connect(&mut *ws, c"wss://example.org/".as_ptr());
        assert_eq!(fake(|f| (f.failures.clone(), f.closes)), (vec![-5, -5], 2));
        // Success, TLS port, connect timeout.
        fake(|f| f.resolve_ret = WS_PORT_PENDING);
        ws_connect(&mut *ws, c"wss://example.org/".as_ptr());
        ws_event_resolved(&mut *ws, 1);
        assert_eq!(
            fake(|f| (f.connects.clone(), f.timer)),
            (vec![(443, 1)], Some(10_000))
        );
        ws_event_timer(&mut *ws);
        assert_eq!(fake(|f| f.failures.clone()), vec![-5, -5, -18]);
        assert_eq!(stats::live(), 0);
    }

    #[test]
    fn reconnect_from_on_failure_and_release_from_on_receive() {
        let mut ws = new_ws();
        open(&mut ws);
        fake(|f| f.reconnect_url = Some(b"ws://again:81/\0"));
        ws_event_disconnected(&mut *ws, -9);
        assert_eq!(fake(|f| f.failures.clone()), vec![-109]);
        assert!(
            !ws.engine.is_null(),
            "new connection started from onFailure"
        );
        assert_eq!(ws.connectionState, 2);
        assert_eq!(fake(|f| f.connects.last().copied()), Some((81, 0)));
        ws_release(&mut *ws);
        // Release inside onReceive: the rest of the segment is dropped.
        fake(|f| *f = Fake::default());
        let mut ws = new_ws();
        open(&mut ws);
        fake(|f| f.release_on_receive = true);
        let mut seg = [sframe(true, 1, b"one"), sframe(true, 1, b"two")].concat();
        ws_event_received(&mut *ws, seg.as_mut_ptr(), seg.len());
        assert_eq!(fake(|f| f.msgs.len()), 1);
        assert!(ws.engine.is_null());
        assert!(fake(|f| f.failures.is_empty()));
        assert_eq!(stats::live(), 0);
        // Close inside onReceive, echo inside onReceive.
        fake(|f| *f = Fake::default());
        let mut ws = new_ws();
        let skip = open(&mut ws);
        fake(|f| {
            f.echo_on_receive = true;
            f.close_on_receive = true
        });
        let mut seg = [sframe(true, 1, b"one"), sframe(true, 1, b"two")].concat();
        ws_event_received(&mut *ws, seg.as_mut_ptr(), seg.len());
        ack_all(&mut *ws);
        assert_eq!(
            fake(|f| f.msgs.len()),
            1,
            "data after a user close is dropped"
        );
        assert_eq!(
            frames_after(skip),
            vec![(true, 1, b"one".to_vec()), (true, 8, vec![0x03, 0xE8])]
        );
        ws_event_timer(&mut *ws);
        assert_eq!(fake(|f| f.failures.clone()), vec![0]);
        assert_eq!(stats::live(), 0);
    }

    #[test]
    fn send_busy_and_port_errors() {
        let mut ws = new_ws();
        let skip = open(&mut ws);
        fake(|f| f.send_ret.push_back(WS_PORT_BUSY));
        ws_send(&mut *ws, 1, c"a".as_ptr(), 1);
        ws_send(&mut *ws, 1, c"b".as_ptr(), 1);
        assert!(frames_after(skip).is_empty());
        // Busy only while a sent event is due: the handshake's is acked already,
        // so model one outstanding.
        ws_event_sent(&mut *ws);
        ack_all(&mut *ws);
        assert_eq!(
            frames_after(skip),
            vec![(true, 1, b"a".to_vec()), (true, 1, b"b".to_vec())]
        );
        fake(|f| f.send_ret.push_back(-12));
        ws_send(&mut *ws, 2, c"c".as_ptr(), 1);
        assert_eq!(fake(|f| f.failures.clone()), vec![-112]);
        assert_eq!(stats::live(), 0);
    }

    #[test]
    fn extra_headers_and_options() {
        let mut k1 = *b"User-Agent\0";
        let mut v1 = *b"test-agent\0";
        let mut k2 = *b"X-Token\0";
        let mut hdrs = [
            header_t {
                key: k1.as_mut_ptr() as *mut c_char,
                value: v1.as_mut_ptr() as *mut c_char,
            },
            header_t {
                key: k2.as_mut_ptr() as *mut c_char,
                value: ptr::null_mut(),
            },
            header_t {
                key: ptr::null_mut(),
                value: ptr::null_mut(),
            },
        ];
        let mut ws = new_ws();
        ws.extraHeaders = hdrs.as_mut_ptr();
        let mut o = ws_options {
            max_message: 0,
            connect_timeout_ms: 0,
            ping_interval_ms: 0,
            pong_timeout_ms: 0,
            close_timeout_ms: 0,
            protocols: c"garbage".as_ptr(),
            onClose: Some(on_close_unused),
            onFragment: None,
        };
        ws_options_init(&mut o);
        assert!(o.protocols.is_null() && o.onClose.is_none() && o.onFragment.is_none());
        assert_eq!(o.max_message, WS_DEFAULT_MAX_MESSAGE);
        o.connect_timeout_ms = 1234;
        fake(|f| f.resolve_ret = WS_PORT_DONE);
        ws_connect_with(&mut *ws, c"ws://h/".as_ptr(), &o);
        assert_eq!(fake(|f| f.timer), Some(1234));
        ws_event_connected(&mut *ws);
        let req = String::from_utf8(fake(|f| f.sent.clone())).unwrap();
        assert!(req.contains("\r\nUser-Agent: test-agent\r\n"), "{req}");
        assert!(!req.contains("ESP8266"), "{req}");
        ws_close(&mut *ws);
        assert_eq!(fake(|f| f.failures.clone()), vec![0]);
        assert_eq!(stats::live(), 0);
    }

    #[test]
    fn allocation_failure_at_each_site_in_the_api() {
        let mut seen = Vec::new();
        for k in 1.. {
            assert!(k < 20);
            fake(|f| *f = Fake::default());
            let mut ws = new_ws();
            stats::fail_nth(k);
            fake(|f| f.resolve_ret = WS_PORT_DONE);
            ws_connect(&mut *ws, c"ws://h/".as_ptr());
            if ws.connectionState == 2 {
                ws_event_connected(&mut *ws);
                ack_all(&mut *ws);
                let mut r = response_for(&fake(|f| f.sent.clone()));
                ws_event_received(&mut *ws, r.as_mut_ptr(), r.len());
                // Too big for the direct (stack) path: the send queue's
                // allocation is one of the sites.
                let big = [b'x'; 200];
                let st = ws_send_long(&mut *ws, 1, big.as_ptr() as *const c_char, big.len());
                assert!(st == WS_OK || st == WS_ERR_NO_MEMORY_SEND);
            }
            stats::fail_nth(0);
            let fails = fake(|f| f.failures.clone());
            if fails.is_empty() {
                // The k-th allocation was never reached: all sites covered.
                ws_release(&mut *ws);
                assert_eq!(stats::live(), 0);
                break;
            }
            assert_eq!(fails.len(), 1);
            assert!(ws.engine.is_null());
            assert_eq!(stats::live(), 0, "leak after failing allocation {k}");
            seen.push(fails[0]);
            // The same ws_info connects fine afterwards.
            fake(|f| *f = Fake::default());
            open(&mut ws);
            ws_release(&mut *ws);
            assert_eq!(stats::live(), 0);
        }
        assert_eq!(seen, vec![-10, -10, -10, -16]);
    }
}
