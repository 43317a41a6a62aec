//! The exported entry points: the API a C caller uses and the events the
//! port delivers. Every function that takes a raw pointer is `unsafe` and
//! says what it needs of it under `# Safety`.

use core::ffi::{c_char, c_int, c_ushort, c_void, CStr};
use core::marker::PhantomData;
use core::ptr;

use super::engine::*;
use super::types::*;
use crate::buffer::Boxed;
use crate::client::{Backoff, Client, Options, Phase, Redial, Rx, Target, UserOpcode};
use crate::handshake::Header;
use crate::status::{self, Status, WS_ERR_BAD_OPCODE, WS_ERR_NOT_CONNECTED, WS_ERR_OTHER, WS_OK};
use crate::url;

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

/// Fills `options` with the defaults.
///
/// # Safety
/// `options` is NULL or points to a `ws_options` valid for writes.
#[no_mangle]
pub unsafe extern "C" fn ws_options_init(options: *mut ws_options) {
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
            onPong: None,
            clock_us: None,
            reconnect_initial_ms: 0,
            reconnect_max_ms: WS_DEFAULT_RECONNECT_MAX_MS,
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
/// old connection is already gone, so a new one may start there. A
/// reconnection waiting for its turn (`connectionState` 5) is dropped
/// without a callback and this connection starts instead.
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]); `url` is NULL or a
/// NUL-terminated string. The `extraHeaders` of `*ws` is NULL or an array of
/// `header_t` ended by a NULL key, each key and non-NULL value a
/// NUL-terminated string; read during the call only.
#[no_mangle]
pub unsafe extern "C" fn ws_connect(ws: *mut ws_info, url: *const c_char) {
    // SAFETY: the caller's contract covers ws_connect_with's (no options).
    unsafe { ws_connect_with(ws, url, ptr::null()) };
}

/// `ws_connect` with options (NULL = defaults).
///
/// # Safety
/// As for `ws_connect`; `options` is NULL or points to a `ws_options`
/// filled by `ws_options_init`, whose `protocols` is NULL or a
/// NUL-terminated string (read during the call only).
#[no_mangle]
pub unsafe extern "C" fn ws_connect_with(
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
    match with_engine(ws, None, |e| e.client.phase() == Phase::Waiting) {
        Some(true) => teardown(ws),
        Some(false) => return,
        None => {}
    }
    // SAFETY: non-NULL caller-owned ws_info without a live connection:
    // `engine` and `port` are garbage or stale pointers, overwrite them
    // (documented: both NULL from `ws_connect` on).
    unsafe {
        (*ws).engine = ptr::null_mut();
        (*ws).port = ptr::null_mut();
    }
    // SAFETY: NULL or a caller-owned ws_options, read during this call only.
    let o = unsafe { options.as_ref() };
    let on_close = o.and_then(|o| o.onClose);
    let on_fragment = o.and_then(|o| o.onFragment);
    let on_pong = o.and_then(|o| o.onPong);
    let clock_us = o.and_then(|o| o.clock_us);
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
            pongs: on_pong.is_some(),
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
    let client = match Client::new(&u, headers, protocols, opts, &random16(), random16(), sha1) {
        Ok(c) => c,
        Err(e) => return fail(e),
    };
    let backoff = o.and_then(|o| Backoff::new(o.reconnect_initial_ms, o.reconnect_max_ms));
    let redial = match backoff {
        None => None,
        Some(b) => {
            let target = Target {
                port: u.port,
                secure: u.secure,
                opts,
            };
            match Redial::new(&client, &u, target, b) {
                Ok(r) => Some(r),
                Err(e) => return fail(e),
            }
        }
    };
    let extra = if on_pong.is_none() && redial.is_none() {
        None
    } else {
        let pong = Pong {
            on_pong,
            clock_us,
            ping_at: 0,
            ping_out: false,
        };
        match Boxed::new(Extra { pong, redial }) {
            Ok(b) => Some(b),
            Err(_) => return fail(status::WS_ERR_NO_MEMORY_HANDSHAKE),
        }
    };
    if attach(ws, client, on_close, on_fragment, extra).is_none() {
        return fail(status::WS_ERR_NO_MEMORY_HANDSHAKE);
    }
    resolve(ws, host.as_ptr() as *const c_char);
}

