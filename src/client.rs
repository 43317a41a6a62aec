//! The connection state machine, sans I/O.
//!
//! A [`Client`] is fed events (`resolved`, `connected`, `receive`, `sent`,
//! `disconnected`, `timer`, and the user's `send`/`close`) and tells its
//! driver what to do through [`Client::poll`]. It never calls C and never
//! calls user code: the driver (src/capi.rs) does, with no borrow of the
//! client alive.
//!
//! Phases and `connectionState`: resolving 1, TCP connecting 2, opening
//! handshake and open 3, closing 4.

use crate::buffer::{Boxed, Buf};
use crate::frame::{self, Decoder, OP_CLOSE, OP_PING, OP_PONG};
use crate::handshake::{self, Header, Parsed, ResponseParser};
use crate::message::{self, Assembler, Item, Payload};
use crate::status;
use crate::url::Url;

/// Largest chunk handed to the port in one `ws_port_send` call.
pub const MAX_CHUNK: usize = 65535;
/// `ws_port_send` result: refused for now.
pub const PORT_BUSY: i32 = 1;

/// Tunables (mirrors `ws_options`).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Options {
    pub max_message: u32,
    pub connect_timeout_ms: u32,
    pub ping_interval_ms: u32,
    pub pong_timeout_ms: u32,
    pub close_timeout_ms: u32,
}

impl Options {
    pub const DEFAULT: Options = Options {
        max_message: 1 << 20,
        connect_timeout_ms: 10_000,
        ping_interval_ms: 30_000,
        pong_timeout_ms: 60_000,
        close_timeout_ms: 5_000,
    };
}

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
    Finish(i32),
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
}

/// Small PRNG (xorshift128) for frame masks, seeded by the driver.
#[derive(Clone, Copy)]
struct Rng([u32; 4]);

