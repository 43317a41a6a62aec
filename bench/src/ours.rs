//! libwebsocket driven through its C API, with a fake port.
//!
//! The port functions `ws_port_*` are defined here: resolution finishes at
//! once, TCP connects at once, every `ws_port_send` is accepted, recorded
//! (only while the handshake is in progress) or discarded, and accounted as
//! sent by [`Client::pump`] right after the engine call returns (the port never
//! calls an event from inside a port function). Timers do nothing; the random
//! bytes are deterministic.

use core::ffi::{c_char, c_int, c_void};
use std::cell::Cell;

use crate::workloads::SEGMENT;

/// Mirror of `ws_info` from include/websocketclient.h.
#[repr(C)]
pub struct WsInfo {
    pub connection_state: c_int,
    pub extra_headers: *mut c_void,
    pub reserved_data: *mut c_void,
    pub on_connection: Option<extern "C" fn(*mut WsInfo)>,
    pub on_receive: Option<extern "C" fn(*mut WsInfo, c_int, *mut c_char, c_int)>,
    pub on_failure: Option<extern "C" fn(*mut WsInfo, c_int)>,
    pub engine: *mut c_void,
    pub port: *mut c_void,
}

extern "C" {
    fn ws_connect(ws: *mut WsInfo, url: *const c_char);
    fn ws_send_long(ws: *mut WsInfo, op: c_int, msg: *const c_char, len: usize) -> c_int;
    fn ws_close(ws: *mut WsInfo);
    fn ws_release(ws: *mut WsInfo);
    fn ws_event_connected(ws: *mut WsInfo);
    fn ws_event_disconnected(ws: *mut WsInfo, err: c_int);
}

/// Per-connection state shared by the callbacks and the fake port.
/// `info` comes first so a `*mut WsInfo` is also a `*mut Conn`.
#[repr(C)]
struct Conn {
    info: WsInfo,
    messages: u64,
    bytes: u64,
    bad_opcode: u64,
    connected: bool,
    failure: Option<c_int>,
    port_closed: bool,
    sends_due: u32,
    sent_bytes: u64,
    capturing: bool,
    capture: Vec<u8>,
}

thread_local! {
    static RNG: Cell<u64> = const { Cell::new(0x0123_4567_89AB_CDEF) };
}

extern "C" fn on_connection(ws: *mut WsInfo) {
    // SAFETY: `ws` is the first field of a live `Conn` (see `Client::open`);
    // the engine calls back with no other reference to it in use.
    let c = unsafe { &mut *(ws as *mut Conn) };
    c.connected = true;
}

extern "C" fn on_receive(ws: *mut WsInfo, len: c_int, _msg: *mut c_char, op: c_int) {
    // SAFETY: as in `on_connection`.
    let c = unsafe { &mut *(ws as *mut Conn) };
    c.messages += 1;
    c.bytes += len as u64;
    if op != 1 && op != 2 {
        c.bad_opcode += 1;
    }
}

extern "C" fn on_failure(ws: *mut WsInfo, status: c_int) {
    // SAFETY: as in `on_connection`.
    let c = unsafe { &mut *(ws as *mut Conn) };
    c.failure = Some(status);
    c.connected = false;
}

#[no_mangle]
extern "C" fn ws_port_resolve(ws: *mut WsInfo, _host: *const c_char) -> c_int {
    // SAFETY: the engine passes the `ws_info` it was given, a live `Conn`.
    unsafe { (*ws).port = ws as *mut c_void };
    1 // WS_PORT_DONE
}

#[no_mangle]
extern "C" fn ws_port_connect(_ws: *mut WsInfo, _port: u16, _secure: c_int) -> c_int {
    0
}

#[no_mangle]
extern "C" fn ws_port_send(ws: *mut WsInfo, data: *const u8, len: u16) -> c_int {
    // SAFETY: `ws` is a live `Conn` (as in `on_connection`); `data` points to
    // `len` readable bytes for the duration of the call (port contract).
    let (c, bytes) = unsafe {
        (
            &mut *(ws as *mut Conn),
            std::slice::from_raw_parts(data, usize::from(len)),
        )
    };
    if c.capturing {
        c.capture.extend_from_slice(bytes);
    }
    c.sent_bytes += u64::from(len);
    c.sends_due += 1;
    0
}