/// Sends a message of at most 65535 bytes (the original API; errors ignored).
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]); `message` points to
/// `length` readable bytes (or is NULL with `length` 0).
#[no_mangle]
pub unsafe extern "C" fn ws_send(
    ws: *mut ws_info,
    opCode: c_int,
    message: *const c_char,
    length: c_ushort,
) {
    // SAFETY: the same contract as ws_send_long's.
    unsafe { ws_send_long(ws, opCode, message, usize::from(length)) };
}

/// Sends a message of any length. Returns 0, or `WS_ERR_NOT_CONNECTED` /
/// `WS_ERR_BAD_OPCODE` (nothing sent, connection unaffected) or
/// `WS_ERR_NO_MEMORY_SEND` (the connection fails with -16). While the opening
/// handshake is in progress the message is held and sent after it.
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]); `message` points to
/// `length` readable bytes, or is NULL (then `length` 0, else
/// `WS_ERR_OTHER`).
#[no_mangle]
pub unsafe extern "C" fn ws_send_long(
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
    // A small frame with nothing queued is written into the send queue's
    // (usually kept) buffer and handed to the port at once; anything else
    // goes through the drive loop.
    let p = lookup(ws);
    let r = with_engine_at(ws, p, None, |e| {
        let r = e.client.send_via(op, payload, |frame| {
            // SAFETY: valid ws; `frame` (at most 128 bytes) lies in the
            // send queue, which keeps it unchanged until its sent event
            // (or past `ws_port_close` if held). The port calls no event
            // before returning and never touches `ws->engine`, borrowed here.
            unsafe { ws_port_send(ws, frame.as_ptr(), frame.len() as u16) }
        });
        if opCode == 9 && r.is_ok() {
            e.stamp_ping();
        }
        match r {
            // The port took the frame directly: nothing else to do.
            Ok(true) => (WS_OK, false),
            Ok(false) => (WS_OK, e.client.has_actions()),
            Err(st) => (st, e.client.has_actions()),
        }
    });
    let Some((st, act)) = r else {
        return WS_ERR_NOT_CONNECTED;
    };
    if act {
        drive_at(ws, p);
    }
    st
}

/// Sends a ping with `len` <= 125 bytes of `payload` (NULL with `len` 0:
/// empty); the server's pong reaches `ws_options.onPong`, with the round-
/// trip time when `ws_options.clock_us` is set. Returns as `ws_send_long`.
///
/// # Safety
/// As for `ws_send_long`.
#[no_mangle]
pub unsafe extern "C" fn ws_ping(ws: *mut ws_info, payload: *const c_char, len: usize) -> Status {
    // SAFETY: the same contract as ws_send_long's.
    unsafe { ws_send_long(ws, 9, payload, len) }
}

/// Closes: states 0/4 nothing; resolving, connecting or handshake: torn
/// down at once with status 0; open: close frame 1000, wait for the server
/// (at most `close_timeout_ms`), then status 0.
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]).
#[no_mangle]
pub unsafe extern "C" fn ws_close(ws: *mut ws_info) {
    // SAFETY: the same contract as ws_close_with's (no reason).
    unsafe { ws_close_with(ws, 1000, ptr::null(), 0) };
}

/// `ws_close` sending `code` and `reason` (`len` bytes, UTF-8, at most 123)
/// in the close frame. A code not in 1000-1003, 1007-1014, 3000-4999, or a
/// reason that is too long, not UTF-8 or NULL with `len` > 0, is replaced by
/// 1000 without a reason (the connection is closed either way).
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]); `reason` is NULL or
/// points to `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn ws_close_with(
    ws: *mut ws_info,
    code: c_int,
    reason: *const c_char,
    len: usize,
) {
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
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]).
#[no_mangle]
pub unsafe extern "C" fn ws_protocol(ws: *mut ws_info) -> *const c_char {
    with_engine(ws, None, |e| {
        e.client
            .protocol()
            .map_or(ptr::null(), |p| p.as_ptr() as *const c_char)
    })
    .unwrap_or(ptr::null())
}

