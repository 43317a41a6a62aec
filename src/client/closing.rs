//! How a connection ends. One state says it: [`Phase::Closing`] (our close
//! frame is queued, the close timer runs, `status` is what will be
//! reported) with a [`Wait`] (what ends it), then [`Phase::Done`] with the
//! final status. Three verbs move it:
//!
//! * [`Client::start_close`]: Open -> Closing (queue our close frame, arm
//!   the close timer); used by the user's close, the server's close frame
//!   and protocol errors;
//! * [`Client::violation`]: the server broke the protocol (close 1002,
//!   1007 or 1009 while open and discard until TCP closes, stop reading
//!   while closing, else end);
//! * [`Client::end`]: over, with a status (the first one sticks).
//!
//! The closing handshake ends with the server's TCP close or the close
//! timer (`mod.rs`: `disconnected`, `timer`) or, with [`Wait::ForSent`],
//! once our close frame has gone out ([`Client::end_if_sent`]).

use core::num::NonZeroU16;

use super::{Client, Phase, TimerCmd};
use crate::buffer::Buf;
use crate::frame::{self, OP_CLOSE};
use crate::message;
use crate::status::{self, Status};

/// What ends a closing handshake (besides the close timer and TCP).
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub enum Wait {
    /// The user closed: still reading, for the server's close frame (data
    /// messages are dropped, pings unanswered).
    ForServer,
    /// Reading stopped (the server's close frame came after the user's
    /// close, or a protocol error that broke the framing): received bytes
    /// are discarded while waiting for TCP to close. After a protocol
    /// error this lets a server still writing (a message over the limit,
    /// say) read our close frame instead of meeting a reset: it answers
    /// and closes TCP.
    ForTcp,
    /// A protocol error with the framing intact (a message over the
    /// limit, invalid UTF-8, a bad close payload, fragmentation or a
    /// reserved opcode): frames are skipped unread, as with `ForTcp`, but
    /// the server's close frame (its answer to ours) ends the wait too.
    ForServerClose,
    /// Reading stopped; our close frame answers the server's or reports a
    /// protocol error: over once it has been sent.
    ForSent,
}

impl Client {
    /// Received bytes are still read (not after a close frame from the
    /// server, a protocol error, or the end).
    pub(super) fn reading(&self) -> bool {
        match self.phase {
            Phase::Closing { wait, .. } => wait == Wait::ForServer,
            Phase::Done(_) => false,
            _ => true,
        }
    }

    /// Over with `st`: the driver tears down and reports it. The first
    /// status sticks. Not inlined: reached from a dozen paths (flash).
    #[inline(never)]
    pub(super) fn end(&mut self, st: Status) {
        if !matches!(self.phase, Phase::Done(_)) {
            self.phase = Phase::Done(st);
        }
    }

    /// Open -> Closing: queues our close frame (`body`, then `tail`) and
    /// arms the close timer; `st` is reported at the end. False (and the
    /// connection ended with `st`) if the frame could not be queued.
    pub(super) fn start_close(&mut self, st: Status, wait: Wait, body: &[u8], tail: &[u8]) -> bool {
        self.phase = Phase::Closing { status: st, wait };
        self.timer = TimerCmd::Close;
        if self
            .queue
            .push(&mut self.rng, OP_CLOSE, body, tail)
            .is_err()
        {
            self.end(st);
            return false;
        }
        true
    }

    /// Our close frame has gone out: the end when that is what we waited for.
    #[inline]
    pub(super) fn end_if_sent(&mut self) {
        if let Phase::Closing {
            status,
            wait: Wait::ForSent,
        } = self.phase
        {
            if self.queue.drained() {
                self.end(status);
            }
        }
    }

    /// The server broke the protocol (or memory ran out while receiving):
    /// a protocol error with the matching close code (1002, 1007, 1009);
    /// out of memory ends the connection at once.
    pub(super) fn violation(&mut self, st: Status) {
        match st {
            status::WS_ERR_NO_MEMORY_MESSAGE
            | status::WS_ERR_NO_MEMORY_CONTROL
            | status::WS_ERR_OTHER => self.end(st),
            _ => self.protocol_error(st, message::close_code_for(st)),
        }
    }