#[no_mangle]
extern "C" fn ws_port_close(ws: *mut WsInfo) {
    // SAFETY: as in `ws_port_send`.
    let c = unsafe { &mut *(ws as *mut Conn) };
    c.port_closed = true;
    c.sends_due = 0;
}

#[no_mangle]
extern "C" fn ws_port_timer_arm(_ws: *mut WsInfo, _ms: u32) {}

#[no_mangle]
extern "C" fn ws_port_timer_disarm(_ws: *mut WsInfo) {}

#[no_mangle]
extern "C" fn ws_port_random(buf: *mut u8, len: usize) {
    // SAFETY: the engine passes `len` writable bytes.
    let out = unsafe { std::slice::from_raw_parts_mut(buf, len) };
    RNG.with(|s| {
        let mut r = crate::DetRng::new(s.get());
        r.fill(out);
        s.set(r.next_u64());
    });
}

#[no_mangle]
extern "C" fn ws_port_sha1(data: *const u8, len: usize, digest: *mut u8) {
    // SAFETY: the engine passes `len` readable bytes and 20 writable ones.
    let (input, out) = unsafe {
        (
            std::slice::from_raw_parts(data, len),
            std::slice::from_raw_parts_mut(digest, 20),
        )
    };
    out.copy_from_slice(&websocket::testkit::sha1(input));
}

/// An open libwebsocket connection over the fake port.
pub struct Client {
    conn: Box<Conn>,
    scratch: Vec<u8>,
    idle_heap: isize,
}

/// What went wrong while opening.
#[derive(Debug)]
pub struct OpenError(pub String);

impl Client {
    /// Connects, completes the opening handshake and returns the open client.
    pub fn open() -> Result<Client, OpenError> {
        let mut client = Client {
            conn: Box::new(Conn {
                info: WsInfo {
                    connection_state: 0,
                    extra_headers: std::ptr::null_mut(),
                    reserved_data: std::ptr::null_mut(),
                    on_connection: Some(on_connection),
                    on_receive: Some(on_receive),
                    on_failure: Some(on_failure),
                    engine: std::ptr::null_mut(),
                    port: std::ptr::null_mut(),
                },
                messages: 0,
                bytes: 0,
                bad_opcode: 0,
                connected: false,
                failure: None,
                port_closed: false,
                sends_due: 0,
                sent_bytes: 0,
                capturing: true,
                capture: Vec::with_capacity(4096),
            }),
            scratch: Vec::with_capacity(SEGMENT),
            idle_heap: 0,
        };
        let live_before = crate::counting::snapshot().live;
        let info = client.info();
        // SAFETY: `info` is a live, fully initialised `ws_info`; the URL is
        // NUL-terminated. The port answers DONE, so the engine goes on to TCP
        // connect within this call.
        unsafe { ws_connect(info, c"ws://127.0.0.1:8080/bench".as_ptr()) };
        client.check("ws_connect")?;
        let info = client.info();
        // SAFETY: the connection is in state 2 awaiting this event.
        unsafe { ws_event_connected(info) };
        client.pump();
        client.check("TCP connect")?;
        let response = websocket::testkit::response_to(
            &client.conn.capture,
            "Sec-WebSocket-Protocol: chat\r\n",
        )
        .ok_or_else(|| {
            OpenError(format!(
                "no complete request with a key: {:?}",
                String::from_utf8_lossy(&client.conn.capture)
            ))
        })?;
        client.conn.capturing = false;
        client.conn.capture.clear();
        client.feed(&response);
        drop(response);
        client.idle_heap = crate::counting::snapshot().live as isize - live_before as isize;
        client.check("handshake")?;
        if !client.conn.connected || client.conn.info.connection_state != 3 {
            return Err(OpenError(format!(
                "not open after the 101 response (state {})",
                client.conn.info.connection_state
            )));
        }
        Ok(client)
    }

    /// The `ws_info` pointer handed to the engine, derived from the whole
    /// `Conn` so the callbacks may reach every field through it.
    fn info(&mut self) -> *mut WsInfo {
        (&mut *self.conn as *mut Conn).cast::<WsInfo>()
    }

    fn check(&self, step: &str) -> Result<(), OpenError> {
        match self.conn.failure {
            Some(status) => Err(OpenError(format!("{step}: onFailure({status})"))),
            None => Ok(()),
        }
    }

