//! The connection state machine, sans I/O.
//!
//! A [`Client`] is fed events (`resolved`, `connected`, `receive`, `sent`,
//! `disconnected`, `timer`, and the user's `send`/`close`) and tells its
//! driver what to do through [`Client::poll`]. It never calls C and never
//! calls user code: the driver (src/capi.rs) does, with no borrow of the
//! client alive.
//!
//! Phases and `connectionState`: resolving 1, TCP connecting 2, opening
//! handshake, open and closing handshake 3; 4 once the connection has
//! ended (the driver tears it down before the final callback).

use crate::buffer::{Boxed, Buf};
use crate::frame::{self, Decoder, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};
use crate::handshake::{self, Header, Parsed, ResponseParser};
use crate::message::{self, valid_utf8, Assembler, Item, Payload};
use crate::status::{self, Status};
use crate::url::Url;

/// Largest chunk handed to the port in one `ws_port_send` call.
pub const MAX_CHUNK: usize = 65535;
/// `ws_port_send` result: refused for now.
pub const PORT_BUSY: i32 = 1;
/// Largest frame (header + payload) `Client::send_via` encodes on the stack
/// instead of the heap send queue.
pub const DIRECT_FRAME: usize = 128;

/// Tunables (mirrors `ws_options`).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Options {
    pub max_message: u32,
    pub connect_timeout_ms: u32,
    pub ping_interval_ms: u32,
    pub pong_timeout_ms: u32,
    pub close_timeout_ms: u32,
    /// Deliver data messages piece by piece ([`Rx::Fragment`]); no
    /// reassembly and no `max_message` limit.
    pub stream: bool,
}

impl Options {
    pub const DEFAULT: Options = Options {
        max_message: 1 << 20,
        connect_timeout_ms: 10_000,
        ping_interval_ms: 30_000,
        pong_timeout_ms: 60_000,
        close_timeout_ms: 5_000,
        stream: false,
    };
}

/// The timeouts of [`Options`], as kept per connection.
#[derive(Clone, Copy)]
struct Timeouts {
    connect_timeout_ms: u32,
    ping_interval_ms: u32,
    pong_timeout_ms: u32,
    close_timeout_ms: u32,
}

/// `finish` before the connection has a final status.
const NO_FINISH: Status = Status::from_code(i32::MIN);
/// `ping_age` when no ping is unanswered.
const NO_PING: u32 = u32::MAX;

#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
enum Phase {
    Resolving,
    Connecting,
    Handshake,
    Open,
    Closing,
    Done,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum TimerCmd {
    Keep,
    Arm(u32),
    Disarm,
}

/// What the driver must do next.
pub enum Action<'a> {
    /// Nothing more for now.
    Idle,
    /// Call `ws_port_connect(port, secure)`; report a failure with
    /// [`Client::port_error`].
    Connect {
        port: u16,
        secure: bool,
    },
    /// Call `ws_port_send` with these bytes, then [`Client::send_result`].
    Send(&'a [u8]),
    ArmTimer(u32),
    DisarmTimer,
    /// The opening handshake succeeded: call `onConnection`.
    Opened,
    /// The connection is over: tear down, then `onFailure(status)`.
    Finish(Status),
}

/// One step of [`Client::receive`].
pub enum Rx {
    /// Nothing to deliver; poll for actions, then call `receive` again.
    Again,
    /// All of the segment is consumed (or ignored).
    Done,
    /// A message at `data[start..start+len]`, with `data[start+len] == 0`.
    /// After the callback write `restore.1` back at `restore.0`, if any.
    InPlace {
        opcode: u8,
        start: usize,
        len: usize,
        restore: Option<(usize, u8)>,
    },
    /// A message in its own buffer: `len` bytes plus a NUL.
    Owned { opcode: u8, buf: Buf },
    /// Streaming: the next piece of a message at `data[start..start+len]`
    /// (not NUL-terminated); `fin` on the message's last piece.
    Fragment {
        opcode: u8,
        start: usize,
        len: usize,
        fin: bool,
    },
}

/// A message found by [`Client::whole_message`]: `data[start..start+len]`,
/// NUL-terminated in place; write `saved` back at `start + len` after the
/// callback.
pub struct Whole {
    pub opcode: u8,
    pub saved: u8,
    pub start: usize,
    pub len: usize,
}

/// Small PRNG (xorshift128) for frame masks, seeded by the driver.
#[derive(Clone, Copy)]
struct Rng([u32; 4]);

impl Rng {
    fn new(seed: [u8; 16]) -> Self {
        let mut s = [0u32; 4];
        for (w, b) in s.iter_mut().zip(seed.chunks_exact(4)) {
            *w = b.iter().rev().fold(0, |acc, &x| (acc << 8) | u32::from(x));
        }
        if s == [0; 4] {
            s[0] = 0x9E37_79B9;
        }
        Rng(s)
    }
    fn mask(&mut self) -> [u8; 4] {
        let [x, y, z, w] = self.0;
        let t = x ^ (x << 11);
        let n = w ^ (w >> 19) ^ t ^ (t >> 8);
        self.0 = [y, z, w, n];
        n.to_le_bytes()
    }
}

pub struct Client {
    phase: Phase,
    port: u16,
    secure: bool,
    want_connect: bool,
    want_opened: bool,
    /// Send data: accepted by the port up to `head`.
    busy: bool,
    /// After a user close: data messages are dropped.
    user_closed: bool,
    /// Ignore received bytes from now on.
    stop_rx: bool,
    /// Tear down once everything queued has been sent.
    finish_when_sent: bool,
    timer: TimerCmd,
    inflight: u16,
    /// Code of the server's close frame (1005 if it had none), 0 = none yet.
    close_code: u16,
    /// Bytes of `info` holding the protocol and its NUL (0 = no protocol).
    proto_len: u8,
    /// The final status, or `NO_FINISH`.
    finish: Status,
    pending: Status,
    /// Age of the first unanswered ping at the last tick, or `NO_PING`.
    ping_age: u32,
    out: Buf,
    /// The negotiated protocol + NUL, then the server's close reason.
    info: Buf,
    head: usize,
    /// Before the handshake finished only `out[..gate]` (the request) may go.
    gate: usize,
    /// Where the last queued pong lies in `out`; while its end is beyond
    /// `head` it has not wholly reached the port yet.
    pong_start: usize,
    pong_end: usize,
    parser: Option<Boxed<ResponseParser>>,
    decoder: Decoder,
    asm: Assembler,
    opts: Timeouts,
    rng: Rng,
}

/// An opcode a user may send: text (1), binary (2), ping (9) or pong (10).
/// Checked once where it comes in (the C API).
#[derive(Clone, Copy)]
pub struct UserOpcode(u8);

impl UserOpcode {
    pub const fn new(op: u8) -> Option<UserOpcode> {
        match op {
            1 | 2 | 9 | 10 => Some(UserOpcode(op)),
            _ => None,
        }
    }
}

/// Opcodes a user may send ([`UserOpcode`]); ping/pong up to 125 bytes.
fn check_send_opcode(opcode: u8, payload: &[u8]) -> Result<(), Status> {
    match UserOpcode::new(opcode) {
        Some(_) if opcode < OP_CLOSE || payload.len() <= frame::MAX_CONTROL_PAYLOAD => Ok(()),
        _ => Err(status::WS_ERR_BAD_OPCODE),
    }
}

impl Client {
    /// Builds the opening handshake request into the send queue.
    /// `protocols`: the `Sec-WebSocket-Protocol` value offered (`None` =
    /// `chat`, empty = no header). Errors: `BAD_HEADER` (unsendable extra
    /// header or protocols), `NO_MEMORY_HANDSHAKE`.
    pub fn new<'h, I>(
        url: &Url,
        extra: I,
        protocols: Option<&[u8]>,
        opts: Options,
        key_random: &[u8; 16],
        mask_seed: [u8; 16],
    ) -> Result<Client, Status>
    where
        I: Iterator<Item = Header<'h>> + Clone,
    {
        let key = handshake::make_key(key_random);
        let n = handshake::request_len(url, &key, extra.clone(), protocols)?;
        let mut out = Buf::new();
        out.reserve_total(n)
            .map_err(|_| status::WS_ERR_NO_MEMORY_HANDSHAKE)?;
        let written = match out.spare(n) {
            Some(dst) => handshake::write_sized(url, &key, extra, protocols, dst),
            None => 0,
        };
        if written != n {
            return Err(status::WS_ERR_OTHER);
        }
        out.commit(written);
        let parser = Boxed::new(ResponseParser::new(handshake::accept_for(&key)))
            .map_err(|_| status::WS_ERR_NO_MEMORY_HANDSHAKE)?;
        Ok(Client {
            phase: Phase::Resolving,
            port: url.port,
            secure: url.secure,
            want_connect: false,
            want_opened: false,
            busy: false,
            user_closed: false,
            stop_rx: false,
            finish_when_sent: false,
            timer: TimerCmd::Keep,
            inflight: 0,
            close_code: 0,
            proto_len: 0,
            finish: NO_FINISH,
            pending: status::WS_OK,
            ping_age: NO_PING,
            gate: written,
            pong_start: 0,
            pong_end: 0,
            out,
            info: Buf::new(),
            head: 0,
            parser: Some(parser),
            decoder: Decoder::new(),
            asm: Assembler::new(opts.max_message, opts.stream),
            opts: Timeouts {
                connect_timeout_ms: opts.connect_timeout_ms,
                ping_interval_ms: opts.ping_interval_ms,
                pong_timeout_ms: opts.pong_timeout_ms,
                close_timeout_ms: opts.close_timeout_ms,
            },
            rng: Rng::new(mask_seed),
        })
    }

    /// The value for `ws_info.connectionState`.
    pub fn connection_state(&self) -> i32 {
        match self.phase {
            Phase::Resolving => 1,
            Phase::Connecting => 2,
            Phase::Handshake | Phase::Open | Phase::Closing => 3,
            Phase::Done => 4,
        }
    }

    /// True once the opening handshake has succeeded (and not yet closing).
    pub fn is_open(&self) -> bool {
        self.phase == Phase::Open
    }

    /// Heap bytes held by this connection besides the `Client` itself.
    pub fn heap_bytes(&self) -> usize {
        let parser = if self.parser.is_some() {
            core::mem::size_of::<ResponseParser>()
        } else {
            0
        };
        self.out.capacity() + self.info.capacity() + self.asm.held_bytes() + parser
    }

    /// The protocol the server chose, NUL included (`None` if it chose none).
    pub fn protocol(&self) -> Option<&[u8]> {
        match self.proto_len {
            0 => None,
            n => self.info.as_slice().get(..usize::from(n)),
        }
    }