    /// A protocol error: while open, close with `code`, discard what
    /// follows and report `st` once the server answers with its close
    /// frame (framing intact only) or closes TCP, or the close timer
    /// fires; during our closing handshake just stop reading; else end at
    /// once.
    fn protocol_error(&mut self, st: Status, code: u16) {
        match self.phase {
            Phase::Open => {
                let wait = if self.decoder.failed() {
                    Wait::ForTcp
                } else {
                    Wait::ForServerClose
                };
                self.start_close(st, wait, &code.to_be_bytes(), &[]);
            }
            Phase::Closing { .. } => self.stop_reading(),
            _ => self.end(st),
        }
    }

    /// During the closing handshake: no more reading, wait for TCP.
    pub(super) fn stop_reading(&mut self) {
        if let Phase::Closing { wait, .. } = &mut self.phase {
            *wait = Wait::ForTcp;
        }
    }

    /// The server's close frame with payload `p`: recorded for `onClose`;
    /// while open, answered (echoing its code) and reported as -6 once the
    /// answer is out; after the user's close, the wait is for TCP. An
    /// invalid one is a protocol error.
    pub(super) fn server_close(&mut self, p: &[u8]) {
        let code = match message::check_close(p) {
            Ok(code) => code,
            Err((st, code)) => return self.protocol_error(st, code),
        };
        self.close_code = NonZeroU16::new(code.unwrap_or(1005));
        // Out of memory for the reason: reported without one.
        let _ = self.info.extend(p.get(2..).unwrap_or(&[]));
        if matches!(self.phase, Phase::Open) {
            let body = code.map(u16::to_be_bytes);
            let body = body.as_ref().map_or(&[][..], |b| &b[..]);
            if self.start_close(status::WS_ERR_SERVER_CLOSED, Wait::ForSent, body, &[]) {
                // Maybe nothing is in flight: over once sent.
                self.end_if_sent();
            }
        } else {
            self.stop_reading();
        }
    }

    /// User close (`ws_close`): code 1000, no reason.
    pub fn close(&mut self) {
        self.close_with(1000, &[]);
    }

    /// User close with a code and reason. A code an endpoint may not send,
    /// a reason over 123 bytes or not UTF-8 is replaced by 1000 and no
    /// reason. Before the connection is open (or while a reconnection
    /// waits): over at once, status 0 (no frame may be sent before the
    /// handshake).
    pub fn close_with(&mut self, code: u16, reason: &[u8]) {
        match self.phase {
            Phase::Waiting | Phase::Resolving | Phase::Connecting | Phase::Handshake => {
                self.end(status::WS_OK)
            }
            Phase::Open => {
                let (code, reason) = if message::close_code_allowed(code)
                    && reason.len() <= frame::MAX_CONTROL_PAYLOAD - 2
                    && message::valid_utf8(reason)
                {
                    (code, reason)
                } else {
                    (1000, &[][..])
                };
                self.start_close(status::WS_OK, Wait::ForServer, &code.to_be_bytes(), reason);
            }
            Phase::Closing { .. } | Phase::Done(_) => {}
        }
    }

    /// [`Client::close_info`] by move: the code, the buffer and where the
    /// reason starts in it (the protocol goes with it).
    pub fn take_close_info(&mut self) -> Option<(u16, Buf, usize)> {
        let c = self.close_code?;
        let at = usize::from(self.proto_len);
        self.proto_len = 0;
        Some((c.get(), self.info.take(), at))
    }

    /// The server's close frame: its code (1005 if it carried none) and
    /// reason; `None` if no valid close frame was received.
    pub fn close_info(&self) -> Option<(u16, &[u8])> {
        let c = self.close_code?;
        let reason = self
            .info
            .as_slice()
            .get(usize::from(self.proto_len)..)
            .unwrap_or(&[]);
        Some((c.get(), reason))
    }
}