    /// Accounts every accepted `ws_port_send` as sent (the port's event loop).
    pub fn pump(&mut self) {
        let info = self.api();
        let conn = &mut self.conn;
        let take = || {
            let due = conn.sends_due > 0 && !conn.port_closed;
            conn.sends_due -= u32::from(due);
            due
        };
        // SAFETY: one `ws_event_sent` per accepted send, on a live connection.
        let _ = unsafe { websocket::testkit::deliver_sent(info, usize::MAX, take) };
    }

    /// `info` as the library's own `ws_info` (the same layout: `WsInfo`
    /// mirrors it) for the shared helpers of `websocket::testkit`.
    fn api(&mut self) -> *mut websocket::capi::ws_info {
        self.info().cast()
    }

    /// Heap bytes the engine holds for the open, idle connection (live bytes
    /// after the handshake minus before `ws_connect`; 0 unless the counting
    /// allocator is installed).
    pub fn idle_heap(&self) -> isize {
        self.idle_heap
    }

    /// Feeds one segment (at most [`SEGMENT`] bytes) as it is cut.
    pub fn feed_segment(&mut self, seg: &[u8]) {
        assert!(seg.len() <= SEGMENT, "segment longer than {SEGMENT}");
        self.feed(seg)
    }

    /// Feeds `bytes` as consecutive segments of at most [`SEGMENT`] bytes, each
    /// copied into a receive buffer first (the engine may modify it in place).
    pub fn feed(&mut self, bytes: &[u8]) {
        for seg in bytes.chunks(SEGMENT) {
            if self.conn.port_closed {
                return;
            }
            let info = self.api();
            // SAFETY: live connection (port not closed).
            unsafe { websocket::testkit::feed_segment(info, seg, &mut self.scratch) };
            self.pump();
        }
    }

    /// Sends one message through `ws_send_long` and drains the send queue.
    pub fn send(&mut self, opcode: c_int, msg: &[u8]) -> c_int {
        let info = self.info();
        // SAFETY: live connection; `msg` is readable for `msg.len()` bytes.
        let rc = unsafe { ws_send_long(info, opcode, msg.as_ptr() as *const c_char, msg.len()) };
        self.pump();
        rc
    }

    /// Messages delivered to onReceive so far.
    pub fn messages(&self) -> u64 {
        self.conn.messages
    }

    /// Payload bytes delivered to onReceive so far.
    pub fn bytes(&self) -> u64 {
        self.conn.bytes
    }

    /// Bytes handed to `ws_port_send` so far.
    pub fn sent_bytes(&self) -> u64 {
        self.conn.sent_bytes
    }

    /// The onFailure status, if the connection failed.
    pub fn failure(&self) -> Option<c_int> {
        self.conn.failure
    }

    /// Messages whose opcode was neither text nor binary.
    pub fn bad_opcodes(&self) -> u64 {
        self.conn.bad_opcode
    }

    /// The fed bytes as the engine reported them, or why not.
    pub fn expect(&self, messages: u64, bytes: u64) -> Result<(), String> {
        if let Some(s) = self.conn.failure {
            return Err(format!("connection failed with {s}"));
        }
        if self.conn.messages != messages || self.conn.bytes != bytes || self.conn.bad_opcode != 0 {
            return Err(format!(
                "got {} messages / {} bytes ({} bad opcodes), expected {messages} / {bytes}",
                self.conn.messages, self.conn.bytes, self.conn.bad_opcode
            ));
        }
        Ok(())
    }

    /// User close followed by the server's close frame and TCP close.
    pub fn close(mut self) -> Option<c_int> {
        let info = self.info();
        // SAFETY: live connection.
        unsafe { ws_close(info) };
        self.pump();
        let mut close = Vec::new();
        crate::workloads::push_header(&mut close, true, 8, 2);
        close.extend_from_slice(&1000u16.to_be_bytes());
        self.feed(&close);
        if !self.conn.port_closed {
            let info = self.info();
            // SAFETY: live connection; the peer closes TCP.
            unsafe { ws_event_disconnected(info, 0) };
        }
        self.conn.failure
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        if !self.conn.port_closed && self.conn.failure.is_none() {
            let info = self.info();
            // SAFETY: tears the connection down without callbacks; afterwards
            // neither the engine nor the port touches `*info`.
            unsafe { ws_release(info) };
        }
    }
}