/// The HTTP status with which the server refused the opening handshake
/// (status -17 after `HTTP/1.1 <code>`, e.g. 403): valid inside the final
/// `onFailure`/`onClose` call of `ws` only; 0 there for any other end, and
/// 0 outside that call.
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]); it is not read.
#[no_mangle]
pub unsafe extern "C" fn ws_http_status(ws: *mut ws_info) -> c_int {
    c_int::from(ending_http_status(ws))
}

/// Tears down at once without any callback (for a client being freed).
/// Afterwards neither the library nor the port touches `*ws` again.
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]).
#[no_mangle]
pub unsafe extern "C" fn ws_release(ws: *mut ws_info) {
    teardown(ws);
}

/// Port, from inside `ws_port_close(ws)` only: keeps the bytes of the
/// chunk `ws_port_send` last handed over for `ws` valid and unchanged
/// after `ws_port_close` returns, when the port may still read them (its
/// `ws_event_sent` has not come, or `ws_port_send` refused it with an
/// error). Returns a handle for `ws_free_held`, or NULL when no such chunk
/// exists (nothing is held). Without it the bytes are freed when
/// `ws_port_close` returns.
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]).
#[no_mangle]
pub unsafe extern "C" fn ws_hold_sending(ws: *mut ws_info) -> *mut c_void {
    hold_sending(ws) as *mut c_void
}

/// Port: the port no longer reads the chunk held by `ws_hold_sending`
/// (`handle`, NULL does nothing): frees it. Once per handle, from the
/// platform's event loop, never from inside `ws_port_close`.
///
/// # Safety
/// `handle` is NULL or a handle returned by `ws_hold_sending` and not yet
/// freed.
#[no_mangle]
pub unsafe extern "C" fn ws_free_held(handle: *mut c_void) {
    if !handle.is_null() {
        // SAFETY: a handle is an engine kept by `teardown` (made by
        // `Boxed::<Engine>::into_raw`, out of the registry), freed once.
        drop(unsafe { Boxed::from_raw(handle as *mut Engine) });
    }
}

/// Port event: name resolution finished (`ok` non-zero = success).
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]).
#[no_mangle]
pub unsafe extern "C" fn ws_event_resolved(ws: *mut ws_info, ok: c_int) {
    run(ws, |c| c.resolved(ok != 0));
}

/// Port event: TCP (and TLS) connected.
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]).
#[no_mangle]
pub unsafe extern "C" fn ws_event_connected(ws: *mut ws_info) {
    run(ws, |c| c.connected());
}

/// Port event: bytes received. The library may modify `data[0..len)`.
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]); `data` is NULL or
/// points to `len` bytes readable and writable during the call.
#[no_mangle]
pub unsafe extern "C" fn ws_event_received(ws: *mut ws_info, data: *mut u8, len: usize) {
    if data.is_null() || len == 0 {
        return;
    }
    let Some((serial, keepalive)) = with_engine_at(ws, lookup(ws), None, |e| {
        (e.serial, e.client.segment_arrived())
    }) else {
        return;
    };
    if let Some(ms) = keepalive {
        // SAFETY: valid ws, plain port call.
        unsafe { ws_port_timer_arm(ws, ms) };
    }
    let seg = Segment {
        ws,
        serial,
        data,
        len,
    };
    // The first frame of a segment takes the slow path (it may continue a
    // frame or message of the previous segment); after it, whole messages
    // are usually next.
    let mut pos = 0usize;
    // SAFETY (both calls): `seg` is the port's segment, valid for this call.
    while unsafe { seg.step(&mut pos) } {
        unsafe { seg.whole_messages(&mut pos) };
    }
}

/// The segment of one `ws_event_received` call, on the connection `serial`
/// of `ws` (a callback may end that connection and even start another).
struct Segment {
    ws: *mut ws_info,
    serial: u32,
    data: *mut u8,
    len: usize,
}

