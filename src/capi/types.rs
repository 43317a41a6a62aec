//! What cbindgen exports from the C edge (besides the status codes of
//! `src/status.rs`): the types a C caller fills in, the callback types, the
//! `WS_*` constants, and the port functions the platform implements.

use core::ffi::{c_char, c_int, c_void};

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

/// Set in `ws_options`: called with each pong the server sends, `payload`
/// holding its `len` bytes (NOT NUL-terminated, valid during the call
/// only). `rtt_us`: microseconds since our most recent ping (sent with
/// `ws_ping`, `ws_send_long` opcode 9, or by the keep-alive) when this pong
/// is the first since it and `ws_options.clock_us` is set; else -1.
pub type ws_onPongCallback = Option<
    unsafe extern "C" fn(ws: *mut ws_info, payload: *const c_char, len: c_int, rtt_us: c_int),
>;
/// Set in `ws_options`: a free-running microsecond counter (wrapping at
/// 2^32), e.g. the ESP8266's `system_get_time`; used for `onPong`'s
/// round-trip time only. It must not call the library.
pub type ws_clockCallback = Option<unsafe extern "C" fn() -> u32>;

/// A connection, allocated by the caller. Before the first `ws_connect`
/// only `connectionState` (0), `extraHeaders`, `reservedData` and the
/// callbacks need to be set; the rest may be garbage.
///
/// Every entry point takes a `ws` that is NULL (then it does nothing) or
/// points to a `ws_info` readable and writable during the call, used from
/// one thread (the platform's event loop) only. A connection belongs to
/// the address it was started at: the `ws_info` must stay there, and not
/// be freed, until the connection has ended (its final callback with
/// `connectionState` 4, or `ws_release`).
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
    /// * 5 reconnection pending (only with `ws_options.reconnect_initial_ms`):
    ///   the connection ended and the next one waits for its turn; set
    ///   right before the final call of the lost connection, instead of 4.
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
    /// Port private: NULL from `ws_connect`, then set by the port from
    /// `ws_port_resolve` on.
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
    /// Called with each pong the server sends (default NULL: pongs are
    /// dropped).
    pub onPong: ws_onPongCallback,
    /// Microsecond clock for `onPong`'s round-trip time (default NULL: the
    /// time is reported as -1).
    pub clock_us: ws_clockCallback,
    /// Automatic reconnection (default 0: off). When > 0, a connection
    /// that ends with a non-zero status (anything but `ws_close`; a URL
    /// error of `ws_connect` itself excepted) is made again after a wait:
    /// the final callback reports the end as usual, with
    /// `connectionState` 5 (reconnection pending) during and after it;
    /// the wait is drawn from [s/2, s], s starting at this value and
    /// doubling after each attempt up to `reconnect_max_ms`, back to this
    /// value once a connection opens. `ws_close` during the wait (also
    /// from inside that callback) ends it: the final callback follows with
    /// status 0. `ws_connect` during the wait starts the new connection at
    /// once instead. Each attempt sends the same request (extra headers
    /// and protocols as read by `ws_connect_with`) with a fresh key.
    pub reconnect_initial_ms: u32,
    /// Longest wait between reconnection attempts (default 60000; raised
    /// to `reconnect_initial_ms` if below it).
    pub reconnect_max_ms: u32,
}

/// Default `max_message`: 1 MiB.
pub const WS_DEFAULT_MAX_MESSAGE: u32 = 1048576;
/// Largest handshake response header block accepted (else -27).
pub const WS_MAX_HANDSHAKE_RESPONSE: u32 = 8192;
/// Bytes of pong frames that may wait in the send queue for the port:
/// every ping is answered while its pong fits; beyond it (a ping flood
/// against a peer that does not read) only the most recent ping is
/// answered (RFC 6455 5.5.3).
pub const WS_MAX_PENDING_PONGS: u32 = 1024;
/// `ws_port_resolve`: `ws_event_resolved` will follow.
pub const WS_PORT_PENDING: c_int = 0;
/// `ws_port_resolve`: resolved at once, no event follows.
pub const WS_PORT_DONE: c_int = 1;
/// `connectionState` while a reconnection waits (see
/// `ws_options.reconnect_initial_ms`).
pub const WS_STATE_RECONNECT_WAIT: c_int = 5;
/// Default `ws_options.reconnect_max_ms`.
pub const WS_DEFAULT_RECONNECT_MAX_MS: u32 = 60000;
/// `ws_port_send`: refused for now, retry after the next `ws_event_sent`.
pub const WS_PORT_BUSY: c_int = 1;

// The status codes (`WS_OK`, `WS_ERR_*`) and their type `ws_status` are
// defined once, in src/status.rs, which cbindgen reads as well.
pub use crate::status::*;