    /// [`Client::close_info`] by move: the code, the buffer and where the
    /// reason starts in it (the protocol goes with it).
    pub fn take_close_info(&mut self) -> Option<(u16, Buf, usize)> {
        match self.close_code {
            0 => None,
            c => {
                let at = usize::from(self.proto_len);
                self.proto_len = 0;
                Some((c, self.info.take(), at))
            }
        }
    }

    /// The server's close frame: its code (1005 if it carried none) and
    /// reason; `None` if no valid close frame was received.
    pub fn close_info(&self) -> Option<(u16, &[u8])> {
        match self.close_code {
            0 => None,
            c => Some((
                c,
                self.info
                    .as_slice()
                    .get(usize::from(self.proto_len)..)
                    .unwrap_or(&[]),
            )),
        }
    }

    /// Not inlined: reached from a dozen paths (about 270 B of flash).
    #[inline(never)]
    fn end(&mut self, st: Status) {
        if self.finish == NO_FINISH {
            self.finish = if st == NO_FINISH {
                status::WS_ERR_OTHER
            } else {
                st
            };
        }
        self.phase = Phase::Done;
        self.stop_rx = true;
    }

    /// False when [`Client::poll`] would return `Idle` (true may still end
    /// in `Idle`): lets the driver skip polling after most events.
    pub fn has_actions(&self) -> bool {
        self.finish != NO_FINISH
            || self.want_connect
            || self.want_opened
            || !matches!(self.timer, TimerCmd::Keep)
            || !self.busy && self.head < self.out.len()
    }