impl Rng {
    fn new(seed: [u8; 16]) -> Self {
        let mut s = [0u32; 4];
        for (i, w) in s.iter_mut().enumerate() {
            let b = [
                seed[i * 4],
                seed[i * 4 + 1],
                seed[i * 4 + 2],
                seed[i * 4 + 3],
            ];
            *w = u32::from_le_bytes(b);
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
    /// Something was received since the last keep-alive tick.
    alive: bool,
    timer: TimerCmd,
    inflight: u16,
    finish: Option<i32>,
    pending: i32,
    /// Age of the first unanswered ping at the last tick.
    ping_age: Option<u32>,
    out: Buf,
    head: usize,
    /// Before the handshake finished only `out[..gate]` (the request) may go.
    gate: usize,
    parser: Option<Boxed<ResponseParser>>,
    decoder: Decoder,
    asm: Assembler,
    opts: Options,
    rng: Rng,
}

impl Client {
    /// Builds the opening handshake request into the send queue.
    /// Errors: `BAD_HEADER` (unsendable extra header), `NO_MEMORY_HANDSHAKE`.
    pub fn new<'h, I>(
        url: &Url,
        extra: I,
        opts: Options,
        key_random: &[u8; 16],
        mask_seed: [u8; 16],
    ) -> Result<Client, i32>
    where
        I: Iterator<Item = Header<'h>> + Clone,
    {
        let key = handshake::make_key(key_random);
        let n = handshake::request_len(url, &key, extra.clone())?;
        let mut out = Buf::new();
        out.reserve_total(n)
            .map_err(|_| status::NO_MEMORY_HANDSHAKE)?;
        let written = match out.spare(n) {
            Some(dst) => handshake::write_request(url, &key, extra, dst),
            None => 0,
        };
        if written != n {
            return Err(status::OTHER);
        }
        out.commit(written);
        let parser = Boxed::new(ResponseParser::new(handshake::accept_for(&key)))
            .map_err(|_| status::NO_MEMORY_HANDSHAKE)?;
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
            alive: false,
            timer: TimerCmd::Keep,
            inflight: 0,
            finish: None,
            pending: status::OK,
            ping_age: None,
            gate: written,
            out,
            head: 0,
            parser: Some(parser),
            decoder: Decoder::new(),
            asm: Assembler::new(opts.max_message),
            opts,
            rng: Rng::new(mask_seed),
        })
    }

    /// The value for `ws_info.connectionState`.
    pub fn connection_state(&self) -> i32 {
        match self.phase {
            Phase::Resolving => 1,
            Phase::Connecting => 2,
            Phase::Handshake | Phase::Open => 3,
            Phase::Closing | Phase::Done => 4,
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
        self.out.capacity() + self.asm.held_bytes() + parser
    }

    fn end(&mut self, st: i32) {
        if self.finish.is_none() {
            self.finish = Some(st);
        }
        self.phase = Phase::Done;
        self.stop_rx = true;
    }

    /// The next thing to do. Call until it returns `Idle`.
    pub fn poll(&mut self) -> Action<'_> {
        if let Some(st) = self.finish {
            return Action::Finish(st);
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

    /// Result of the `ws_port_send` for the chunk last returned by `poll`.
    pub fn send_result(&mut self, r: i32) {
        if r == PORT_BUSY {
            self.busy = true;
            return;
        }
        if r < 0 {
            self.end(r.saturating_add(status::ESPCONN_OFFSET));
            return;
        }
        let limit = if self.parser.is_some() {
            self.gate
        } else {
            self.out.len()
        };
        self.head = limit.min(self.head.saturating_add(MAX_CHUNK));
        self.inflight = self.inflight.saturating_add(1);
        if self.head >= self.out.len() {
            self.out.free();
            self.head = 0;
            self.gate = 0;
        }
    }

    /// `ws_event_sent`: one accepted chunk has gone out.
    pub fn sent(&mut self) {
        self.inflight = self.inflight.saturating_sub(1);
        self.busy = false;
        if self.finish_when_sent && self.inflight == 0 && self.out.is_empty() {
            let p = self.pending;
            self.end(p);
        }
    }

    /// Name resolution ended (for `ws_port_resolve` == DONE call it at once).
    pub fn resolved(&mut self, ok: bool) {
        if self.phase != Phase::Resolving {
            return;
        }
        if !ok {
            self.end(status::DNS);
            return;
        }
        self.phase = Phase::Connecting;
        self.timer = TimerCmd::Arm(self.opts.connect_timeout_ms);
        self.want_connect = true;
    }

    /// A port call failed with espconn error `err` (< 0).
    pub fn port_error(&mut self, err: i32) {
        if self.phase != Phase::Done {
            self.end(err.saturating_add(status::ESPCONN_OFFSET));
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
            _ if err < 0 => err.saturating_add(status::ESPCONN_OFFSET),
            Phase::Closing => self.pending,
            _ => status::PEER_CLOSED_TCP,
        };
        self.end(st);
    }

    /// `ws_event_timer`.
    pub fn timer(&mut self) {
        match self.phase {
            Phase::Connecting | Phase::Handshake => self.end(status::CONNECT_TIMEOUT),
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
        if self.alive {
            self.alive = false;
            self.ping_age = None;
        } else {
            let age = match self.ping_age {
                Some(a) => a.saturating_add(every),
                None => 0,
            };
            if self.ping_age.is_some() && age >= self.opts.pong_timeout_ms {
                self.end(status::PING_TIMEOUT);
                return;
            }
            self.ping_age = Some(age);
            if self.queue_frame(OP_PING, &[]).is_err() {
                self.end(status::NO_MEMORY_SEND);
                return;
            }
        }
        self.timer = TimerCmd::Arm(every);
    }

    /// Encodes one masked frame into the send queue (exact growth).
    fn queue_frame(&mut self, opcode: u8, payload: &[u8]) -> Result<(), i32> {
        if self.head > 0 {
            self.out.drop_front(self.head);
            self.gate = self.gate.saturating_sub(self.head);
            self.head = 0;
        }
        let hl = frame::header_len(payload.len());
        let total = hl
            .checked_add(payload.len())
            .ok_or(status::NO_MEMORY_SEND)?;
        self.out
            .reserve_exact(total)
            .map_err(|_| status::NO_MEMORY_SEND)?;
        let mask = self.rng.mask();
        let dst = self.out.spare(total).ok_or(status::NO_MEMORY_SEND)?;
        let (h, body) = dst.split_at_mut(hl);
        if frame::write_header(h, true, opcode, payload.len(), mask) != hl {
            return Err(status::OTHER);
        }
        frame::mask_into(body, payload, mask, 0);
        self.out.commit(total);
        Ok(())
    }

    /// User send. Errors (connection unaffected): `BAD_OPCODE`,
    /// `NOT_CONNECTED`; `NO_MEMORY_SEND` ends the connection with -16.
    pub fn send(&mut self, opcode: u8, payload: &[u8]) -> Result<(), i32> {
        match opcode {
            1 | 2 => {}
            9 | 10 if payload.len() <= frame::MAX_CONTROL_PAYLOAD => {}
            _ => return Err(status::BAD_OPCODE),
        }
        if !matches!(self.phase, Phase::Handshake | Phase::Open) {
            return Err(status::NOT_CONNECTED);
        }
        let r = self.queue_frame(opcode, payload);
        if let Err(e) = r {
            self.end(e);
        }
        r
    }

    /// User close (`ws_close`).
    pub fn close(&mut self) {
        match self.phase {
            Phase::Resolving | Phase::Connecting | Phase::Handshake => self.end(status::OK),
            Phase::Open => {
                self.phase = Phase::Closing;
                self.user_closed = true;
                self.pending = status::OK;
                self.timer = TimerCmd::Arm(self.opts.close_timeout_ms);
                if self.queue_frame(OP_CLOSE, &1000u16.to_be_bytes()).is_err() {
                    self.end(status::OK);
                }
            }
            Phase::Closing | Phase::Done => {}
        }
    }

    /// A protocol violation by the server while open: close with the code.
    fn protocol_error(&mut self, st: i32, code: u16) {
        match self.phase {
            Phase::Open => {
                self.phase = Phase::Closing;
                self.pending = st;
                self.stop_rx = true;
                self.finish_when_sent = true;
                self.timer = TimerCmd::Arm(self.opts.close_timeout_ms);
                if self.queue_frame(OP_CLOSE, &code.to_be_bytes()).is_err() {
                    self.end(st);
                }
            }
            // Our close frame is out already: just wait for the end.
            Phase::Closing => self.stop_rx = true,
            _ => self.end(st),
        }
    }

    fn fail(&mut self, st: i32) {
        match st {
            status::NO_MEMORY_MESSAGE | status::NO_MEMORY_CONTROL | status::OTHER => self.end(st),
            _ => self.protocol_error(st, message::close_code_for(st)),
        }
    }

    fn handshake_done(&mut self) {
        self.parser = None;
        self.phase = Phase::Open;
        self.want_opened = true;
        self.timer = if self.opts.ping_interval_ms > 0 {
            TimerCmd::Arm(self.opts.ping_interval_ms)
        } else {
            TimerCmd::Disarm
        };
    }

    fn control(&mut self, opcode: u8, p: &[u8]) {
        match opcode {
            OP_PING if self.phase == Phase::Open => {
                if self.queue_frame(OP_PONG, p).is_err() {
                    self.end(status::NO_MEMORY_SEND);
                }
            }
            OP_CLOSE => match message::check_close(p) {
                Err((st, code)) => self.protocol_error(st, code),
                Ok(code) => {
                    self.stop_rx = true;
                    if self.phase == Phase::Open {
                        self.phase = Phase::Closing;
                        self.pending = status::SERVER_CLOSED;
                        self.finish_when_sent = true;
                        self.timer = TimerCmd::Arm(self.opts.close_timeout_ms);
                        let body = code.map(u16::to_be_bytes);
                        let r = self.queue_frame(OP_CLOSE, body.as_ref().map_or(&[], |b| &b[..]));
                        if r.is_err() {
                            self.end(status::SERVER_CLOSED);
                        } else {
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
    pub fn receive(&mut self, data: &mut [u8], pos: &mut usize) -> Rx {
        if *pos < data.len() {
            self.alive = true;
        }
        loop {
            if self.stop_rx || *pos >= data.len() {
                *pos = data.len();
                return Rx::Done;
            }
            match self.phase {
                Phase::Handshake => {
                    let Some(parser) = self.parser.as_mut() else {
                        self.end(status::OTHER);
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
            match self.asm.feed(data, *pos, d) {
                Item::Nothing => {}
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
        if start >= 1 && end == data.len() {
            // The frame header precedes the payload in this segment: move the
            // payload back one byte over it and put the NUL in the freed byte.
            data.copy_within(start..end, start - 1);
            if let Some(last) = data.last_mut() {
                *last = 0;
            }
            return Rx::InPlace {
                opcode,
                start: start - 1,
                len,
                restore: None,
            };
        }
        let mut buf = Buf::new();
        let src = data.get(start..end).unwrap_or(&[]);
        if buf.reserve_exact(len.saturating_add(1)).is_err()
            || buf.extend(src).is_err()
            || buf.push(0).is_err()
        {
            self.end(status::NO_MEMORY_MESSAGE);
            return Rx::Done;
        }
        Rx::Owned { opcode, buf }
    }
}

#[cfg(test)]
mod tests {}
