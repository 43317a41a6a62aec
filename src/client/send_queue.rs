//! The send queue: every byte the client sends goes through here. The
//! handshake request first (gated: frames queued during the handshake wait
//! behind it until the 101), then encoded, masked frames; chunks of at most
//! [`MAX_CHUNK`] bytes go to the port one at a time (`ws_port_send`,
//! [`Client::send_result`], then `ws_event_sent`, [`Client::sent`]). The
//! bytes of a chunk the port accepted stay where they are, unchanged, until
//! its `ws_event_sent` (the port hands the pointer to espconn, which reads
//! unsent bytes late): a buffer with chunks in flight is never moved,
//! shifted or freed; when it must grow it becomes the `front` buffer and a
//! new one takes the frames after it. Small user frames are handed to the
//! port at once ([`Client::send_via`]). A drained buffer of at most
//! [`KEEP_OUT`] bytes is kept, empty, for the next send (no allocation per
//! small message) until a segment arrives ([`SendQueue::release_idle`]).
//! Waiting pongs hold at most [`PONG_QUEUE_MAX`] bytes
//! ([`SendQueue::push_pong`]).

use super::{Client, Phase, Rng};
use crate::buffer::{Boxed, Buf};
use crate::frame::{self, OP_CLOSE, OP_PONG};
use crate::status::{self, Status};

/// Largest chunk handed to the port in one `ws_port_send` call.
pub const MAX_CHUNK: usize = 65535;
/// `ws_port_send` result: refused for now.
pub const PORT_BUSY: i32 = 1;
/// Largest frame (header + payload) `Client::send_via` encodes on the stack
/// instead of the heap send queue.
pub const DIRECT_FRAME: usize = 128;
/// Bytes of pong frames that may wait in the send queue, not yet handed to
/// the port: every ping is answered while its pong fits (a burst of pings
/// against a port with one chunk in flight), beyond it pongs collapse to
/// the most recent ping (RFC 6455 5.5.3). One replacement may go past it
/// by the difference of two pong sizes (< 125 bytes).
pub const PONG_QUEUE_MAX: usize = 1024;
/// Largest drained send buffer kept for the next send instead of freed at
/// its sent event: a direct frame's (at most one per connection, freed
/// when a segment arrives: `SendQueue::release_idle`).
pub const KEEP_OUT: usize = DIRECT_FRAME;

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

/// An earlier `out` (see [`SendQueue::front`]): its bytes from `head` on go
/// out before `out`'s, and it is freed once none of its chunks is in
/// flight.
pub(super) struct Front {
    buf: Buf,
    head: usize,
}

/// Encoded bytes waiting for the port (see the module documentation).
pub(super) struct SendQueue {
    out: Buf,
    /// An earlier `out` that had chunks in flight when it had to grow
    /// (rare: allocated only then, so a connection does not carry it).
    front: Option<Boxed<Front>>,
    /// `out[..head]` has been accepted by the port.
    head: usize,
    /// While `gated`, only `out[..gate]` (the request) may go.
    gate: usize,
    /// Where the last queued pong ends in `out`, and its length (at most
    /// 131 bytes); while its end is beyond `head` it has not wholly reached
    /// the port yet.
    pong_end: usize,
    pong_len: u8,
    /// Bytes of the pongs queued since the last pong was wholly handed to
    /// the port (valid while `pong_end > head`): the waiting pongs, counted
    /// from above (a pong already handed over counts while a later one
    /// waits).
    pong_bytes: u16,
    /// Chunks accepted by the port whose `ws_event_sent` is still due (or
    /// refused with an error: the port may still read them).
    inflight: u16,
    /// The port refused the last chunk: wait for `ws_event_sent`.
    busy: bool,
    /// The handshake is not done: the request stays (the response is
    /// checked against it) and frames behind it wait.
    gated: bool,
}

impl SendQueue {
    /// A queue holding the handshake request, gated.
    pub(super) fn with_request(request: Buf) -> SendQueue {
        SendQueue {
            gate: request.len(),
            out: request,
            front: None,
            head: 0,
            pong_len: 0,
            pong_end: 0,
            pong_bytes: 0,
            inflight: 0,
            busy: false,
            gated: true,
        }
    }

    /// Chunks of `out` are in flight: its bytes must not move. (While
    /// `front` has memory, every chunk in flight is one of `front`'s.)
    fn pinned(&self) -> bool {
        self.inflight > 0 && self.front.is_none()
    }

    /// A chunk accepted by the port (or refused with an error) may still
    /// be read by it: the bytes are still the queue's.
    pub(super) fn sending(&self) -> bool {
        self.inflight > 0
    }

    /// The handshake request (while gated).
    pub(super) fn request(&self) -> &[u8] {
        self.out.as_slice().get(..self.gate).unwrap_or(&[])
    }