    /// The next thing to do. Call until it returns `Idle`.
    pub fn poll(&mut self) -> Action<'_> {
        if self.finish != NO_FINISH {
            return Action::Finish(self.finish);
        }
        if self.want_connect {
            self.want_connect = false;
            return Action::Connect {
                port: self.port,
                secure: self.secure,
            };
        }
        match core::mem::replace(&mut self.timer, TimerCmd::Keep) {
            TimerCmd::Arm(ms) => return Action::ArmTimer(ms),
            TimerCmd::Disarm => return Action::DisarmTimer,
            TimerCmd::Keep => {}
        }
        if self.want_opened {
            self.want_opened = false;
            return Action::Opened;
        }
        let sending = matches!(self.phase, Phase::Handshake | Phase::Open | Phase::Closing);
        let limit = if self.parser.is_some() {
            self.gate
        } else {
            self.out.len()
        };
        if sending && !self.busy && self.head < limit {
            let end = limit.min(self.head.saturating_add(MAX_CHUNK));
            if let Some(chunk) = self.out.as_slice().get(self.head..end) {
                return Action::Send(chunk);
            }
        }
        Action::Idle
    }

    /// User send (`ws_send`): as [`Client::send`], except that when the
    /// connection is open with nothing queued or due and the frame fits in
    /// `DIRECT_FRAME` bytes, it is encoded on the stack and handed to `port`
    /// (`ws_port_send`: it copies the bytes and calls no event) instead of
    /// the heap send queue. A frame the port refuses (busy) is queued.
    /// `Ok(true)`: the port took the frame directly and no action is due.
    #[inline]
    pub fn send_via(
        &mut self,
        opcode: UserOpcode,
        payload: &[u8],
        port: impl FnOnce(&[u8]) -> i32,
    ) -> Result<bool, Status> {
        let UserOpcode(opcode) = opcode;
        // A direct frame has a 7-bit length: 2 header bytes + the mask.
        const HEADER: usize = 6;
        let total = payload.len().saturating_add(HEADER);
        // Open implies no final status yet (`end` leaves Open) and no
        // response parser (freed when the connection opens).
        if total > DIRECT_FRAME || self.phase != Phase::Open || self.busy || !self.out.is_empty() {
            return self.send(opcode, payload).map(|()| false);
        }
        // No opcode check: a `UserOpcode` is valid, and a direct payload
        // (at most 122 bytes) is short enough for a ping or pong.
        let mut buf = [0u8; DIRECT_FRAME];
        let (frame, _) = buf.split_at_mut(total.min(DIRECT_FRAME));
        let Some(([b0, b1, m0, m1, m2, m3], body)) = frame.split_first_chunk_mut::<HEADER>() else {
            return Err(status::WS_ERR_OTHER);
        };
        let mask = self.rng.mask();
        *b0 = 0x80 | (opcode & 0x0F);
        *b1 = 0x80 | payload.len() as u8;
        [*m0, *m1, *m2, *m3] = mask;
        frame::mask_into(body, payload, mask, 0);
        let r = port(frame);
        if r == PORT_BUSY {
            // Sent once the due `ws_event_sent` has come.
            self.busy = true;
            if self.out.extend(frame).is_err() {
                self.end(status::WS_ERR_NO_MEMORY_SEND);
                return Err(status::WS_ERR_NO_MEMORY_SEND);
            }
            return Ok(false);
        }
        if r < 0 {
            self.end(Status::espconn(r));
            return Ok(false);
        }
        self.inflight = self.inflight.saturating_add(1);
        Ok(true)
    }

    /// Result of the `ws_port_send` for the chunk last returned by `poll`.
    pub fn send_result(&mut self, r: i32) {
        if r == PORT_BUSY {
            self.busy = true;
            return;
        }
        if r < 0 {
            self.end(Status::espconn(r));
            return;
        }
        let limit = if self.parser.is_some() {
            self.gate
        } else {
            self.out.len()
        };
        self.head = limit.min(self.head.saturating_add(MAX_CHUNK));
        self.inflight = self.inflight.saturating_add(1);
        // The request stays until the response is checked against it.
        if self.head >= self.out.len() && self.parser.is_none() {
            self.out.free();
            self.forget_sent();
        }
    }

    /// The queue's first `head` bytes are gone: rebase the offsets into it.
    fn forget_sent(&mut self) {
        self.gate = self.gate.saturating_sub(self.head);
        self.pong_start = self.pong_start.saturating_sub(self.head);
        self.pong_end = self.pong_end.saturating_sub(self.head);
        self.head = 0;
    }

    /// `ws_event_sent`: one accepted chunk has gone out.
    pub fn sent(&mut self) {
        self.inflight = self.inflight.saturating_sub(1);
        self.busy = false;
        self.sent_check();
    }

    /// Name resolution ended (for `ws_port_resolve` == DONE call it at once).
    pub fn resolved(&mut self, ok: bool) {
        if self.phase != Phase::Resolving {
            return;
        }
        if !ok {
            self.end(status::WS_ERR_DNS);
            return;
        }
        self.phase = Phase::Connecting;
        self.timer = TimerCmd::Arm(self.opts.connect_timeout_ms);
        self.want_connect = true;
    }

    /// A port call failed with espconn error `err` (< 0).
    pub fn port_error(&mut self, err: i32) {
        if self.phase != Phase::Done {
            self.end(Status::espconn(err));
        }
    }

    /// TCP (and TLS) is up: the request goes out.
    pub fn connected(&mut self) {
        if self.phase == Phase::Connecting {
            self.phase = Phase::Handshake;
        }
    }

    /// `ws_event_disconnected`.
    pub fn disconnected(&mut self, err: i32) {
        let st = match self.phase {
            Phase::Done => return,
            _ if err < 0 => Status::espconn(err),
            Phase::Closing => self.pending,
            _ => status::WS_ERR_TCP_CLOSED,
        };
        self.end(st);
    }

    /// `ws_event_timer`.
    pub fn timer(&mut self) {
        match self.phase {
            Phase::Connecting | Phase::Handshake => self.end(status::WS_ERR_CONNECT_TIMEOUT),
            Phase::Open => self.keepalive_tick(),
            Phase::Closing => {
                let p = self.pending;
                self.end(p);
            }
            Phase::Resolving | Phase::Done => {}
        }
    }

    fn keepalive_tick(&mut self) {
        let every = self.opts.ping_interval_ms;
        if every == 0 {
            return;
        }
        // The timer restarts with every received segment, so
        // firing means `every` ms without a byte from the peer.
        let waiting = self.ping_age != NO_PING;
        let age = if waiting {
            self.ping_age.saturating_add(every)
        } else {
            0
        };
        if waiting && age >= self.opts.pong_timeout_ms {
            self.end(status::WS_ERR_PING_TIMEOUT);
            return;
        }
        self.ping_age = age.min(NO_PING - 1);
        if self.queue_frame(OP_PING, &[], &[]).is_err() {
            self.end(status::WS_ERR_NO_MEMORY_SEND);
            return;
        }
        self.timer = TimerCmd::Arm(every);
    }

    /// Call before `receive` for every new segment. While open the peer is
    /// thereby alive: no ping is owed and the keep-alive timer starts over,
    /// for the returned number of ms, which the driver arms itself at once
    /// (once per segment: cheaper than going through `poll`).
    pub fn segment_arrived(&mut self) -> Option<u32> {
        if self.phase == Phase::Open && self.opts.ping_interval_ms > 0 {
            self.ping_age = NO_PING;
            return Some(self.opts.ping_interval_ms);
        }
        None
    }

    /// Encodes one masked frame into the send queue (see `Buf` for the
    /// growth); its
    /// payload is `payload` followed by `tail`.
    fn queue_frame(&mut self, opcode: u8, payload: &[u8], tail: &[u8]) -> Result<(), Status> {
        if self.head > 0 && self.parser.is_none() {
            self.out.drop_front(self.head);
            self.forget_sent();
        }
        let n = payload.len().saturating_add(tail.len());
        let hl = frame::header_len(n);
        let total = hl.checked_add(n).ok_or(status::WS_ERR_NO_MEMORY_SEND)?;
        self.out
            .reserve_exact(total)
            .map_err(|_| status::WS_ERR_NO_MEMORY_SEND)?;
        let mask = self.rng.mask();
        let dst = self.out.spare(total).ok_or(status::WS_ERR_NO_MEMORY_SEND)?;
        let (h, body) = dst.split_at_mut_checked(hl).ok_or(status::WS_ERR_OTHER)?;
        if frame::write_header(h, true, opcode, n, mask) != hl {
            return Err(status::WS_ERR_OTHER);
        }
        let (b1, b2) = body
            .split_at_mut_checked(payload.len())
            .ok_or(status::WS_ERR_OTHER)?;
        frame::mask_into(b1, payload, mask, 0);
        // The tail is short (a close reason): byte by byte.
        for (i, (d, s)) in b2.iter_mut().zip(tail).enumerate() {
            *d = s ^ mask[payload.len().wrapping_add(i) & 3];
        }
        self.out.commit(total);
        Ok(())
    }

    /// User send. Errors (connection unaffected): `BAD_OPCODE`,
    /// `NOT_CONNECTED`; `NO_MEMORY_SEND` ends the connection with -16.
    pub fn send(&mut self, opcode: u8, payload: &[u8]) -> Result<(), Status> {
        check_send_opcode(opcode, payload)?;
        if !matches!(self.phase, Phase::Handshake | Phase::Open) {
            return Err(status::WS_ERR_NOT_CONNECTED);
        }
        let r = self.queue_frame(opcode, payload, &[]);
        if let Err(e) = r {
            self.end(e);
        }
        r
    }

    /// User close (`ws_close`): code 1000, no reason.
    pub fn close(&mut self) {
        self.close_with(1000, &[]);
    }

    /// User close with a code and reason. A code an endpoint may not send,
    /// a reason over 123 bytes or not UTF-8 is replaced by 1000 and no
    /// reason.
    pub fn close_with(&mut self, code: u16, reason: &[u8]) {
        match self.phase {
            Phase::Resolving | Phase::Connecting | Phase::Handshake => self.end(status::WS_OK),
            Phase::Open => {
                self.user_closed = true;
                let (code, reason) = if message::close_code_allowed(code)
                    && reason.len() <= frame::MAX_CONTROL_PAYLOAD - 2
                    && message::valid_utf8(reason)
                {
                    (code, reason)
                } else {
                    (1000, &[][..])
                };
                self.start_close(status::WS_OK, &code.to_be_bytes(), reason);
            }
            Phase::Closing | Phase::Done => {}
        }
    }

    /// Open -> Closing: queues our close frame (`body`, then `tail`) and
    /// arms the close timer; `st` is reported at the end. False (and the
    /// connection ended with `st`) if the frame could not be queued.
    fn start_close(&mut self, st: Status, body: &[u8], tail: &[u8]) -> bool {
        self.phase = Phase::Closing;
        self.pending = st;
        self.timer = TimerCmd::Arm(self.opts.close_timeout_ms);
        if self.queue_frame(OP_CLOSE, body, tail).is_err() {
            self.end(st);
            return false;
        }
        true
    }

    /// A protocol violation by the server while open: close with the code.
    fn protocol_error(&mut self, st: Status, code: u16) {
        match self.phase {
            Phase::Open => {
                self.stop_rx = true;
                self.finish_when_sent = true;
                self.start_close(st, &code.to_be_bytes(), &[]);
            }
            // Our close frame is out already: just wait for the end.
            Phase::Closing => self.stop_rx = true,
            _ => self.end(st),
        }
    }

    fn fail(&mut self, st: Status) {
        match st {
            status::WS_ERR_NO_MEMORY_MESSAGE
            | status::WS_ERR_NO_MEMORY_CONTROL
            | status::WS_ERR_OTHER => self.end(st),
            _ => self.protocol_error(st, message::close_code_for(st)),
        }
    }

    fn handshake_done(&mut self) {
        self.parser = None;
        // The request is no longer needed: free it once it has all gone
        // out (else the next queue_frame drops what has been sent).
        if self.head >= self.out.len() {
            self.out.free();
            self.forget_sent();
        }
        self.phase = Phase::Open;
        self.want_opened = true;
        self.timer = if self.opts.ping_interval_ms > 0 {
            TimerCmd::Arm(self.opts.ping_interval_ms)
        } else {
            TimerCmd::Disarm
        };
    }

    // A side effect in a match guard would be less obvious than this `if`.
    #[allow(clippy::collapsible_match)]
    fn control(&mut self, opcode: u8, p: &[u8]) {
        match opcode {
            OP_PING => {
                // Answer pings while open; after a close frame nothing more
                // is sent. At most one pong waits in the queue, so a ping
                // flood against a peer that does not read cannot grow it
                // without bound. RFC 6455 5.5.3 lets an endpoint answer only
                // the most recent ping: an earlier pong that is still the
                // last thing queued, none of it handed to the port, is
                // replaced; if other frames follow it, this ping goes
                // without a pong of its own.
                if self.phase != Phase::Open {
                    return;
                }
                if self.pong_end > self.head {
                    if self.pong_start < self.head || self.pong_end != self.out.len() {
                        return;
                    }
                    self.out.truncate(self.pong_start);
                }
                if self.queue_frame(OP_PONG, p, &[]).is_err() {
                    self.end(status::WS_ERR_NO_MEMORY_SEND);
                    return;
                }
                self.pong_end = self.out.len();
                self.pong_start = self
                    .pong_end
                    .saturating_sub(frame::header_len(p.len()) + p.len());
            }
            OP_CLOSE => match message::check_close(p) {
                Err((st, code)) => self.protocol_error(st, code),
                Ok(code) => {
                    self.stop_rx = true;
                    self.close_code = code.unwrap_or(1005);
                    // Out of memory for the reason: reported without one.
                    let _ = self.info.extend(p.get(2..).unwrap_or(&[]));
                    if self.phase == Phase::Open {
                        self.finish_when_sent = true;
                        let body = code.map(u16::to_be_bytes);
                        let body = body.as_ref().map_or(&[][..], |b| &b[..]);
                        if self.start_close(status::WS_ERR_SERVER_CLOSED, body, &[]) {
                            // Maybe nothing is in flight: finish once sent.
                            self.sent_check();
                        }
                    }
                }
            },
            _ => {}
        }
    }

    fn sent_check(&mut self) {
        if self.finish_when_sent && self.inflight == 0 && self.out.is_empty() {
            let p = self.pending;
            self.end(p);
        }
    }

    /// Processes received bytes from `data[*pos..]` until something is to be
    /// delivered or done. May modify `data` (NUL terminators, see [`Rx`]).
    /// For each new segment the caller calls [`Client::segment_arrived`],
    /// then starts at position 0; within a segment it may try
    /// [`Client::whole_message`] first.
    pub fn receive(&mut self, data: &mut [u8], pos: &mut usize) -> Rx {
        loop {
            if self.stop_rx {
                *pos = data.len();
                return Rx::Done;
            }
            match self.phase {
                Phase::Handshake if *pos >= data.len() => return Rx::Done,
                Phase::Handshake => {
                    let Some(parser) = self.parser.as_mut() else {
                        self.end(status::WS_ERR_OTHER);
                        return Rx::Done;
                    };
                    let rest = data.get(*pos..).unwrap_or(&[]);
                    match parser.feed(rest) {
                        Parsed::NeedMore => {
                            *pos = data.len();
                            return Rx::Done;
                        }
                        Parsed::Failed(e) => {
                            self.end(e);
                            return Rx::Done;
                        }
                        Parsed::Done { used } => {
                            *pos = pos.saturating_add(used).min(data.len());
                            let chosen = parser.protocol();
                            let request = self.out.as_slice().get(..self.gate).unwrap_or(&[]);
                            if !handshake::protocol_offered(request, chosen) {
                                self.end(status::WS_ERR_BAD_ACCEPT);
                                return Rx::Done;
                            }
                            if !chosen.is_empty() {
                                if self.info.extend(chosen).is_err() || self.info.push(0).is_err() {
                                    self.end(status::WS_ERR_NO_MEMORY_HANDSHAKE);
                                    return Rx::Done;
                                }
                                self.proto_len = u8::try_from(self.info.len()).unwrap_or(0);
                            }
                            // Arms the keep-alive timer: its clock starts
                            // with the response.
                            self.handshake_done();
                            return Rx::Again;
                        }
                    }
                }
                Phase::Open | Phase::Closing => {}
                _ => {
                    *pos = data.len();
                    return Rx::Done;
                }
            }
            let Some(d) = self.decoder.next(data, pos) else {
                return Rx::Done;
            };
            let frame_end = self.decoder.at_frame_end();
            match self.asm.feed(data, *pos, d, frame_end) {
                // The segment is used up mid-frame (a large message).
                Item::Nothing if *pos >= data.len() && !frame_end => return Rx::Done,
                Item::Nothing => {}
                Item::Piece {
                    opcode,
                    start,
                    end,
                    fin,
                } => {
                    if self.user_closed {
                        continue;
                    }
                    return Rx::Fragment {
                        opcode,
                        start,
                        len: end.saturating_sub(start),
                        fin,
                    };
                }
                Item::Error(e) => {
                    self.fail(e);
                    return Rx::Again;
                }
                Item::Control { opcode, payload } => {
                    match payload {
                        Payload::InPlace { start, end } => {
                            let p = data.get(start..end).unwrap_or(&[]);
                            self.control(opcode, p);
                        }
                        Payload::Owned(b) => self.control(opcode, b.as_slice()),
                    }
                    return Rx::Again;
                }
                Item::Message { opcode, payload } => {
                    if self.user_closed {
                        continue;
                    }
                    return match payload {
                        Payload::Owned(buf) => Rx::Owned { opcode, buf },
                        Payload::InPlace { start, end } => self.in_place(data, opcode, start, end),
                    };
                }
            }
        }
    }

    /// Fast path for the common case: between frames, with no message in
    /// progress, a final text/binary frame with a 7- or 16-bit length that
    /// lies wholly in `data[*pos..]`, within the size limit and (text) valid
    /// UTF-8, is delivered in place at once. Anything else, errors included,
    /// returns `None` with nothing consumed: the frame-by-frame path then
    /// decodes the same bytes and gives the same result.
    /// The payload ends before the segment does: the byte after it is
    /// replaced by a NUL, to be restored from `saved` after the callback.
    #[inline]
    pub fn whole_message(&mut self, data: &mut [u8], pos: &mut usize) -> Option<Whole> {
        if self.phase != Phase::Open
            || self.stop_rx
            || self.user_closed
            || !self.decoder.between_frames()
            || !self.asm.idle()
        {
            return None;
        }
        let at = *pos;
        let (b0, b1) = match data.get(at..)? {
            [b0 @ (0x81 | 0x82), b1, ..] => (*b0, *b1),
            _ => return None,
        };
        let (len, start) = match b1 {
            0..=125 => (usize::from(b1), at + 2),
            126 => {
                let &[hi, lo] = data.get(at + 2..at + 4)? else {
                    return None;
                };
                (usize::from(u16::from_be_bytes([hi, lo])), at + 4)
            }
            _ => return None,
        };
        let end = start + len;
        let payload = data.get(start..end)?;
        let opcode = b0 & 0x0F;
        if len > self.asm.max_message() as usize || opcode == OP_TEXT && !valid_utf8(payload) {
            return None;
        }
        let saved = core::mem::replace(data.get_mut(end)?, 0);
        *pos = end;
        Some(Whole {
            opcode,
            saved,
            start,
            len,
        })
    }

    /// NUL-terminates `data[start..end]` without allocating if possible.
    fn in_place(&mut self, data: &mut [u8], opcode: u8, start: usize, end: usize) -> Rx {
        let len = end.saturating_sub(start);
        if let Some(b) = data.get_mut(end) {
            let old = *b;
            *b = 0;
            return Rx::InPlace {
                opcode,
                start,
                len,
                restore: Some((end, old)),
            };
        }
        self.in_place_at_end(data, opcode, start, end)
    }

    /// `in_place` for a payload that ends the segment (no byte after it to
    /// hold the NUL): its frame header precedes it in this segment (an
    /// in-place payload never starts a segment), so the payload moves back
    /// one byte over it and the NUL goes into the freed last byte. Rare: not
    /// inlined into `receive`.
    #[inline(never)]
    fn in_place_at_end(&mut self, data: &mut [u8], opcode: u8, start: usize, end: usize) -> Rx {
        if start == 0 || end != data.len() {
            self.end(status::WS_ERR_OTHER);
            return Rx::Done;
        }
        crate::buffer::shift_left(data, start, end, 1);
        if let Some(last) = data.last_mut() {
            *last = 0;
        }
        Rx::InPlace {
            opcode,
            start: start - 1,
            len: end - start,
            restore: None,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::buffer::stats;
    use crate::frame::{OP_BINARY, OP_CONTINUATION, OP_TEXT};
    use proptest::prelude::*;

    /// An unmasked server frame.
    pub fn sframe(fin: bool, op: u8, payload: &[u8]) -> Vec<u8> {
        let mut v = vec![(u8::from(fin) << 7) | op];
        let n = payload.len();
        if n < 126 {
            v.push(n as u8);
        } else if n < 65536 {
            v.push(126);
            v.extend_from_slice(&(n as u16).to_be_bytes());
        } else {
            v.push(127);
            v.extend_from_slice(&(n as u64).to_be_bytes());
        }
        v.extend_from_slice(payload);
        v
    }

    /// Parses masked client frames: (fin, opcode, unmasked payload).
    pub fn client_frames(mut b: &[u8]) -> Vec<(bool, u8, Vec<u8>)> {
        let mut out = Vec::new();
        while !b.is_empty() {
            assert!(b.len() >= 2, "truncated frame");
            let fin = b[0] & 0x80 != 0;
            let op = b[0] & 0x0F;
            assert_eq!(b[1] & 0x80, 0x80, "client frames must be masked");
            let (len, mut at) = match b[1] & 0x7F {
                126 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
                127 => (
                    u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize,
                    10,
                ),
                n => (n as usize, 2),
            };
            let mask = [b[at], b[at + 1], b[at + 2], b[at + 3]];
            at += 4;
            let p: Vec<u8> = b[at..at + len]
                .iter()
                .enumerate()
                .map(|(i, x)| x ^ mask[i % 4])
                .collect();
            out.push((fin, op, p));
            b = &b[at + len..];
        }
        out
    }

    /// The 101 response answering the request in `req`.
    pub fn response_for(req: &[u8]) -> Vec<u8> {
        response_with(req, "")
    }

    /// The 101 response answering `req`, with `extra` header lines.
    pub fn response_with(req: &[u8], extra: &str) -> Vec<u8> {
        let text = std::str::from_utf8(req).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("Sec-WebSocket-Key: "))
            .expect("key header");
        let key: [u8; 24] = line.as_bytes()["Sec-WebSocket-Key: ".len()..]
            .try_into()
            .unwrap();
        let acc = handshake::accept_for(&key);
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n{extra}Sec-WebSocket-Accept: {}\r\n\r\n",
            std::str::from_utf8(&acc).unwrap()
        )
        .into_bytes()
    }

    /// A scripted driver around a Client.
    pub struct H {
        pub c: Client,
        pub sent: Vec<u8>,
        pub req_len: usize,
        pub chunks: Vec<usize>,
        pub inflight: usize,
        pub auto_ack: bool,
        pub busy: bool,
        pub timer: Option<u32>,
        pub opened: u32,
        pub connect: Option<(u16, bool)>,
        pub msgs: Vec<(u8, Vec<u8>)>,
        /// Streamed pieces: (opcode, bytes, fin).
        pub pieces: Vec<(u8, Vec<u8>, bool)>,
        pub finished: Option<Status>,
        pub send_error: Option<i32>,
        /// Messages delivered by the whole-message fast path.
        pub fast: usize,
    }

    enum A {
        Idle,
        Send(Vec<u8>),
        Other,
        Finish(Status),
    }

    impl H {
        pub fn try_new(opts: Options) -> Result<H, Status> {
            Self::with(opts, None)
        }
        pub fn with(opts: Options, protocols: Option<&[u8]>) -> Result<H, Status> {
            let url = crate::url::parse(b"ws://example.com:8080/chat?x=1").unwrap();
            let c = Client::new(
                &url,
                core::iter::empty::<Header>(),
                protocols,
                opts,
                &[7; 16],
                [3; 16],
            )?;
            Ok(H {
                c,
                sent: Vec::new(),
                req_len: 0,
                chunks: Vec::new(),
                inflight: 0,
                auto_ack: true,
                busy: false,
                timer: None,
                opened: 0,
                connect: None,
                msgs: Vec::new(),
                pieces: Vec::new(),
                finished: None,
                send_error: None,
                fast: 0,
            })
        }
        pub fn new() -> H {
            Self::try_new(Options::DEFAULT).unwrap()
        }
        pub fn pump(&mut self) {
            while self.finished.is_none() {
                let a = match self.c.poll() {
                    Action::Idle => A::Idle,
                    Action::Send(b) => A::Send(b.to_vec()),
                    Action::Connect { port, secure } => {
                        self.connect = Some((port, secure));
                        A::Other
                    }
                    Action::ArmTimer(ms) => {
                        self.timer = Some(ms);
                        A::Other
                    }
                    Action::DisarmTimer => {
                        self.timer = None;
                        A::Other
                    }
                    Action::Opened => {
                        self.opened += 1;
                        A::Other
                    }
                    Action::Finish(st) => A::Finish(st),
                };
                match a {
                    A::Idle => return,
                    A::Other => {}
                    A::Finish(st) => {
                        assert!(self.finished.is_none(), "two final statuses");
                        self.finished = Some(st);
                        return;
                    }
                    A::Send(b) => {
                        assert!(b.len() <= MAX_CHUNK);
                        if let Some(e) = self.send_error.take() {
                            self.c.send_result(e);
                        } else if self.busy {
                            self.c.send_result(PORT_BUSY);
                        } else {
                            self.sent.extend_from_slice(&b);
                            self.chunks.push(b.len());
                            self.c.send_result(0);
                            self.inflight += 1;
                            if self.auto_ack {
                                self.ack();
                            }
                        }
                    }
                }
            }
        }
        /// Receives `s` cut into segments of the lengths in `cuts` (the
        /// rest in one last segment).
        pub fn rx_cut(&mut self, s: &[u8], cuts: &[usize]) {
            let mut at = 0;
            for &c in cuts {
                let end = (at + c).min(s.len());
                self.rx(&s[at..end]);
                at = end;
            }
            self.rx(&s[at..]);
        }
        pub fn ack(&mut self) {
            while self.inflight > 0 {
                self.inflight -= 1;
                self.c.sent();
            }
            self.pump();
        }
        pub fn start(&mut self) {
            self.c.resolved(true);
            self.pump();
            self.c.connected();
            self.pump();
            self.req_len = self.sent.len();
        }
        pub fn response(&self) -> Vec<u8> {
            response_for(&self.sent[..self.req_len])
        }
        pub fn open(&mut self) {
            self.start();
            let r = self.response();
            self.rx(&r);
            assert_eq!(self.opened, 1);
            assert!(self.c.is_open());
        }
        pub fn rx(&mut self, data: &[u8]) {
            let mut d = data.to_vec();
            let mut pos = 0;
            if !d.is_empty() {
                if let Some(ms) = self.c.segment_arrived() {
                    self.timer = Some(ms);
                }
            }
            loop {
                // As the C API does: the whole-message fast path first.
                while pos != 0 {
                    let Some(m) = self.c.whole_message(&mut d, &mut pos) else {
                        break;
                    };
                    assert_eq!(d[m.start + m.len], 0, "NUL after fast-path message");
                    self.msgs
                        .push((m.opcode, d[m.start..m.start + m.len].to_vec()));
                    self.fast += 1;
                    d[m.start + m.len] = m.saved;
                }
                match self.c.receive(&mut d, &mut pos) {
                    Rx::Done => break,
                    Rx::Again => {}
                    Rx::InPlace {
                        opcode,
                        start,
                        len,
                        restore,
                    } => {
                        assert_eq!(d[start + len], 0, "NUL after in-place message");
                        self.msgs.push((opcode, d[start..start + len].to_vec()));
                        if let Some((i, b)) = restore {
                            d[i] = b;
                        }
                    }
                    Rx::Fragment {
                        opcode,
                        start,
                        len,
                        fin,
                    } => {
                        self.pieces
                            .push((opcode, d[start..start + len].to_vec(), fin));
                    }
                    Rx::Owned { opcode, buf } => {
                        let s = buf.as_slice();
                        assert_eq!(s.last(), Some(&0), "NUL after copied message");
                        // Exact for a single frame; a message joined from
                        // fragments may carry up to 50 % growth slack.
                        assert!(buf.capacity() * 2 <= s.len() * 3, "bounded slack");
                        self.msgs.push((opcode, s[..s.len() - 1].to_vec()));
                    }
                }
                self.pump();
            }
            self.pump();
        }
        /// Client frames sent after the handshake request.
        pub fn frames(&self) -> Vec<(bool, u8, Vec<u8>)> {
            client_frames(&self.sent[self.req_len..])
        }
        pub fn timer_fires(&mut self) {
            self.c.timer();
            self.pump();
        }
    }

    fn opened() -> H {
        let mut h = H::new();
        h.open();
        h
    }

    fn opened_with(opts: Options, protocols: Option<&[u8]>, extra: &str) -> H {
        let mut h = H::with(opts, protocols).unwrap();
        h.start();
        let r = response_with(&h.sent[..h.req_len], extra);
        h.rx(&r);
        h
    }

    #[test]
    fn protocol_must_be_offered_and_is_kept() {
        let d = Options::DEFAULT;
        let proto = |p: &str| format!("Sec-WebSocket-Protocol: {p}\r\n");
        // Offered a and b, server picks b.
        let h = opened_with(d, Some(b"a, b"), &proto("b"));
        assert_eq!(h.opened, 1);
        let req = String::from_utf8(h.sent[..h.req_len].to_vec()).unwrap();
        assert!(
            req.contains("\r\nSec-WebSocket-Protocol: a, b\r\n"),
            "{req}"
        );
        assert_eq!(h.c.protocol(), Some(&b"b\0"[..]));
        assert_eq!(h.c.heap_bytes(), 2, "only the protocol is kept");
        // Not offered: -7, no connection event.
        for (offer, answer) in [
            (Some(&b"a, b"[..]), "c"),
            (Some(&b"a, b"[..]), "a, b"),
            (None, "superchat"),
            (Some(&b""[..]), "chat"),
        ] {
            let h = opened_with(d, offer, &proto(answer));
            assert_eq!(
                h.finished,
                Some(status::WS_ERR_BAD_ACCEPT),
                "{offer:?} {answer}"
            );
            assert_eq!(h.opened, 0);
        }
        // The default offer is chat; no answer means no protocol.
        let h = opened_with(d, None, &proto("chat"));
        assert_eq!(h.c.protocol(), Some(&b"chat\0"[..]));
        let h = opened_with(d, Some(b""), "");
        assert_eq!(h.opened, 1);
        assert_eq!(h.c.protocol(), None);
        assert_eq!(h.c.heap_bytes(), 0);
        // Request sent in pieces and a response that arrives before the
        // request's sent event: still checked against the request.
        let mut h = H::with(d, Some(b"x1,x2")).unwrap();
        h.auto_ack = false;
        h.start();
        h.c.send(OP_TEXT, b"early").unwrap();
        let r = response_with(&h.sent[..h.req_len], &proto("x2"));
        h.rx(&r);
        assert_eq!(h.c.protocol(), Some(&b"x2\0"[..]));
        h.ack();
        assert_eq!(h.frames(), vec![(true, OP_TEXT, b"early".to_vec())]);
        h.ack();
        assert_eq!(h.c.heap_bytes(), 3);
    }

    #[test]
    fn close_info_from_the_server() {
        // Server-initiated, code and reason, with a protocol kept as well.
        let mut h = opened_with(Options::DEFAULT, None, "Sec-WebSocket-Protocol: chat\r\n");
        assert_eq!(h.c.close_info(), None);
        h.auto_ack = false;
        h.rx(&sframe(true, OP_CLOSE, &[0x0F, 0xA1, b'b', b'y', b'e']));
        assert_eq!(h.c.close_info(), Some((4001, &b"bye"[..])));
        assert_eq!(h.c.protocol(), Some(&b"chat\0"[..]));
        // Empty close frame: 1005.
        let mut h = opened();
        h.auto_ack = false;
        h.rx(&sframe(true, OP_CLOSE, &[]));
        assert_eq!(h.c.close_info(), Some((1005, &b""[..])));
        // User close answered by the server.
        let mut h = opened();
        h.c.close();
        h.pump();
        h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE8, b'o', b'k']));
        assert_eq!(h.c.close_info(), Some((1000, &b"ok"[..])));
        // Invalid close frame: not recorded.
        let mut h = opened();
        h.auto_ack = false;
        h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE8, 0xFF]));
        assert_eq!(h.finished, None);
        assert_eq!(h.c.close_info(), None);
        // Close frame split across segments (collected in a buffer).
        let mut h = opened();
        h.auto_ack = false;
        let f = sframe(true, OP_CLOSE, &[0x0B, 0xB8, b'a', b'b', b'c', b'd']);
        h.rx(&f[..4]);
        h.rx(&f[4..]);
        assert_eq!(h.c.close_info(), Some((3000, &b"abcd"[..])));
        // Out of memory for the reason: the code alone.
        let mut h = opened();
        h.auto_ack = false;
        stats::fail_nth(1);
        h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE9, b'x']));
        stats::fail_nth(0);
        assert_eq!(h.c.close_info(), Some((1001, &b""[..])));
    }

    #[test]
    fn user_close_with_code_and_reason() {
        let close = |code: u16, reason: &[u8]| {
            let mut h = opened();
            h.c.close_with(code, reason);
            h.pump();
            assert_eq!(h.c.connection_state(), 3, "3 through the closing handshake");
            h.frames()
        };
        let f = |c: u16, r: &[u8]| vec![(true, OP_CLOSE, [&c.to_be_bytes()[..], r].concat())];
        assert_eq!(close(4001, b"why"), f(4001, b"why"));
        assert_eq!(close(1001, b""), f(1001, b""));
        let max = [b'r'; 123];
        assert_eq!(close(3000, &max), f(3000, &max));
        // Not allowed: replaced by 1000 without a reason.
        for (code, reason) in [
            (1005u16, &b"x"[..]),
            (999, b""),
            (1004, b""),
            (5000, b""),
            (1000, &[b'r'; 124][..]),
            (4000, &[0xFF][..]),
        ] {
            assert_eq!(close(code, reason), f(1000, b""), "{code}");
        }
        // Before the handshake: at once, nothing sent, status 0.
        let mut h = H::new();
        h.start();
        h.c.close_with(4000, b"x");
        h.pump();
        assert_eq!(h.finished, Some(status::WS_OK));
        assert_eq!(h.sent.len(), h.req_len);
    }

    fn streaming() -> H {
        let mut h = H::try_new(Options {
            stream: true,
            max_message: 10,
            ..Options::DEFAULT
        })
        .unwrap();
        h.open();
        h
    }

    #[test]
    fn streaming_delivers_pieces_without_buffering() {
        let mut h = streaming();
        let msg: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        let mut seg = sframe(false, OP_BINARY, &msg[..40_000]);
        seg.extend(sframe(true, OP_PING, b"p"));
        seg.extend(sframe(false, OP_CONTINUATION, &msg[40_000..99_999]));
        seg.extend(sframe(true, OP_CONTINUATION, &msg[99_999..]));
        seg.extend(sframe(true, OP_TEXT, b"next"));
        seg.extend(sframe(false, OP_TEXT, b"x"));
        seg.extend(sframe(true, OP_CONTINUATION, b""));
        let n = stats::total();
        for c in seg.chunks(1460) {
            h.rx(c);
        }
        assert_eq!(stats::total() - n, 1, "only the pong is allocated");
        assert!(h.msgs.is_empty(), "no whole messages in streaming mode");
        assert_eq!(h.finished, None, "max_message does not apply");
        assert_eq!(h.frames(), vec![(true, OP_PONG, b"p".to_vec())]);
        // Pieces: per frame and per segment, opcode on each, fin on the last.
        let first: Vec<_> = h.pieces.iter().take_while(|p| p.0 == OP_BINARY).collect();
        let joined: Vec<u8> = first.iter().flat_map(|p| p.1.clone()).collect();
        assert_eq!(joined, msg);
        assert!(first.len() >= 100_000 / 1460);
        assert!(first.iter().all(|p| p.1.len() <= 1460 && !p.1.is_empty()));
        assert!(first[..first.len() - 1].iter().all(|p| !p.2));
        assert!(first.last().unwrap().2);
        assert_eq!(first.last().unwrap().1, vec![msg[99_999]]);
        let rest: Vec<_> = h.pieces[first.len()..].to_vec();
        assert_eq!(
            rest,
            vec![
                (OP_TEXT, b"next".to_vec(), true),
                (OP_TEXT, b"x".to_vec(), false),
                (OP_TEXT, vec![], true),
            ]
        );
        assert_eq!(h.c.heap_bytes(), 0);
        // After a user close pieces are dropped.
        h.pieces.clear();
        h.c.close();
        h.pump();
        h.rx(&sframe(true, OP_TEXT, b"late"));
        assert!(h.pieces.is_empty());
    }

    #[test]
    fn streaming_validates_utf8_incrementally() {
        // A character split across pieces is fine.
        let mut h = streaming();
        let seg = sframe(true, OP_TEXT, "é€😀".as_bytes());
        for c in seg.chunks(3) {
            h.rx(c);
        }
        let all: Vec<u8> = h.pieces.iter().flat_map(|p| p.1.clone()).collect();
        assert_eq!(all, "é€😀".as_bytes());
        assert_eq!(h.finished, None);
        // Invalid byte: -25 with close 1007, the bad piece is not delivered.
        let mut h = streaming();
        h.rx(&sframe(false, OP_TEXT, b"fine"));
        h.rx(&sframe(true, OP_CONTINUATION, b"\xFF"));
        assert_eq!(h.pieces, vec![(OP_TEXT, b"fine".to_vec(), false)]);
        assert_eq!(h.finished, Some(status::WS_ERR_INVALID_UTF8));
        assert_eq!(
            h.frames(),
            vec![(true, OP_CLOSE, 1007u16.to_be_bytes().to_vec())]
        );
        // Ends inside a character: in the last frame, or after an empty one.
        for tail in [
            sframe(true, OP_TEXT, b"ab\xE2\x82"),
            [
                sframe(false, OP_TEXT, b"ab\xE2\x82"),
                sframe(true, OP_CONTINUATION, b""),
            ]
            .concat(),
        ] {
            let mut h = streaming();
            h.rx(&tail);
            assert_eq!(h.finished, Some(status::WS_ERR_INVALID_UTF8));
            assert!(h.pieces.iter().all(|p| !p.2), "no fin piece");
        }
        // Binary is not checked.
        let mut h = streaming();
        h.rx(&sframe(true, OP_BINARY, b"\xFF"));
        assert_eq!(h.pieces, vec![(OP_BINARY, vec![0xFF], true)]);
        // Fragmentation rules still apply.
        let mut h = streaming();
        h.rx(&sframe(true, OP_CONTINUATION, b"x"));
        assert_eq!(h.finished, Some(status::WS_ERR_FRAGMENTATION));
    }

    #[test]
    fn request_goes_out_after_connect_with_connect_timer() {
        let mut h = H::new();
        assert_eq!(h.c.connection_state(), 1);
        h.c.resolved(true);
        h.pump();
        assert_eq!(h.connect, Some((8080, false)));
        assert_eq!(h.timer, Some(10_000));
        assert_eq!(h.c.connection_state(), 2);
        assert!(h.sent.is_empty());
        h.c.connected();
        h.pump();
        assert_eq!(h.c.connection_state(), 3);
        assert!(h.sent.starts_with(b"GET /chat?x=1 HTTP/1.1\r\n"));
        assert!(h.sent.ends_with(b"\r\n\r\n"));
    }

    #[test]
    fn open_arms_keepalive_and_frees_parser() {
        let mut h = H::new();
        h.start();
        let before = h.c.heap_bytes();
        let r = h.response();
        h.rx(&r);
        assert_eq!(h.opened, 1);
        assert_eq!(h.timer, Some(30_000));
        assert!(h.c.heap_bytes() < before);
        assert_eq!(h.c.heap_bytes(), 0, "idle open connection holds no heap");
    }

    #[test]
    fn response_split_with_first_frame_glued() {
        let mut h = H::new();
        h.start();
        let mut all = h.response();
        all.extend(sframe(true, OP_TEXT, b"hello"));
        all.extend(sframe(true, OP_BINARY, &[1, 2, 3]));
        for chunk in all.chunks(7) {
            h.rx(chunk);
        }
        assert_eq!(h.opened, 1);
        assert_eq!(h.msgs, vec![(1, b"hello".to_vec()), (2, vec![1, 2, 3])]);
    }

    #[test]
    fn in_place_messages_allocate_nothing() {
        let mut h = opened();
        let mut seg = sframe(true, OP_TEXT, b"abc");
        seg.extend(sframe(true, OP_BINARY, b""));
        seg.extend(sframe(true, OP_TEXT, b"last one"));
        let n = stats::total();
        h.rx(&seg);
        assert_eq!(stats::total(), n, "no allocation for in-segment messages");
        assert_eq!(
            h.msgs,
            vec![(1, b"abc".to_vec()), (2, vec![]), (1, b"last one".to_vec())]
        );
    }

    #[test]
    fn whole_message_fast_path_and_its_fallbacks() {
        let mut h = opened();
        let long = vec![b'x'; 300]; // 16-bit length
        let mut seg = sframe(true, OP_TEXT, b"first"); // segment start: frame path
        seg.extend(sframe(true, OP_TEXT, b"fast"));
        seg.extend(sframe(true, OP_BINARY, &long));
        seg.extend(sframe(true, OP_TEXT, "\u{e9}t\u{e9}".as_bytes()));
        seg.extend(sframe(true, OP_PING, b"p")); // control: frame path
        seg.extend(sframe(false, OP_TEXT, b"frag")); // fragment: frame path
        seg.extend(sframe(true, OP_CONTINUATION, b"ment"));
        seg.extend(sframe(true, OP_TEXT, b"end")); // ends the segment: frame path
        let n = stats::total();
        h.rx(&seg);
        // Only the pong's send queue and the fragments' buffer (+ growth).
        assert_eq!(stats::total() - n, 3);
        let want: Vec<(u8, Vec<u8>)> = vec![
            (1, b"first".to_vec()),
            (1, b"fast".to_vec()),
            (2, long.clone()),
            (1, "\u{e9}t\u{e9}".as_bytes().to_vec()),
            (1, b"fragment".to_vec()),
            (1, b"end".to_vec()),
        ];
        assert_eq!(h.msgs, want);
        assert_eq!(h.fast, 3, "fast, the 300 bytes and the UTF-8 one");
        // Invalid UTF-8 and an oversized message fall back and fail as usual.
        let mut bad = sframe(true, OP_TEXT, b"ok");
        bad.extend(sframe(true, OP_TEXT, &[0xC0, 0x80]));
        bad.extend(sframe(true, OP_TEXT, b"never"));
        let (st, _) = status_after(&bad);
        assert_eq!(st, Some(status::WS_ERR_INVALID_UTF8));
        let mut h = H::try_new(Options {
            max_message: 4,
            ..Options::DEFAULT
        })
        .unwrap();
        h.open();
        let mut big = sframe(true, OP_TEXT, b"ok");
        big.extend(sframe(true, OP_TEXT, b"12345"));
        big.extend(sframe(true, OP_TEXT, b"never"));
        h.rx(&big);
        assert_eq!(h.finished, Some(status::WS_ERR_MESSAGE_TOO_BIG));
        assert_eq!(h.msgs, vec![(1, b"ok".to_vec())]);
    }

    #[test]
    fn defect_fragmented_message_joined_correctly() {
        let mut h = opened();
        let mut seg = sframe(false, OP_TEXT, b"Hello, ");
        seg.extend(sframe(false, OP_CONTINUATION, b"fragmented "));
        seg.extend(sframe(false, OP_CONTINUATION, b""));
        seg.extend(sframe(true, OP_CONTINUATION, b"world"));
        h.rx(&seg);
        assert_eq!(h.msgs, vec![(1, b"Hello, fragmented world".to_vec())]);
        // Binary, four fragments across segment boundaries.
        let big: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let mut seg = sframe(false, OP_BINARY, &big[..100]);
        seg.extend(sframe(false, OP_CONTINUATION, &big[100..400]));
        seg.extend(sframe(false, OP_CONTINUATION, &big[400..999]));
        seg.extend(sframe(true, OP_CONTINUATION, &big[999..]));
        for c in seg.chunks(33) {
            h.rx(c);
        }
        assert_eq!(h.msgs.len(), 2);
        assert_eq!(h.msgs[1].0, 2);
        assert_eq!(h.msgs[1].1.len(), 1000);
        assert_eq!(h.msgs[1].1, big);
    }

    #[test]
    fn defect_control_frame_between_fragments() {
        let mut h = opened();
        let mut seg = sframe(false, OP_TEXT, b"one ");
        seg.extend(sframe(true, OP_PING, b"are you there"));
        seg.extend(sframe(false, OP_CONTINUATION, b"two "));
        seg.extend(sframe(true, OP_PONG, b"x"));
        seg.extend(sframe(true, OP_CONTINUATION, b"three"));
        for c in seg.chunks(5) {
            h.rx(c);
        }
        assert_eq!(h.msgs, vec![(1, b"one two three".to_vec())]);
        assert_eq!(h.frames(), vec![(true, OP_PONG, b"are you there".to_vec())]);
    }

    #[test]
    fn defect_receive_not_quadratic() {
        // One 64 KiB frame in 1000 segments: one allocation of exactly
        // size + 1, each byte copied once (no regrowth).
        let mut h = opened();
        let msg: Vec<u8> = (0..65_536u32).map(|i| i as u8).collect();
        let seg = sframe(true, OP_BINARY, &msg);
        let n = stats::total();
        let copied = stats::copied();
        for c in seg.chunks(seg.len() / 1000 + 1) {
            h.rx(c);
        }
        assert_eq!(stats::total() - n, 1);
        // Each payload byte copied once, plus the NUL.
        assert!(stats::copied() - copied <= msg.len() + 1);
        assert_eq!(h.msgs, vec![(2, msg.clone())]);
        // Fed as fragments of `part` bytes in segments of `seg` bytes:
        // returns the allocations it took.
        let mut fragments = |part: usize, seg: usize| {
            let parts: Vec<&[u8]> = msg.chunks(part).collect();
            let mut stream = Vec::new();
            for (i, p) in parts.iter().enumerate() {
                let op = if i == 0 { OP_BINARY } else { OP_CONTINUATION };
                stream.extend(sframe(i + 1 == parts.len(), op, p));
            }
            let n = stats::total();
            for c in stream.chunks(seg) {
                h.rx(c);
            }
            assert_eq!(h.msgs.last(), Some(&(2, msg.clone())));
            stats::total() - n
        };
        // 16 fragments across many segments: at most one (re)allocation each.
        let allocs = fragments(4096, 1400);
        assert!(allocs <= 16, "{allocs} allocations for 16 fragments");
        // 4096 fragments of 16 bytes: reallocations grow geometrically, so
        // their number is logarithmic, not one per fragment (each realloc
        // may copy the whole buffer on allocators that cannot grow in place).
        let allocs = fragments(16, 1460);
        assert!(allocs <= 32, "{allocs} allocations for 4096 fragments");
    }

    #[test]
    fn defect_no_frame_before_handshake_done() {
        let mut h = H::new();
        h.start();
        assert_eq!(h.c.send(OP_TEXT, b"early"), Ok(()));
        h.pump();
        assert_eq!(
            h.sent.len(),
            h.req_len,
            "nothing but the request before the 101"
        );
        let r = h.response();
        h.rx(&r[..10]);
        assert_eq!(h.sent.len(), h.req_len);
        h.rx(&r[10..]);
        assert_eq!(h.frames(), vec![(true, OP_TEXT, b"early".to_vec())]);
    }

    /// `ws_send_long` on the harness: a frame sent directly gets "port"
    /// result `r` (0 = accepted, recorded as sent); returns its length, or
    /// 0 if it was queued instead.
    fn direct(h: &mut H, op: u8, payload: &[u8], r: i32) -> Result<usize, Status> {
        let mut got = Vec::new();
        let op = UserOpcode::new(op).ok_or(status::WS_ERR_BAD_OPCODE)?;
        h.c.send_via(op, payload, |f| {
            got = f.to_vec();
            r
        })?;
        if r == 0 && !got.is_empty() {
            h.sent.extend_from_slice(&got);
            h.chunks.push(got.len());
            h.inflight += 1;
        }
        Ok(got.len())
    }

    #[test]
    fn small_sends_skip_the_heap_and_keep_order() {
        let mut h = opened();
        h.auto_ack = false;
        let allocs = stats::total();
        assert_eq!(direct(&mut h, OP_TEXT, b"hello", 0), Ok(11));
        assert_eq!(direct(&mut h, OP_PING, b"", 0), Ok(6));
        assert_eq!(stats::total(), allocs, "no allocation");
        assert_eq!(h.c.heap_bytes(), 0);
        // Largest direct frame: 6 + 122 bytes; one more goes to the queue.
        assert_eq!(direct(&mut h, OP_BINARY, &[1; 122], 0), Ok(128));
        assert_eq!(direct(&mut h, OP_BINARY, &[2; 123], 0), Ok(0));
        // Something queued: the next small frame queues behind it.
        assert_eq!(direct(&mut h, OP_TEXT, b"queued", 0), Ok(0));
        h.ack();
        assert_eq!(direct(&mut h, OP_TEXT, b"later", 0), Ok(11));
        // Refused by a busy port: queued, sent after the due sent event;
        // meanwhile small frames queue behind it.
        assert_eq!(direct(&mut h, OP_TEXT, b"refused", PORT_BUSY), Ok(13));
        assert_eq!(direct(&mut h, OP_TEXT, b"after", 0), Ok(0));
        h.pump();
        h.ack();
        let f = h.frames();
        let payloads: Vec<&[u8]> = f.iter().map(|(_, _, p)| p.as_slice()).collect();
        assert_eq!(
            payloads,
            vec![
                &b"hello"[..],
                b"",
                &[1; 122],
                &[2; 123],
                b"queued",
                b"later",
                b"refused",
                b"after"
            ]
        );
        assert_eq!(f[1].1, OP_PING);
        assert!(f.iter().all(|(fin, _, _)| *fin));
        assert_eq!(h.c.heap_bytes(), 0, "queue freed when drained");
        // Opcode checks as `send`; before the handshake finished the frame
        // is held in the queue.
        assert_eq!(direct(&mut h, 3, b"", 0), Err(status::WS_ERR_BAD_OPCODE));
        assert_eq!(
            direct(&mut h, OP_PING, &[0; 126], 0),
            Err(status::WS_ERR_BAD_OPCODE)
        );
        let mut h2 = H::new();
        h2.start();
        assert_eq!(direct(&mut h2, OP_TEXT, b"early", 0), Ok(0));
        // A port error ends the connection (err - 100).
        assert_eq!(direct(&mut h, OP_TEXT, b"boom", -9), Ok(10));
        h.pump();
        assert_eq!(h.finished, Some(Status::espconn(-9)));
    }

    #[test]
    fn defect_send_queue_respects_busy() {
        let mut h = opened();
        h.auto_ack = false;
        h.c.send(OP_TEXT, b"first").unwrap();
        h.pump();
        h.busy = true;
        let big = vec![0x5Au8; 70_000];
        h.c.send(OP_BINARY, &big).unwrap();
        h.c.send(OP_TEXT, b"third").unwrap();
        h.pump();
        let before = h.sent.len();
        h.busy = false;
        h.pump(); // nothing moves until a sent event
        assert_eq!(h.sent.len(), before);
        h.ack();
        h.ack();
        h.ack();
        let f = h.frames();
        assert_eq!(f.len(), 3);
        assert_eq!(f[0].2, b"first");
        assert_eq!(f[1].2, big);
        assert_eq!(f[2].2, b"third");
        assert!(h.chunks.iter().all(|&c| c <= MAX_CHUNK));
    }

    #[test]
    fn ping_flood_against_a_peer_that_does_not_read_keeps_one_pong() {
        let mut h = opened();
        h.auto_ack = false;
        h.c.send(OP_TEXT, b"x").unwrap();
        h.pump(); // accepted: one sent event due
        h.busy = true;
        let live = stats::live_bytes();
        for i in 0..1000u32 {
            h.rx(&sframe(true, OP_PING, &[i as u8; 125]));
            assert!(
                stats::live_bytes() - live <= 125 + 14,
                "ping {i}: queue grows"
            );
        }
        // The peer reads again: exactly one pong went out for the flood,
        // answering the most recent ping, and the next ping is answered
        // with its own payload.
        h.busy = false;
        h.ack();
        h.ack();
        h.rx(&sframe(true, OP_PING, b"later"));
        h.ack();
        let f = h.frames();
        assert_eq!(f.len(), 3);
        assert_eq!(f[1], (true, OP_PONG, vec![(999 % 256) as u8; 125]));
        assert_eq!(f[2], (true, OP_PONG, b"later".to_vec()));
    }

    #[test]
    fn defect_close_reason_parsed_correctly() {
        let mut h = opened();
        h.rx(&sframe(true, OP_CLOSE, &[0x0F, 0xA0, b'b', b'y', b'e']));
        assert_eq!(h.frames(), vec![(true, OP_CLOSE, vec![0x0F, 0xA0])]);
        assert_eq!(h.finished, Some(status::WS_ERR_SERVER_CLOSED));
        let mut h = opened();
        h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE8]));
        assert_eq!(h.frames(), vec![(true, OP_CLOSE, vec![0x03, 0xE8])]);
        assert_eq!(h.finished, Some(status::WS_ERR_SERVER_CLOSED));
    }

    #[test]
    fn server_close_waits_for_reply_sent() {
        let mut h = opened();
        h.auto_ack = false;
        h.rx(&sframe(true, OP_CLOSE, &[]));
        assert_eq!(h.frames(), vec![(true, OP_CLOSE, vec![])]);
        assert_eq!(h.finished, None);
        assert_eq!(h.c.connection_state(), 3);
        assert_eq!(h.timer, Some(5_000));
        h.ack();
        assert_eq!(h.finished, Some(status::WS_ERR_SERVER_CLOSED));
        assert_eq!(h.c.connection_state(), 4);
    }

    #[test]
    fn defect_user_close_reports_zero() {
        let mut h = opened();
        h.c.close();
        h.pump();
        assert_eq!(
            h.frames(),
            vec![(true, OP_CLOSE, 1000u16.to_be_bytes().to_vec())]
        );
        assert_eq!(h.c.connection_state(), 3);
        assert_eq!(h.timer, Some(5_000));
        h.c.close(); // twice is fine
        h.rx(&sframe(true, OP_TEXT, b"dropped"));
        assert!(h.msgs.is_empty());
        h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE8]));
        assert_eq!(h.finished, None, "waits for the TCP close");
        h.c.disconnected(0);
        h.pump();
        assert_eq!(h.finished, Some(status::WS_OK));
        // Server never answers: the close timer ends it with 0.
        let mut h = opened();
        h.c.close();
        h.pump();
        h.timer_fires();
        assert_eq!(h.finished, Some(status::WS_OK));
        // Close before the handshake finished: at once, 0, nothing sent.
        let mut h = H::new();
        h.start();
        h.c.close();
        h.pump();
        assert_eq!(h.finished, Some(status::WS_OK));
        assert_eq!(h.sent.len(), h.req_len);
        let mut h = H::new();
        h.c.close();
        h.pump();
        assert_eq!(h.finished, Some(status::WS_OK));
    }

    #[test]
    fn defect_64k_send_not_truncated() {
        let mut h = opened();
        let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        h.c.send(OP_BINARY, &data).unwrap();
        h.pump();
        assert_eq!(h.sent[h.req_len + 1], 0x80 | 127, "64-bit length");
        assert_eq!(h.frames(), vec![(true, OP_BINARY, data)]);
        assert_eq!(h.chunks[1..].to_vec(), vec![65_535, 100_014 - 65_535]);
        assert_eq!(h.c.heap_bytes(), 0, "queue freed when drained");
    }

    type Frames = Vec<(bool, u8, Vec<u8>)>;

    fn status_after(seg: &[u8]) -> (Option<Status>, Frames) {
        let mut h = opened();
        h.rx(seg);
        (h.finished, h.frames())
    }

    #[test]
    fn protocol_errors_close_with_the_right_code() {
        let close = |c: u16| vec![(true, OP_CLOSE, c.to_be_bytes().to_vec())];
        let cases: Vec<(Vec<u8>, Status, u16)> = vec![
            (
                sframe(true, OP_CONTINUATION, b"x"),
                status::WS_ERR_FRAGMENTATION,
                1002,
            ),
            (
                [sframe(false, OP_TEXT, b"a"), sframe(true, OP_TEXT, b"b")].concat(),
                status::WS_ERR_FRAGMENTATION,
                1002,
            ),
            (
                vec![0x81, 0x81, 1, 2, 3, 4, b'x'],
                status::WS_ERR_MASKED_FRAME,
                1002,
            ),
            (vec![0xC1, 0x01, b'x'], status::WS_ERR_RESERVED_BITS, 1002),
            (vec![0x83, 0x00], status::WS_ERR_RESERVED_OPCODE, 1002),
            (
                sframe(false, OP_PING, b""),
                status::WS_ERR_BAD_CONTROL_FRAME,
                1002,
            ),
            (
                sframe(true, OP_PING, &[0; 126]),
                status::WS_ERR_BAD_CONTROL_FRAME,
                1002,
            ),
            (
                sframe(true, OP_CLOSE, &[3]),
                status::WS_ERR_BAD_CLOSE_PAYLOAD,
                1002,
            ),
            (
                sframe(true, OP_CLOSE, &[0x03, 0xEE]),
                status::WS_ERR_BAD_CLOSE_PAYLOAD,
                1002,
            ),
            (
                sframe(true, OP_CLOSE, &[0x03, 0xE8, 0xC0]),
                status::WS_ERR_BAD_CLOSE_PAYLOAD,
                1007,
            ),
            (
                sframe(true, OP_TEXT, &[0xFF]),
                status::WS_ERR_INVALID_UTF8,
                1007,
            ),
            (
                [
                    sframe(false, OP_TEXT, b"ok"),
                    sframe(true, OP_CONTINUATION, &[0xE2, 0x82]),
                ]
                .concat(),
                status::WS_ERR_INVALID_UTF8,
                1007,
            ),
        ];
        for (seg, st, code) in cases {
            let (fin, frames) = status_after(&seg);
            assert_eq!(fin, Some(st), "segment {seg:02x?}");
            assert_eq!(frames, close(code), "segment {seg:02x?}");
        }
        // Too big: judged on the declared length, before allocating.
        let mut h = H::try_new(Options {
            max_message: 100,
            ..Options::DEFAULT
        })
        .unwrap();
        h.open();
        h.rx(&sframe(true, OP_BINARY, &[0; 100]));
        assert_eq!(h.msgs.len(), 1);
        let n = stats::total();
        h.rx(&[0x82, 126, 0x00, 101]);
        assert_eq!(stats::total(), n + 1, "only the close frame is allocated");
        assert!(stats::live_bytes() < 100);
        assert_eq!(h.finished, Some(status::WS_ERR_MESSAGE_TOO_BIG));
        assert_eq!(h.frames(), close(1009));
        // Fragments adding up to more than the limit.
        let mut h = H::try_new(Options {
            max_message: 100,
            ..Options::DEFAULT
        })
        .unwrap();
        h.open();
        h.rx(&[
            sframe(false, OP_BINARY, &[0; 60]),
            sframe(true, OP_CONTINUATION, &[0; 41]),
        ]
        .concat());
        assert_eq!(h.finished, Some(status::WS_ERR_MESSAGE_TOO_BIG));
    }

    #[test]
    fn protocol_error_close_bounded_by_timer() {
        let mut h = opened();
        h.auto_ack = false;
        h.rx(&[0x83, 0x00]);
        assert_eq!(h.finished, None);
        h.rx(&sframe(true, OP_TEXT, b"ignored"));
        assert!(h.msgs.is_empty());
        h.timer_fires();
        assert_eq!(h.finished, Some(status::WS_ERR_RESERVED_OPCODE));
    }

    #[test]
    fn handshake_failures() {
        let mut h = H::new();
        h.start();
        h.rx(b"HTTP/1.1 200 OK\r\n\r\n");
        assert_eq!(h.finished, Some(status::WS_ERR_NOT_SWITCHING));
        let mut h = H::new();
        h.start();
        h.rx(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n");
        assert_eq!(h.finished, Some(status::WS_ERR_BAD_ACCEPT));
        let mut h = H::new();
        h.start();
        h.rx(b"HTTP/1.1 101 Switching Protocols\r\n");
        let junk = vec![b'a'; 9000];
        h.rx(&junk);
        assert_eq!(h.finished, Some(status::WS_ERR_BAD_HANDSHAKE));
        assert_eq!(h.opened, 0);
    }

    #[test]
    fn timeouts_and_disconnects() {
        // DNS failure.
        let mut h = H::new();
        h.c.resolved(false);
        h.pump();
        assert_eq!(h.finished, Some(status::WS_ERR_DNS));
        // Connect timeout while connecting, and during the handshake.
        let mut h = H::new();
        h.c.resolved(true);
        h.pump();
        h.timer_fires();
        assert_eq!(h.finished, Some(status::WS_ERR_CONNECT_TIMEOUT));
        let mut h = H::new();
        h.start();
        h.timer_fires();
        assert_eq!(h.finished, Some(status::WS_ERR_CONNECT_TIMEOUT));
        // Port errors.
        let mut h = H::new();
        h.c.resolved(true);
        h.c.port_error(-9);
        h.pump();
        assert_eq!(h.finished, Some(Status::espconn(-9)));
        let mut h = opened();
        h.c.disconnected(0);
        h.pump();
        assert_eq!(h.finished, Some(status::WS_ERR_TCP_CLOSED));
        let mut h = opened();
        h.c.disconnected(-8);
        h.pump();
        assert_eq!(h.finished, Some(Status::espconn(-8)));
        let mut h = opened();
        h.send_error = Some(-1);
        h.c.send(OP_TEXT, b"x").unwrap();
        h.pump();
        assert_eq!(h.finished, Some(Status::espconn(-1)));
        // Server closes TCP after its close frame and our reply.
        let mut h = opened();
        h.auto_ack = false;
        h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE8]));
        h.c.disconnected(0);
        h.pump();
        assert_eq!(h.finished, Some(status::WS_ERR_SERVER_CLOSED));
    }

    #[test]
    fn keepalive_pings_then_drops_with_minus_19() {
        let mut h = opened();
        h.timer_fires(); // 30 s silence: ping 1
        assert_eq!(h.frames().len(), 1);
        assert_eq!(h.frames()[0].1, OP_PING);
        h.timer_fires(); // 60 s: ping 2
        assert_eq!(h.frames().len(), 2);
        assert_eq!(h.finished, None);
        h.timer_fires(); // 90 s: 2 unanswered pings -> drop
        assert_eq!(h.finished, Some(status::WS_ERR_PING_TIMEOUT));
        // Every received segment restarts the timer and clears the
        // unanswered pings: two pings per silence, never a drop.
        let mut h = opened();
        for _ in 0..10 {
            h.timer = None;
            h.rx(&sframe(true, OP_PONG, b""));
            assert_eq!(h.timer, Some(30_000), "a segment restarts the timer");
            h.timer_fires(); // 30 s after the pong: ping
            h.timer_fires(); // 60 s: second ping, still within pong_timeout
        }
        assert_eq!(h.finished, None);
        assert_eq!(h.frames().len(), 20);
        assert!(h.frames().iter().all(|f| f.1 == OP_PING));
        // Disabled.
        let mut h = H::try_new(Options {
            ping_interval_ms: 0,
            ..Options::DEFAULT
        })
        .unwrap();
        h.open();
        for _ in 0..10 {
            h.timer_fires();
        }
        assert_eq!(h.finished, None);
    }

    #[test]
    fn user_send_rules() {
        let mut h = H::new();
        assert_eq!(h.c.send(OP_TEXT, b"x"), Err(status::WS_ERR_NOT_CONNECTED));
        h.open();
        assert_eq!(h.c.send(3, b"x"), Err(status::WS_ERR_BAD_OPCODE));
        assert_eq!(h.c.send(OP_CLOSE, b""), Err(status::WS_ERR_BAD_OPCODE));
        assert_eq!(h.c.send(OP_PING, &[0; 126]), Err(status::WS_ERR_BAD_OPCODE));
        assert_eq!(h.c.send(OP_PING, b"p"), Ok(()));
        h.c.close();
        assert_eq!(h.c.send(OP_TEXT, b"x"), Err(status::WS_ERR_NOT_CONNECTED));
    }

    #[test]
    fn bad_extra_header_is_minus_28() {
        let url = crate::url::parse(b"ws://h/").unwrap();
        let hs = [Header {
            name: b"X-Bad",
            value: b"a\r\nb",
        }];
        let r = Client::new(
            &url,
            hs.iter().copied(),
            None,
            Options::DEFAULT,
            &[0; 16],
            [0; 16],
        );
        assert_eq!(r.err(), Some(status::WS_ERR_BAD_HEADER));
    }

    /// Runs a scenario touching every allocation site; returns the final
    /// status (None if it completed without one).
    fn scenario() -> Result<Option<Status>, Status> {
        let mut h = H::try_new(Options::DEFAULT)?;
        h.start();
        let mut s = h.response();
        s.extend(sframe(false, OP_TEXT, b"frag-1 "));
        s.extend(sframe(true, OP_PING, b"ping"));
        s.extend(sframe(true, OP_CONTINUATION, b"frag-2"));
        s.extend(sframe(true, OP_PING, b"split ping payload"));
        s.extend(sframe(true, OP_BINARY, &[9; 300]));
        for c in s.chunks(9) {
            h.rx(c);
            if h.finished.is_some() {
                return Ok(h.finished);
            }
        }
        if h.c.send(OP_TEXT, b"reply").is_err() {
            h.pump();
            return Ok(h.finished);
        }
        h.pump();
        if h.finished.is_none() {
            assert_eq!(h.msgs.len(), 2);
        }
        Ok(h.finished)
    }

    #[test]
    fn allocation_failure_at_each_site() {
        let mut seen = std::collections::BTreeSet::new();
        let mut k = 1;
        loop {
            assert_eq!(stats::live(), 0);
            stats::fail_nth(k);
            let r = scenario();
            stats::fail_nth(0);
            assert_eq!(stats::live(), 0, "leak after failing allocation {k}");
            match r {
                Err(e) => {
                    assert_eq!(e, status::WS_ERR_NO_MEMORY_HANDSHAKE);
                    seen.insert(e.code());
                }
                Ok(Some(st)) => {
                    assert!(
                        [
                            status::WS_ERR_NO_MEMORY_HANDSHAKE,
                            status::WS_ERR_NO_MEMORY_MESSAGE,
                            status::WS_ERR_NO_MEMORY_CONTROL,
                            status::WS_ERR_NO_MEMORY_SEND
                        ]
                        .contains(&st),
                        "allocation {k}: status {st:?}"
                    );
                    seen.insert(st.code());
                }
                Ok(None) => break, // the Nth allocation was never reached
            }
            // A new connection works after the failure.
            assert_eq!(scenario(), Ok(None));
            k += 1;
            assert!(k < 100);
        }
        for st in [-8, -9, -10, -16] {
            assert!(seen.contains(&st), "status {st} never produced: {seen:?}");
        }
    }

    /// A valid server stream: response + frames; returns the messages.
    fn valid_stream(req: &[u8], msgs: &[(u8, Vec<u8>)], frag: usize) -> Vec<u8> {
        let mut s = response_for(req);
        for (op, m) in msgs {
            let parts: Vec<&[u8]> = if m.is_empty() {
                vec![&m[..]]
            } else {
                m.chunks(frag.max(1)).collect()
            };
            for (i, p) in parts.iter().enumerate() {
                let op = if i == 0 { *op } else { OP_CONTINUATION };
                s.extend(sframe(i + 1 == parts.len(), op, p));
                if i % 2 == 1 {
                    s.extend(sframe(true, OP_PING, b"pp"));
                }
            }
        }
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn any_segmentation_yields_the_same_messages(
            msgs in proptest::collection::vec((1u8..=2, proptest::collection::vec(any::<u8>(), 0..300)), 1..6),
            frag in 1usize..100,
            cuts in proptest::collection::vec(1usize..200, 0..40),
        ) {
            let msgs: Vec<(u8, Vec<u8>)> = msgs
                .into_iter()
                .map(|(op, m)| if op == 1 { (1, m.iter().map(|b| b'a' + b % 26).collect()) } else { (2, m) })
                .collect();
            let mut h = H::new();
            h.start();
            let s = valid_stream(&h.sent[..h.req_len], &msgs, frag);
            h.rx_cut(&s, &cuts);
            prop_assert_eq!(h.finished, None);
            prop_assert_eq!(&h.msgs, &msgs);
        }

        #[test]
        fn streamed_pieces_join_to_the_messages(
            msgs in proptest::collection::vec((1u8..=2, proptest::collection::vec(any::<u8>(), 0..300)), 1..6),
            frag in 1usize..100,
            cuts in proptest::collection::vec(1usize..200, 0..40),
        ) {
            let msgs: Vec<(u8, Vec<u8>)> = msgs
                .into_iter()
                .map(|(op, m)| if op == 1 { (1, String::from_utf8_lossy(&m).into_owned().into_bytes()) } else { (2, m) })
                .collect();
            let mut h = H::try_new(Options { stream: true, max_message: 1, ..Options::DEFAULT }).unwrap();
            h.start();
            let s = valid_stream(&h.sent[..h.req_len], &msgs, frag);
            h.rx_cut(&s, &cuts);
            prop_assert_eq!(h.finished, None);
            let mut got: Vec<(u8, Vec<u8>)> = Vec::new();
            let mut open = false;
            for (op, b, fin) in &h.pieces {
                if !open {
                    got.push((*op, Vec::new()));
                }
                let last = got.last_mut().unwrap();
                prop_assert_eq!(last.0, *op);
                last.1.extend_from_slice(b);
                open = !fin;
            }
            prop_assert!(!open);
            prop_assert_eq!(&got, &msgs);
            prop_assert_eq!(h.c.heap_bytes(), 0, "nothing buffered");
        }

        #[test]
        fn arbitrary_bytes_after_handshake_never_panic(
            segs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..400), 0..20),
        ) {
            {
                let mut h = H::try_new(Options { max_message: 4096, ..Options::DEFAULT }).unwrap();
                h.open();
                for s in &segs {
                    h.rx(s);
                    prop_assert!(stats::live_bytes() < 4096 + 1024, "{} bytes", stats::live_bytes());
                    if h.finished.is_some() { break; }
                }
            }
            prop_assert_eq!(stats::live(), 0);
        }
    }
}
