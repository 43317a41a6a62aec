//! The connection state machine, sans I/O.
//!
//! A [`Client`] is fed events (`resolved`, `connected`, `receive`, `sent`,
//! `disconnected`, `timer`, and the user's `send`/`close`) and tells its
//! driver what to do through [`Client::poll`]. It never calls C and never
//! calls user code: the driver (src/capi/) does, with no borrow of the
//! client alive.
//!
//! | file | concept |
//! |---|---|
//! | `mod.rs` | the [`Client`], its [`Phase`]s, the connection events (resolve, connect, disconnect, timer) and [`Client::poll`] |
//! | `send_queue.rs` | the send queue: framing user sends, the direct (no heap) path, chunks to the port, pongs, `ws_event_sent` |
//! | `keepalive.rs` | keep-alive pings and their timeout |
//! | `receive.rs` | received bytes: the opening handshake response, the frame-by-frame path and the whole-message fast path, control frames |
//! | `closing.rs` | how a connection ends: the closing handshake ([`Phase::Closing`]) and the final status ([`Phase::Done`]) |
//! | `reconnect.rs` | automatic reconnection: the backoff and what a connection keeps for the next one ([`Phase::Waiting`]) |
//!
//! Phases and `connectionState`: resolving 1, TCP connecting 2, opening
//! handshake, open and closing handshake 3; 4 once the connection has
//! ended (the driver tears it down before the final callback); 5 while a
//! reconnection waits for its turn.

mod closing;
mod keepalive;
mod receive;
mod reconnect;
mod send_queue;

#[cfg(test)]
pub(crate) mod tests;

use core::num::NonZeroU16;

use crate::buffer::{Boxed, Buf};
use crate::frame::Decoder;
use crate::handshake::{self, Header, ResponseParser};
use crate::message::Assembler;
use crate::status::{self, Status};
use crate::url::Url;

pub use closing::Wait;
pub use receive::{Rx, Whole};
pub use reconnect::{Backoff, Redial};
use send_queue::SendQueue;
pub use send_queue::{UserOpcode, DIRECT_FRAME, KEEP_OUT, MAX_CHUNK, PONG_QUEUE_MAX, PORT_BUSY};

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
    /// Deliver the server's pongs ([`Rx::Pong`]).
    pub pongs: bool,
}

impl Options {
    pub const DEFAULT: Options = Options {
        max_message: 1 << 20,
        connect_timeout_ms: 10_000,
        ping_interval_ms: 30_000,
        pong_timeout_ms: 60_000,
        close_timeout_ms: 5_000,
        stream: false,
        pongs: false,
    };
}

/// The timeouts of [`Options`] kept while the connection is open (the
/// connect timeout is kept in [`Handshaking`]).
#[derive(Clone, Copy)]
struct Timeouts {
    ping_interval_ms: u32,
    pong_timeout_ms: u32,
    close_timeout_ms: u32,
}

/// What only the opening of a connection needs: one allocation, freed when
/// the connection opens (or ends), so an open connection does not carry it.
struct Handshaking {
    parser: ResponseParser,
    connect_timeout_ms: u32,
    port: u16,
    secure: bool,
}

/// Where a connection goes and how it behaves: what a reconnection
/// needs besides the request.
#[derive(Clone, Copy)]
pub struct Target {
    pub port: u16,
    pub secure: bool,
    pub opts: Options,
}

/// Where a connection is in its life.
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum Phase {
    /// Automatic reconnection: the next connection waits for the backoff
    /// timer (`Redial`); nothing of it has started.
    Waiting,
    Resolving,
    Connecting,
    /// TCP up: the request goes out, the response is parsed.
    Handshake,
    Open,
    /// The closing handshake: our close frame is queued, the close timer
    /// runs; `status` is reported when it ends (see `closing.rs`).
    Closing {
        status: Status,
        wait: Wait,
    },
    /// Over with `status`: the driver tears down, then reports it.
    Done(Status),
}