const _: () = {
    assert!(WS_PORT_BUSY == crate::client::PORT_BUSY);
    assert!(WS_MAX_PENDING_PONGS as usize == crate::client::PONG_QUEUE_MAX);
    assert!(WS_MAX_HANDSHAKE_RESPONSE as usize == crate::handshake::MAX_RESPONSE);
};

// The port: implemented by the platform (nodemcu-glue/ or the host runtime).
// Rules: a port function never calls a ws_event_* function before it
// returns (events come from the platform's event loop only). For one
// connection the first port call is ws_port_resolve and the last is
// ws_port_close (ws_port_random and ws_port_sha1 take no ws: ws_connect
// calls them before ws_port_resolve); no event follows ws_port_close and
// the port no longer touches *ws after it. ws->port belongs to the port
// (the library sets it to NULL before a connection's first port call, the
// port sets it from ws_port_resolve on); ws->engine belongs to the library.
// Reconnection (ws_options.reconnect_initial_ms) waits between two
// connections on the port's timer: after ws_port_close of the lost
// connection the library calls ws_port_resolve(ws, NULL) (port state for
// the timer only), then ws_port_timer_arm; at its ws_event_timer,
// ws_port_resolve(ws, host) on that state starts the next connection, and
// ws_port_close ends a wait cut short.
// The bytes handed to ws_port_send stay the library's and valid until that
// chunk's ws_event_sent (or ws_port_close; see ws_hold_sending), so the
// port need not copy them.
extern "C" {
    /// Port: resolve `host`. Returns `WS_PORT_PENDING` (`ws_event_resolved`
    /// follows), `WS_PORT_DONE` (resolved at once, no event follows),
    /// `WS_ERR_NO_MEMORY_HANDSHAKE` (the port had no memory for its state:
    /// the connection fails with -10) or any other value < 0 (the name
    /// cannot be resolved: -5). No event follows a failure. The first port
    /// call of a connection; sets `ws->port` (NULL when it has no state).
    /// `host` NULL (a reconnection's wait): only set up the port state, so
    /// that the timer runs; `WS_PORT_DONE`, or `WS_ERR_NO_MEMORY_HANDSHAKE`
    /// (then no reconnection). A later call with a host for the same `ws`
    /// finds that state in `ws->port` and resolves on it.
    pub fn ws_port_resolve(ws: *mut ws_info, host: *const c_char) -> c_int;
    /// Port: connect TCP (TLS when `secure`). Returns 0 (`ws_event_connected`
    /// or `ws_event_disconnected` follows) or an espconn error (< 0).
    pub fn ws_port_connect(ws: *mut ws_info, port: u16, secure: c_int) -> c_int;
    /// Port: send `len` <= 65535 bytes. Returns 0 = accepted (exactly one
    /// `ws_event_sent` follows), `WS_PORT_BUSY` = refused for now (only while
    /// a `ws_event_sent` is still due), or an espconn error (< 0: the
    /// connection fails with err - 100). The port need not copy the bytes:
    /// the library keeps them valid and unchanged, at that address, until
    /// the chunk's `ws_event_sent` (after an error: until `ws_port_close`),
    /// and past `ws_port_close` if the port calls `ws_hold_sending` there.
    pub fn ws_port_send(ws: *mut ws_info, data: *const u8, len: u16) -> c_int;
    /// Port: drop TCP (deferred as the platform needs), stop the timer, free
    /// port state. The last port call of a connection: no event for `ws`
    /// afterwards, and the port no longer touches `*ws`. The bytes of a
    /// chunk whose `ws_event_sent` has not come are freed when it returns,
    /// unless the port calls `ws_hold_sending(ws)` during it (then they stay
    /// until it passes the handle to `ws_free_held`).
    pub fn ws_port_close(ws: *mut ws_info);
    /// Port: one-shot timer per connection; arming again replaces it.
    /// Expiry calls `ws_event_timer`.
    pub fn ws_port_timer_arm(ws: *mut ws_info, ms: u32);
    /// Port: stop the timer.
    pub fn ws_port_timer_disarm(ws: *mut ws_info);
    /// Port: fill `buf` with `len` random bytes (`os_random` on the device).
    pub fn ws_port_random(buf: *mut u8, len: usize);
    /// Port: write the SHA-1 digest (FIPS 180-4) of the `len` bytes at
    /// `data` to `digest[0..20)` (the ROM's `SHA1Init`/`SHA1Update`/
    /// `SHA1Final` on the ESP8266). For the handshake check only:
    /// `ws_connect` calls it once per connection, over the 60 bytes of the
    /// `Sec-WebSocket-Key` sent and the RFC 6455 GUID, for the
    /// `Sec-WebSocket-Accept` value the server must answer (a wrong digest
    /// fails every handshake with -7). It must not call any `ws_*` function
    /// (no event from inside it).
    pub fn ws_port_sha1(data: *const u8, len: usize, digest: *mut u8);
}