impl Segment {
    /// Fast path: delivers the whole messages that follow at `*pos` (see
    /// `Client::whole_message`), from a tight loop; stops at anything else.
    /// Delivering a message queues no action of its own (API calls made by
    /// the callback carry out theirs before they return), so no drive loop
    /// runs here.
    ///
    /// # Safety
    /// `data` points to `len` bytes readable and writable during the call.
    #[inline(always)]
    unsafe fn whole_messages(&self, pos: &mut usize) {
        let Segment {
            ws,
            serial,
            data,
            len,
        } = *self;
        loop {
            let whole = with_engine_at(ws, lookup(ws), Some(serial), |e| {
                // SAFETY: `len` writable bytes at `data` (the caller's
                // contract); this slice lives only inside this closure.
                let seg = unsafe { core::slice::from_raw_parts_mut(data, len) };
                e.client.whole_message(seg, pos)
            });
            let Some(Some(m)) = whole else { return };
            // SAFETY: `m.start + m.len < len` (checked by the engine): the
            // message and its NUL lie in the port's buffer.
            unsafe {
                call_receive(ws, data.add(m.start), m.len, m.opcode);
                *data.add(m.start + m.len) = m.saved;
            }
        }
    }

    /// Slow path: one step of the frame-by-frame receiver
    /// (`Client::receive`): carries out the engine's actions, or delivers
    /// one message or streamed piece. False once the segment is used up or
    /// the connection is gone.
    ///
    /// # Safety
    /// As for [`Segment::whole_messages`].
    #[inline(always)]
    unsafe fn step(&self, pos: &mut usize) -> bool {
        let Segment {
            ws,
            serial,
            data,
            len,
        } = *self;
        let step = with_engine(ws, Some(serial), |e| {
            // SAFETY: `len` writable bytes at `data` (the caller's
            // contract); this slice lives only inside this closure.
            let seg = unsafe { core::slice::from_raw_parts_mut(data, len) };
            let rx = e.client.receive(seg, pos);
            (rx, e.on_fragment, e.client.has_actions())
        });
        let Some((step, on_fragment, act)) = step else {
            return false;
        };
        // Done and Again come straight from the engine call: still the same
        // connection. A delivery leaves the actions for later (see above).
        match step {
            Rx::Done => {
                if act {
                    drive(ws);
                }
                return false;
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
            Rx::Pong { start, len: n, buf } => {
                let at = if buf.capacity() > 0 {
                    buf.as_slice().as_ptr()
                } else {
                    // SAFETY: `start + n <= len` (the engine checked the range).
                    unsafe { data.add(start) }
                };
                call_pong(ws, at, n);
                drop(buf);
            }
        }
        true
    }
}

/// Port event: one chunk accepted by `ws_port_send` has been sent.
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]).
#[no_mangle]
pub unsafe extern "C" fn ws_event_sent(ws: *mut ws_info) {
    // Once per chunk sent: the hot path's lookup, and the client says
    // whether actions are due (cheaper than `has_actions` while open).
    let p = lookup(ws);
    if with_engine_at(ws, p, None, |e| e.client.sent()) == Some(true) {
        drive_at(ws, p);
    }
}

/// Port event: TCP gone; `err` 0 = closed by the peer, else the espconn error.
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]).
#[no_mangle]
pub unsafe extern "C" fn ws_event_disconnected(ws: *mut ws_info, err: c_int) {
    run(ws, |c| c.disconnected(err));
}

/// Port event: the connection's timer expired.
///
/// # Safety
/// `ws` as for every entry point (see [`ws_info`]).
#[no_mangle]
pub unsafe extern "C" fn ws_event_timer(ws: *mut ws_info) {
    /// What the timer leads to, copied out of the engine borrow.
    enum Next {
        Nothing,
        Drive,
        /// A reconnection's turn: resolve this host name (in the engine's
        /// reconnection state, which lives as long as the engine).
        Resolve(*const c_char),
    }
    let p = find(ws);
    let next = with_engine_at(ws, p, None, |e| {
        if e.client.begin() {
            let redial = e.extra.as_ref().and_then(|x| x.redial.as_ref());
            return redial.map_or(Next::Nothing, |r| {
                Next::Resolve(r.host().as_ptr() as *const c_char)
            });
        }
        if e.client.timer() {
            e.stamp_ping();
        }
        if e.client.has_actions() {
            Next::Drive
        } else {
            Next::Nothing
        }
    });
    match next {
        Some(Next::Resolve(host)) => resolve(ws, host),
        Some(Next::Drive) => drive_at(ws, p),
        _ => {}
    }
}