/// What to do with the timer at the next `poll`; each armed duration is
/// one of the options (one byte instead of a duration).
#[derive(Clone, Copy, PartialEq, Eq)]
enum TimerCmd {
    Keep,
    Disarm,
    /// `connect_timeout_ms`
    Connect,
    /// `ping_interval_ms`
    Ping,
    /// `close_timeout_ms`
    Close,
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

/// Small PRNG (xorshift64, Marsaglia's 13/7/17) for frame masks, seeded
/// by the driver from the port's random source; kept as two words so that
/// the engine needs no 8-byte alignment.
#[derive(Clone, Copy)]
struct Rng([u32; 2]);

impl Rng {
    fn new(seed: [u8; 16]) -> Self {
        let mut s = 0u64;
        for (i, b) in seed.iter().enumerate() {
            // All 16 bytes count: the second half is folded in.
            s ^= u64::from(*b) << ((i % 8) * 8);
        }
        if s == 0 {
            s = 0x9E37_79B9_7F4A_7C15;
        }
        Rng([s as u32, (s >> 32) as u32])
    }
    fn mask(&mut self) -> [u8; 4] {
        let mut x = u64::from(self.0[0]) | (u64::from(self.0[1]) << 32);
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = [x as u32, (x >> 32) as u32];
        ((x >> 32) as u32).to_le_bytes()
    }
}

pub struct Client {
    phase: Phase,
    want_connect: bool,
    want_opened: bool,
    timer: TimerCmd,
    /// Code of the server's close frame (1005 if it had none); `None`
    /// until a valid one arrived.
    close_code: Option<NonZeroU16>,
    /// Bytes of `info` holding the protocol and its NUL (0 = no protocol).
    proto_len: u8,
    /// Keep-alive pings sent since the peer last sent a byte (saturating).
    pings: u16,
    /// Pass pongs on ([`Options::pongs`]).
    pongs: bool,
    queue: SendQueue,
    /// The negotiated protocol + NUL, then the server's close reason.
    info: Buf,
    /// Until the connection opens.
    hs: Option<Boxed<Handshaking>>,
    decoder: Decoder,
    asm: Assembler,
    opts: Timeouts,
    rng: Rng,
}

impl Client {
    /// Builds the opening handshake request into the send queue.
    /// `protocols`: the `Sec-WebSocket-Protocol` value offered (`None` =
    /// `chat`, empty = no header). `sha1`: the SHA-1 digest of its input
    /// (the port's), called once for the accept value the server must
    /// answer. Errors: `WS_ERR_BAD_HEADER` (unsendable extra header or
    /// protocols), `WS_ERR_NO_MEMORY_HANDSHAKE`.
    pub fn new<'h, I>(
        url: &Url,
        extra: I,
        protocols: Option<&[u8]>,
        opts: Options,
        key_random: &[u8; 16],
        mask_seed: [u8; 16],
        sha1: impl FnOnce(&[u8]) -> [u8; 20],
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
        let target = Target {
            port: url.port,
            secure: url.secure,
            opts,
        };
        let accept = handshake::accept_for(&key, sha1);
        Client::with_request(out, accept, &target, Phase::Resolving, mask_seed)
    }

    /// A client whose request `out` is built; `accept`: the
    /// `Sec-WebSocket-Accept` its key asks for.
    fn with_request(
        out: Buf,
        accept: [u8; handshake::ACCEPT_LEN],
        t: &Target,
        phase: Phase,
        mask_seed: [u8; 16],
    ) -> Result<Client, Status> {
        let opts = t.opts;
        let hs = Boxed::new(Handshaking {
            parser: ResponseParser::new(accept),
            connect_timeout_ms: opts.connect_timeout_ms,
            port: t.port,
            secure: t.secure,
        })
        .map_err(|_| status::WS_ERR_NO_MEMORY_HANDSHAKE)?;
        Ok(Client {
            phase,
            want_connect: false,
            want_opened: false,
            timer: TimerCmd::Keep,
            close_code: None,
            proto_len: 0,
            pings: 0,
            pongs: opts.pongs,
            queue: SendQueue::with_request(out),
            info: Buf::new(),
            hs: Some(hs),
            decoder: Decoder::new(),
            asm: Assembler::new(opts.max_message, opts.stream),
            opts: Timeouts {
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
            Phase::Waiting => 5,
            Phase::Resolving => 1,
            Phase::Connecting => 2,
            Phase::Handshake | Phase::Open | Phase::Closing { .. } => 3,
            Phase::Done(_) => 4,
        }
    }

    /// Where the connection is.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// True once the opening handshake has succeeded (and not yet closing).
    pub fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Open)
    }

    /// Heap bytes held by this connection besides the `Client` itself.
    pub fn heap_bytes(&self) -> usize {
        let parser = if self.hs.is_some() {
            core::mem::size_of::<Handshaking>()
        } else {
            0
        };
        self.queue.capacity() + self.info.capacity() + self.asm.held_bytes() + parser
    }

    /// The connection is over and the port keeps reading a chunk in
    /// flight: frees everything but the send queue's buffers.
    pub fn keep_only_sending(&mut self) {
        self.hs = None;
        self.info.free();
        self.asm = Assembler::new(0, false);
    }

    /// The server's HTTP status when it refused the handshake (-17 after
    /// `HTTP/1.1 <code>`, e.g. 403), else 0.
    pub fn http_status(&self) -> u16 {
        self.hs.as_ref().map_or(0, |h| h.parser.http_status())
    }