    /// The handshake is done: frames may follow the request, which is
    /// freed once all of it has gone out (else the next frame drops what
    /// has been sent).
    pub(super) fn open_gate(&mut self) {
        self.gated = false;
        if self.head >= self.out.len() && !self.pinned() {
            self.out.free();
            self.forget_sent();
        }
    }

    pub(super) fn capacity(&self) -> usize {
        self.out.capacity() + self.front.as_ref().map_or(0, |f| f.buf.capacity())
    }

    /// How far the port may read now.
    fn limit(&self) -> usize {
        if self.gated {
            self.gate
        } else {
            self.out.len()
        }
    }

    /// Bytes are queued and the port is not busy (a chunk may be due).
    #[inline(always)]
    pub(super) fn has_unsent(&self) -> bool {
        !self.busy
            && (self.head < self.out.len()
                || self.front.as_ref().is_some_and(|f| f.head < f.buf.len()))
    }

    /// The next chunk for `ws_port_send`, if one may go now: the rest of
    /// `front` first; `out` once `front` is gone.
    pub(super) fn next_chunk(&self) -> Option<&[u8]> {
        if self.busy {
            return None;
        }
        let (buf, at, limit) = if let Some(f) = self.front.as_ref() {
            (&f.buf, f.head, f.buf.len())
        } else {
            (&self.out, self.head, self.limit())
        };
        if at >= limit {
            return None;
        }
        let end = limit.min(at.saturating_add(MAX_CHUNK));
        buf.as_slice().get(at..end)
    }

    /// The port accepted the chunk last returned by `next_chunk`. Its bytes
    /// stay until its `ws_event_sent`.
    fn accepted(&mut self) {
        if let Some(f) = self.front.as_mut() {
            f.head = f.buf.len().min(f.head.saturating_add(MAX_CHUNK));
        } else {
            self.head = self.limit().min(self.head.saturating_add(MAX_CHUNK));
        }
        self.inflight = self.inflight.saturating_add(1);
    }

    /// `ws_event_sent`: one accepted chunk has gone out. Once none is in
    /// flight, what has gone out is freed: `front` (when all of it has been
    /// handed over), `out` when drained (the request stays until the
    /// response is checked against it). The usual case while open keeps a
    /// small `out` instead ([`SendQueue::sent_all_drained`]).
    fn sent(&mut self) {
        self.inflight = self.inflight.saturating_sub(1);
        self.busy = false;
        if self.inflight == 0 {
            if self.front.as_ref().is_some_and(|f| f.head >= f.buf.len()) {
                self.front = None;
            }
            if self.head >= self.out.len() && !self.gated {
                self.out.free();
                self.forget_sent();
            }
        }
    }

    /// `sent` in the usual case: the only chunk in flight, the rest of
    /// `out` (not gated), has gone out. `out` is kept, emptied, for the
    /// next send when it holds at most [`KEEP_OUT`] bytes (no allocation
    /// per small message; see [`SendQueue::release_idle`] for when it
    /// goes), else freed. False (nothing done) in any other case.
    #[inline(always)]
    fn sent_all_drained(&mut self) -> bool {
        if self.inflight != 1 || self.front.is_some() || self.head < self.out.len() || self.gated {
            return false;
        }
        if self.out.capacity() > KEEP_OUT {
            self.out.free();
        } else {
            self.out.clear();
        }
        self.inflight = 0;
        self.busy = false;
        self.head = 0;
        self.pong_end = 0;
        true
    }

    /// Bytes of `out` kept, empty, for the next send (tests).
    #[cfg(test)]
    pub(super) fn kept(&self) -> usize {
        if self.out.is_empty() && self.inflight == 0 {
            self.out.capacity()
        } else {
            0
        }
    }

    /// Frees `out` when it is kept empty for the next send (see
    /// [`SendQueue::sent`]): called when a segment arrives, so a
    /// connection holds it only while it sends and nothing comes back. An
    /// idle connection with keep-alive holds it at most one interval (the
    /// ping reuses it, its pong frees it); without keep-alive until the
    /// next segment or the end, at most [`KEEP_OUT`] bytes.
    #[inline(always)]
    pub(super) fn release_idle(&mut self) {
        // Usually nothing is kept: one test on the receive path. An empty
        // `out` has no chunk in flight (those lie in `out[..head]`, and
        // `head <= len`); `front`'s are not touched.
        if self.out.capacity() != 0 && self.out.is_empty() {
            self.out.free();
        }
    }

    /// Everything queued has been sent.
    pub(super) fn drained(&self) -> bool {
        self.inflight == 0 && self.out.is_empty() && self.front.is_none()
    }

