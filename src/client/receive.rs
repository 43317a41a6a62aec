//! Received bytes: the opening handshake's response, then frames. Two
//! paths decode the same bytes to the same result: [`Client::receive`],
//! frame by frame through the streaming decoder and the message assembler
//! (anything, split anywhere), and [`Client::whole_message`], the fast path
//! for a whole small message between frames (one call to
//! [`frame::final_data_header`]). Control frames: pings are answered (a pong
//! through the send queue), close frames go to `closing.rs`.

use super::{Client, Phase, Wait};
use crate::buffer::Buf;
use crate::frame::{self, OP_CLOSE, OP_PING, OP_PONG, OP_TEXT};
use crate::handshake::{self, Parsed};
use crate::message::{valid_utf8, Item, Payload};
use crate::status;

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
    /// A pong ([`super::Options::pongs`]): its payload is `buf` if that has
    /// a capacity, else `data[start..start+len]` (not NUL-terminated).
    Pong { start: usize, len: usize, buf: Buf },
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

impl Client {
    /// Processes received bytes from `data[*pos..]` until something is to be
    /// delivered or done. May modify `data` (NUL terminators, see [`Rx`]).
    /// For each new segment the caller calls [`Client::segment_arrived`],
    /// then starts at position 0; within a segment it may try
    /// [`Client::whole_message`] first.
    pub fn receive(&mut self, data: &mut [u8], pos: &mut usize) -> Rx {
        loop {
            match self.phase {
                _ if !self.reading() => return self.not_reading(data, pos),
                Phase::Handshake => return self.response(data, pos),
                Phase::Open | Phase::Closing { .. } => {}
                _ => {
                    *pos = data.len();
                    return Rx::Done;
                }
            }
            let Some(d) = self.decoder.next(data, pos) else {
                return Rx::Done;
            };
            let frame_end = self.decoder.at_frame_end();
            // After the user's close, data messages are dropped.
            let closing = matches!(self.phase, Phase::Closing { .. });
            match self.asm.feed(data, *pos, d, frame_end) {
                // The segment is used up mid-frame (a large message).
                Item::Nothing if *pos >= data.len() && !frame_end => return Rx::Done,
                Item::Nothing => {}
                Item::Piece { .. } | Item::Message { .. } if closing => {}
                Item::Piece {
                    opcode,
                    start,
                    end,
                    fin,
                } => {
                    return Rx::Fragment {
                        opcode,
                        start,
                        len: end.saturating_sub(start),
                        fin,
                    };
                }
                Item::Error(e) => {
                    self.violation(e);
                    return Rx::Again;
                }
                Item::Control {
                    opcode: OP_PONG,
                    payload,
                } if self.pongs && matches!(self.phase, Phase::Open) => {
                    return match payload {
                        Payload::InPlace { start, end } => Rx::Pong {
                            start,
                            len: end.saturating_sub(start),
                            buf: Buf::new(),
                        },
                        Payload::Owned(buf) => Rx::Pong {
                            start: 0,
                            len: buf.len(),
                            buf,
                        },
                    };
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
                    return match payload {
                        Payload::Owned(buf) => Rx::Owned { opcode, buf },
                        Payload::InPlace { start, end } => self.in_place(data, opcode, start, end),
                    };
                }
            }
        }
    }

    /// Received bytes while not reading: discarded. After a protocol error
    /// with the framing intact ([`Wait::ForServerClose`]) frames are
    /// skipped unread until the header of the server's close frame; the
    /// connection then ends with the error's status once our own close
    /// frame has gone out. A header split across segments is not
    /// followed: then only TCP or the close timer end the wait.
    #[cold]
    #[inline(never)]
    fn not_reading(&mut self, data: &[u8], pos: &mut usize) -> Rx {
        if let Phase::Closing {
            status,
            wait: Wait::ForServerClose,
        } = self.phase
        {
            while self.decoder.skip_payload(data, pos) {
                let rest = data.get(*pos..).unwrap_or(&[]);
                if rest.is_empty() {
                    return Rx::Done;
                }
                match frame::header_span(rest) {
                    Some((OP_CLOSE, _, _)) => {
                        // Over once our close frame has gone out too.
                        self.phase = Phase::Closing {
                            status,
                            wait: Wait::ForSent,
                        };
                        self.end_if_sent();
                        *pos = data.len();
                        return Rx::Again;
                    }
                    Some((_, n, len)) => {
                        *pos += n;
                        self.decoder.skip_frame(len);
                    }
                    None => break,
                }
            }
            if *pos >= data.len() {
                return Rx::Done;
            }
            self.stop_reading();
        }
        *pos = data.len();
        Rx::Done
    }

    /// The opening handshake's response in `data[*pos..]`, parsed byte by
    /// byte; the bytes after a complete response are frames.
    fn response(&mut self, data: &[u8], pos: &mut usize) -> Rx {
        if *pos >= data.len() {
            return Rx::Done;
        }
        let Some(parser) = self.hs.as_mut().map(|hs| &mut hs.parser) else {
            self.end(status::WS_ERR_OTHER);
            return Rx::Done;
        };
        let rest = data.get(*pos..).unwrap_or(&[]);
        match parser.feed(rest) {
            Parsed::NeedMore => {
                *pos = data.len();
                Rx::Done
            }
            Parsed::Failed(e) => {
                self.end(e);
                Rx::Done
            }
            Parsed::Done { used } => {
                *pos = pos.saturating_add(used).min(data.len());
                let chosen = parser.protocol();
                if !handshake::protocol_offered(self.queue.request(), chosen) {
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
                // Arms the keep-alive timer: its clock starts with the
                // response.
                self.handshake_done();
                Rx::Again
            }
        }
    }

    /// A complete control frame (pongs need no answer).
    // A side effect in a match guard would be less obvious than this `if`.
    #[allow(clippy::collapsible_match)]
    fn control(&mut self, opcode: u8, p: &[u8]) {
        match opcode {
            // Only the open phase answers pings: after a close frame
            // nothing more is sent.
            OP_PING if matches!(self.phase, Phase::Open) => {
                if self.queue.push_pong(&mut self.rng, p).is_err() {
                    self.end(status::WS_ERR_NO_MEMORY_SEND);
                }
            }
            OP_CLOSE => self.server_close(p),
            _ => {}
        }
    }

    /// Fast path for the common case: between frames, with no message in
    /// progress, a final text/binary frame that lies wholly in
    /// `data[*pos..]`, within the size limit and (text) valid UTF-8, is
    /// delivered in place at once. Anything else, errors included, returns
    /// `None` with nothing consumed: the frame-by-frame path then decodes
    /// the same bytes and gives the same result.
    /// The payload ends before the segment does: the byte after it is
    /// replaced by a NUL, to be restored from `saved` after the callback.
    #[inline]
    pub fn whole_message(&mut self, data: &mut [u8], pos: &mut usize) -> Option<Whole> {
        // Open implies reading (see `reading`) and no user close.
        if !matches!(self.phase, Phase::Open) || !self.decoder.between_frames() || !self.asm.idle()
        {
            return None;
        }
        let at = *pos;
        let (opcode, n, len) = frame::final_data_header(data.get(at..)?)?;
        if len > u64::from(self.asm.max_message()) {
            return None;
        }
        let len = usize::try_from(len).ok()?;
        let start = at + n;
        let end = start.checked_add(len)?;
        let payload = data.get(start..end)?;
        if opcode == OP_TEXT && !valid_utf8(payload) {
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