    /// The protocol the server chose, NUL included (`None` if it chose none).
    pub fn protocol(&self) -> Option<&[u8]> {
        match self.proto_len {
            0 => None,
            n => self.info.as_slice().get(..usize::from(n)),
        }
    }

    /// False when [`Client::poll`] would return `Idle` (true may still end
    /// in `Idle`): lets the driver skip polling after most events.
    pub fn has_actions(&self) -> bool {
        matches!(self.phase, Phase::Done(_))
            || self.want_connect
            || self.want_opened
            || !matches!(self.timer, TimerCmd::Keep)
            || self.queue.has_unsent()
    }

    /// The next thing to do. Call until it returns `Idle`.
    pub fn poll(&mut self) -> Action<'_> {
        if let Phase::Done(st) = self.phase {
            return Action::Finish(st);
        }
        if self.want_connect {
            self.want_connect = false;
            if let Some(hs) = self.hs.as_ref() {
                return Action::Connect {
                    port: hs.port,
                    secure: hs.secure,
                };
            }
        }
        match core::mem::replace(&mut self.timer, TimerCmd::Keep) {
            TimerCmd::Keep => {}
            TimerCmd::Disarm => return Action::DisarmTimer,
            TimerCmd::Connect => {
                let ms = self.hs.as_ref().map_or(0, |hs| hs.connect_timeout_ms);
                return Action::ArmTimer(ms);
            }
            TimerCmd::Ping => return Action::ArmTimer(self.opts.ping_interval_ms),
            TimerCmd::Close => return Action::ArmTimer(self.opts.close_timeout_ms),
        }
        if self.want_opened {
            self.want_opened = false;
            return Action::Opened;
        }
        let sending = matches!(
            self.phase,
            Phase::Handshake | Phase::Open | Phase::Closing { .. }
        );
        if sending {
            if let Some(chunk) = self.queue.next_chunk() {
                return Action::Send(chunk);
            }
        }
        Action::Idle
    }

    /// Name resolution ended (for `ws_port_resolve` == DONE call it at once).
    pub fn resolved(&mut self, ok: bool) {
        if !matches!(self.phase, Phase::Resolving) {
            return;
        }
        if !ok {
            self.end(status::WS_ERR_DNS);
            return;
        }
        self.phase = Phase::Connecting;
        self.timer = TimerCmd::Connect;
        self.want_connect = true;
    }

    /// `ws_port_resolve` failed with `st` (not a resolution failure: that
    /// is `resolved(false)`), e.g. the port had no memory for its state.
    pub fn resolve_failed(&mut self, st: Status) {
        if matches!(self.phase, Phase::Resolving) {
            self.end(st);
        }
    }

    /// A port call failed with espconn error `err` (< 0).
    pub fn port_error(&mut self, err: i32) {
        self.end(Status::espconn(err));
    }

    /// TCP (and TLS) is up: the request goes out.
    pub fn connected(&mut self) {
        if matches!(self.phase, Phase::Connecting) {
            self.phase = Phase::Handshake;
        }
    }

    /// `ws_event_disconnected`.
    pub fn disconnected(&mut self, err: i32) {
        let st = match self.phase {
            // Waiting: no TCP connection exists that could end.
            Phase::Done(_) | Phase::Waiting => return,
            _ if err < 0 => Status::espconn(err),
            Phase::Closing { status, .. } => status,
            _ => status::WS_ERR_TCP_CLOSED,
        };
        self.end(st);
    }

    /// `ws_event_timer`. True if a keep-alive ping was queued.
    pub fn timer(&mut self) -> bool {
        match self.phase {
            Phase::Connecting | Phase::Handshake => self.end(status::WS_ERR_CONNECT_TIMEOUT),
            Phase::Open => return self.keepalive_tick(),
            Phase::Closing { status, .. } => self.end(status),
            Phase::Waiting | Phase::Resolving | Phase::Done(_) => {}
        }
        false
    }

    /// A waiting reconnection's turn has come: it resolves now (the driver
    /// calls `ws_port_resolve`). False if it was not waiting.
    pub fn begin(&mut self) -> bool {
        if !matches!(self.phase, Phase::Waiting) {
            return false;
        }
        self.phase = Phase::Resolving;
        true
    }

    /// The 101 response was accepted: the connection is open.
    fn handshake_done(&mut self) {
        self.hs = None;
        self.queue.open_gate();
        self.phase = Phase::Open;
        self.want_opened = true;
        self.timer = if self.opts.ping_interval_ms > 0 {
            TimerCmd::Ping
        } else {
            TimerCmd::Disarm
        };
    }
}