    /// Nothing queued or due: a frame may go to the port directly.
    fn idle(&self) -> bool {
        !self.busy && self.head >= self.out.len() && self.front.is_none()
    }

    /// The queue's first `head` bytes are gone: rebase the offsets into it.
    fn forget_sent(&mut self) {
        self.gate = self.gate.saturating_sub(self.head);
        self.pong_end = self.pong_end.saturating_sub(self.head);
        self.head = 0;
    }

    /// `out` has chunks in flight and no room for `more` bytes: it becomes
    /// `front`, unchanged until their `ws_event_sent`, and a new `out`
    /// takes the frames from now on. While gated the request must stay
    /// readable in `out`: the new one starts with a copy of all of it (the
    /// request and the frames behind the gate; `front` then only waits).
    /// Else `front` keeps its unsent bytes, which go first, and its pong
    /// (no longer replaceable) leaves the count of waiting pongs.
    fn move_to_front(&mut self, more: usize) -> Result<(), Status> {
        let mut front = Boxed::new(Front {
            buf: Buf::new(),
            head: 0,
        })
        .map_err(|_| status::WS_ERR_NO_MEMORY_SEND)?;
        let mut fresh = Buf::new();
        let keep = if self.gated { self.out.as_slice() } else { &[] };
        fresh
            .reserve_total(keep.len().saturating_add(more))
            .map_err(|_| status::WS_ERR_NO_MEMORY_SEND)?;
        fresh
            .extend(keep)
            .map_err(|_| status::WS_ERR_NO_MEMORY_SEND)?;
        front.buf = core::mem::replace(&mut self.out, fresh);
        if self.gated {
            front.head = front.buf.len();
        } else {
            front.head = self.head;
            self.head = 0;
            self.pong_end = 0;
        }
        self.front = Some(front);
        Ok(())
    }

    /// Encodes one masked frame (see `Buf` for the growth); its payload is
    /// `payload` followed by `tail`.
    pub(super) fn push(
        &mut self,
        rng: &mut Rng,
        opcode: u8,
        payload: &[u8],
        tail: &[u8],
    ) -> Result<(), Status> {
        let n = payload.len().saturating_add(tail.len());
        let hl = frame::header_len(n);
        let total = hl.checked_add(n).ok_or(status::WS_ERR_NO_MEMORY_SEND)?;
        if self.pinned() {
            // Appending within the capacity moves nothing.
            if self.out.capacity() - self.out.len() < total {
                self.move_to_front(total)?;
            }
        } else {
            if self.head > 0 && !self.gated {
                self.out.drop_front(self.head);
                self.forget_sent();
            }
            self.out
                .reserve_exact(total)
                .map_err(|_| status::WS_ERR_NO_MEMORY_SEND)?;
        }
        let mask = rng.mask();
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

    /// Queues a pong for `p`. Waiting pongs hold at most
    /// [`PONG_QUEUE_MAX`] bytes, so a ping flood against a peer that does
    /// not read cannot grow the queue without bound, while a burst of pings
    /// is answered ping by ping. Beyond the bound, RFC 6455 5.5.3 lets an
    /// endpoint answer only the most recent ping: the last pong, when it is
    /// still the last thing queued and none of it has been handed to the
    /// port, is replaced; if other frames follow it, this ping goes without
    /// a pong of its own.
    pub(super) fn push_pong(&mut self, rng: &mut Rng, p: &[u8]) -> Result<(), Status> {
        let size = frame::header_len(p.len()) + p.len();
        if self.pong_end <= self.head {
            self.pong_bytes = 0; // every earlier pong has reached the port
        }
        if usize::from(self.pong_bytes) + size > PONG_QUEUE_MAX {
            let start = self.pong_end.saturating_sub(usize::from(self.pong_len));
            if start < self.head || self.pong_end != self.out.len() {
                return Ok(());
            }
            self.out.truncate(start);
            self.pong_bytes = self.pong_bytes.saturating_sub(u16::from(self.pong_len));
        }
        self.push(rng, OP_PONG, p, &[])?;
        self.pong_end = self.out.len();
        // A pong frame: at most 6 + 125 bytes.
        self.pong_len = size as u8;
        // At most PONG_QUEUE_MAX + 125 (above): fits in u16.
        self.pong_bytes = self.pong_bytes.saturating_add(size as u16);
        Ok(())
    }
}

impl Client {
    /// User send. Errors (connection unaffected): `WS_ERR_BAD_OPCODE`,
    /// `WS_ERR_NOT_CONNECTED`; `WS_ERR_NO_MEMORY_SEND` ends the connection
    /// with -16.
    pub fn send(&mut self, opcode: u8, payload: &[u8]) -> Result<(), Status> {
        check_send_opcode(opcode, payload)?;
        if !matches!(self.phase, Phase::Handshake | Phase::Open) {
            return Err(status::WS_ERR_NOT_CONNECTED);
        }
        let r = self.queue.push(&mut self.rng, opcode, payload, &[]);
        if let Err(e) = r {
            self.end(e);
        }
        r
    }

    /// User send (`ws_send`): as [`Client::send`], except that when the
    /// connection is open with nothing queued or due and the frame fits in
    /// `DIRECT_FRAME` bytes, it is handed to `port` (`ws_port_send`, which
    /// calls no event) as soon as it is queued, without the drive loop.
    /// A frame the port refuses (busy) stays queued.
    /// `Ok(true)`: the port took the frame directly and no action is due.
    #[inline]
    pub fn send_via(
        &mut self,
        opcode: UserOpcode,
        payload: &[u8],
        port: impl FnOnce(&[u8]) -> i32,
    ) -> Result<bool, Status> {
        let UserOpcode(opcode) = opcode;
        let total = payload.len().saturating_add(frame::SHORT_HEADER);
        // Open implies no final status yet (`end` leaves Open) and no
        // response parser (freed when the connection opens).
        // Behind a chunk in flight (pinned) a frame is queued too: it goes
        // after its sent event.
        if total > DIRECT_FRAME
            || !matches!(self.phase, Phase::Open)
            || !self.queue.idle()
            || self.queue.pinned()
        {
            return self.send(opcode, payload).map(|()| false);
        }
        // No opcode check: a `UserOpcode` is valid, and a direct payload
        // (at most 122 bytes) is short enough for a ping or pong.
        // Idle and nothing in flight: everything in `out` has gone out and
        // the sent event that ended the last flight rebased the offsets
        // (`head` only grows with a chunk accepted, `sent` resets it once
        // none is in flight and all has gone, and open means not gated).
        // Usually `out` is empty, kept from the last small send.
        let q = &mut self.queue;
        debug_assert!(q.head == 0 && q.pong_end == 0);
        // The frame is written straight into `out` (reused when it holds
        // `total` bytes, else exactly that big: small enough to be kept).
        let Some(dst) = q.out.refill(total) else {
            self.end(status::WS_ERR_NO_MEMORY_SEND);
            return Err(status::WS_ERR_NO_MEMORY_SEND);
        };
        let Some((h, body)) = dst.split_first_chunk_mut::<{ frame::SHORT_HEADER }>() else {
            return Err(status::WS_ERR_OTHER); // unreachable: total >= SHORT_HEADER
        };
        let mask = self.rng.mask();
        frame::write_short_header(h, true, opcode, payload.len() as u8, mask);
        frame::mask_into(body, payload, mask, 0);
        let r = port(dst);
        if r == 0 {
            // Accepted (as `accepted`): all of `out`, the only chunk in flight.
            q.head = total;
            q.inflight = 1;
            return Ok(true);
        }
        self.send_result(r);
        Ok(false)
    }

    /// Result of the `ws_port_send` for the chunk last returned by `poll`.
    /// After an error the port may still read the chunk: it counts as in
    /// flight (see [`Client::sending`]).
    #[inline]
    pub fn send_result(&mut self, r: i32) {
        if r == PORT_BUSY {
            self.queue.busy = true;
        } else if r < 0 {
            self.queue.inflight = self.queue.inflight.saturating_add(1);
            self.end(Status::espconn(r));
        } else {
            self.queue.accepted();
        }
    }

    /// The `len` bytes at address `at` if they lie in the send queue's
    /// memory (tests: a chunk in flight must stay there until its sent
    /// event).
    #[cfg(test)]
    pub fn holds(&self, at: usize, len: usize) -> Option<&[u8]> {
        let front = self.queue.front.as_ref().map(|f| &f.buf);
        [front, Some(&self.queue.out)]
            .into_iter()
            .flatten()
            .find_map(|b| {
                let s = b.as_slice();
                let off = at.checked_sub(s.as_ptr() as usize)?;
                s.get(off..off.checked_add(len)?)
            })
    }

    /// A chunk handed to the port may still be read by it (accepted and
    /// its `ws_event_sent` not yet come, or refused with an error): its
    /// bytes are in the send queue.
    pub fn sending(&self) -> bool {
        self.queue.sending()
    }

    /// `ws_event_sent`: one accepted chunk has gone out. True when actions
    /// are due ([`Client::has_actions`]).
    #[inline]
    pub fn sent(&mut self) -> bool {
        // The usual case first, without a call: open, and the queue now
        // empty. Every entry point carries out the actions it causes, so
        // none was due before this event, and emptying the queue causes
        // none (the timer and the phase stay as they are).
        if matches!(self.phase, Phase::Open) && self.queue.sent_all_drained() {
            return false;
        }
        self.queue.sent();
        self.end_if_sent();
        self.has_actions()
    }
}
