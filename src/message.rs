//! Message assembly: turns decoded frame pieces into whole messages and
//! control frames.
//!
//! * Data frames: fragmentation rules (-15), the size limit on the declared
//!   length before any allocation (-26), incremental UTF-8 validation of text
//!   across fragments (-25).
//! * A single-frame message whose payload lies wholly in the current segment
//!   is reported as a range of that segment (zero copy). Otherwise the payload
//!   is copied into one buffer: allocated at exactly the first fragment's
//!   size (plus one byte for the terminating NUL when it is also the last),
//!   then grown by at least half again when later fragments need more, so
//!   joining many small fragments stays linear, and to exactly the final
//!   size when the last fragment needs more (OOM -8).
//! * Control frames: a range of the segment when whole in it, else collected
//!   into a buffer of exactly the declared length (OOM -9).
//! * Streaming (opt-in): data frames are not assembled at all. Every payload
//!   range of the segment is reported as a piece of the message at once,
//!   with the message's opcode and `fin` on its last piece (an empty last
//!   frame gives an empty last piece). No buffer, no size limit; text is
//!   still validated incrementally, and a piece that breaks UTF-8 (or a
//!   final piece that ends inside a character) is an error, not delivered.

use crate::buffer::Buf;
use crate::frame::{Decoded, OP_BINARY, OP_CONTINUATION, OP_TEXT};
use crate::status::{self, Status};
use crate::utf8::Utf8Validator;

/// Where the payload of a finished message or control frame is.
pub enum Payload {
    /// `data[start..end]` of the segment being processed.
    InPlace { start: usize, end: usize },
    /// A heap buffer. For data messages it ends with an extra NUL byte that is
    /// not part of the message.
    Owned(Buf),
}

/// What one decoded piece completed.
pub enum Item {
    Nothing,
    /// A whole data message; `opcode` is the first frame's (1 or 2).
    Message {
        opcode: u8,
        payload: Payload,
    },
    /// Streaming: `data[start..end]` of the segment is the next piece of
    /// the current message; `fin` on its last piece.
    Piece {
        opcode: u8,
        start: usize,
        end: usize,
        fin: bool,
    },
    /// A whole control frame (8, 9 or 10).
    Control {
        opcode: u8,
        payload: Payload,
    },
    /// Protocol violation or out of memory: the status code.
    Error(Status),
}

/// The frame currently being received.
#[derive(Clone, Copy)]
struct Frame {
    opcode: u8,
    fin: bool,
    in_place: bool,
    /// Streaming: some payload of this frame was seen.
    got: bool,
    start: usize,
    end: usize,
}

pub struct Assembler {
    max: u32,
    /// Deliver data messages piece by piece (no reassembly).
    stream: bool,
    /// Opcode of the data message in progress, 0 when none.
    msg_op: u8,
    msg: Buf,
    utf8: Utf8Validator,
    ctrl: Buf,
    frame: Frame,
}

fn is_control(op: u8) -> bool {
    op & 0x8 != 0
}

impl Assembler {
    pub const fn new(max_message: u32, stream: bool) -> Self {
        Assembler {
            max: max_message,
            stream,
            msg_op: 0,
            msg: Buf::new(),
            utf8: Utf8Validator::new(),
            ctrl: Buf::new(),
            frame: Frame {
                opcode: 0,
                fin: true,
                in_place: false,
                got: false,
                start: 0,
                end: 0,
            },
        }
    }

    /// Bytes currently held on the heap for partial messages/control frames.
    pub fn held_bytes(&self) -> usize {
        self.msg.capacity() + self.ctrl.capacity()
    }

    /// The largest data message accepted (bytes).
    pub fn max_message(&self) -> u32 {
        self.max
    }

    /// True when a text/binary frame arriving now starts a new message that
    /// is assembled (no message in progress, not streaming).
    pub fn idle(&self) -> bool {
        self.msg_op == 0 && !self.stream
    }

    /// Processes one decoder output. `data` is the segment the decoder
    /// works on and `pos` the decoder's position after producing `item`;
    /// `frame_end`: a `Payload` item is the last one of its frame.
    #[inline]
    pub fn feed(&mut self, data: &[u8], pos: usize, item: Decoded, frame_end: bool) -> Item {
        match item {
            Decoded::Error(e) => Item::Error(e),
            Decoded::Header(h) => {
                let remaining = data.len().saturating_sub(pos) as u64;
                self.header(h.fin, h.opcode, h.len, remaining, pos)
            }
            Decoded::Payload { start, end } => {
                let Some(chunk) = data.get(start..end) else {
                    return Item::Error(status::WS_ERR_OTHER);
                };
                self.payload(chunk, start, end, frame_end)
            }
            Decoded::End => self.end(data),
        }
    }

    fn header(&mut self, fin: bool, op: u8, len: u64, remaining: u64, pos: usize) -> Item {
        self.frame = Frame {
            opcode: op,
            fin,
            in_place: false,
            got: false,
            start: pos,
            end: pos,
        };
        if is_control(op) {
            if len <= remaining {
                self.frame.in_place = true;
                return Item::Nothing;
            }
            self.ctrl.free();
            let Ok(n) = usize::try_from(len) else {
                return Item::Error(status::WS_ERR_BAD_CONTROL_FRAME);
            };
            if self.ctrl.reserve_total(n).is_err() {
                return Item::Error(status::WS_ERR_NO_MEMORY_CONTROL);
            }
            return Item::Nothing;
        }
        let continuing = match op {
            OP_CONTINUATION if self.msg_op != 0 => true,
            OP_TEXT | OP_BINARY if self.msg_op == 0 => false,
            OP_CONTINUATION | OP_TEXT | OP_BINARY => {
                return Item::Error(status::WS_ERR_FRAGMENTATION)
            }
            _ => return Item::Error(status::WS_ERR_RESERVED_OPCODE),
        };
        if self.stream {
            if !continuing {
                self.msg_op = op;
                self.utf8 = Utf8Validator::new();
            }
            return Item::Nothing;
        }
        let have = if continuing { self.msg.len() } else { 0 } as u64;
        let total = have.saturating_add(len);
        if total > u64::from(self.max) {
            return Item::Error(status::WS_ERR_MESSAGE_TOO_BIG);
        }
        if !continuing && fin && len <= remaining {
            self.frame.in_place = true;
            return Item::Nothing;
        }
        if !continuing {
            self.msg_op = op;
            self.utf8 = Utf8Validator::new();
        }
        let Ok(total) = usize::try_from(total.saturating_add(u64::from(fin))) else {
            return Item::Error(status::WS_ERR_MESSAGE_TOO_BIG);
        };
        // The last fragment sizes the buffer exactly; earlier ones grow it
        // geometrically (linear time for many small fragments).
        let reserved = if fin {
            self.msg.reserve_final(total)
        } else {
            self.msg.reserve_total(total)
        };
        if reserved.is_err() {
            return Item::Error(status::WS_ERR_NO_MEMORY_MESSAGE);
        }
        Item::Nothing
    }

    fn payload(&mut self, chunk: &[u8], start: usize, end: usize, frame_end: bool) -> Item {
        if self.frame.in_place {
            if self.frame.end != start {
                // Not contiguous: cannot happen with one segment.
                return Item::Error(status::WS_ERR_OTHER);
            }
            self.frame.end = end;
            return Item::Nothing;
        }
        if is_control(self.frame.opcode) {
            if self.ctrl.extend(chunk).is_err() {
                return Item::Error(status::WS_ERR_NO_MEMORY_CONTROL);
            }
            return Item::Nothing;
        }
        if self.msg_op == OP_TEXT && !self.utf8.feed(chunk) {
            return Item::Error(status::WS_ERR_INVALID_UTF8);
        }
        if self.stream {
            self.frame.got = true;
            let fin = self.frame.fin && frame_end;
            if fin && self.msg_op == OP_TEXT && !self.utf8.is_complete() {
                return Item::Error(status::WS_ERR_INVALID_UTF8);
            }
            return Item::Piece {
                opcode: self.msg_op,
                start,
                end,
                fin,
            };
        }
        if self.msg.extend(chunk).is_err() {
            return Item::Error(status::WS_ERR_NO_MEMORY_MESSAGE);
        }
        Item::Nothing
    }

    fn end(&mut self, data: &[u8]) -> Item {
        let f = self.frame;
        if f.in_place {
            self.frame.in_place = false;
            if f.opcode == OP_TEXT && !data.get(f.start..f.end).is_some_and(valid_utf8) {
                return Item::Error(status::WS_ERR_INVALID_UTF8);
            }
            let payload = Payload::InPlace {
                start: f.start,
                end: f.end,
            };
            return if is_control(f.opcode) {
                Item::Control {
                    opcode: f.opcode,
                    payload,
                }
            } else {
                Item::Message {
                    opcode: f.opcode,
                    payload,
                }
            };
        }
        if is_control(f.opcode) {
            return Item::Control {
                opcode: f.opcode,
                payload: Payload::Owned(self.ctrl.take()),
            };
        }
        if !f.fin {
            return Item::Nothing;
        }
        let opcode = self.msg_op;
        self.msg_op = 0;
        if self.stream {
            // The last piece went out with its payload, unless there was none.
            if f.got {
                return Item::Nothing;
            }
            if opcode == OP_TEXT && !self.utf8.is_complete() {
                return Item::Error(status::WS_ERR_INVALID_UTF8);
            }
            return Item::Piece {
                opcode,
                start: 0,
                end: 0,
                fin: true,
            };
        }
        if opcode == OP_TEXT && !self.utf8.is_complete() {
            self.msg.free();
            return Item::Error(status::WS_ERR_INVALID_UTF8);
        }
        if self.msg.push(0).is_err() {
            self.msg.free();
            return Item::Error(status::WS_ERR_NO_MEMORY_MESSAGE);
        }
        Item::Message {
            opcode,
            payload: Payload::Owned(self.msg.take()),
        }
    }
}

/// Checks a text payload that is complete in one piece. Pure ASCII (the
/// common case) is decided inline.
#[inline]
pub fn valid_utf8(b: &[u8]) -> bool {
    b.is_ascii() || valid_utf8_mixed(b)
}

#[inline(never)]
fn valid_utf8_mixed(b: &[u8]) -> bool {
    let mut v = Utf8Validator::new();
    v.feed(b) && v.is_complete()
}

/// Close frame payload check (RFC 6455 7.4): `Ok(code)` with `None` for an
/// empty payload, or the status and the close code to answer with.
pub fn check_close(p: &[u8]) -> Result<Option<u16>, (Status, u16)> {
    match p {
        [] => Ok(None),
        [_] => Err((status::WS_ERR_BAD_CLOSE_PAYLOAD, 1002)),
        [hi, lo, reason @ ..] => {
            let code = (u16::from(*hi) << 8) | u16::from(*lo);
            if !close_code_allowed(code) {
                Err((status::WS_ERR_BAD_CLOSE_PAYLOAD, 1002))
            } else if !valid_utf8(reason) {
                Err((status::WS_ERR_BAD_CLOSE_PAYLOAD, 1007))
            } else {
                Ok(Some(code))
            }
        }
    }
}

/// Close codes an endpoint may send in a close frame (RFC 6455 7.4).
pub fn close_code_allowed(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// The close code sent for a protocol violation. Not inlined: that keeps
/// `Client::fail` and its callers smaller.
#[inline(never)]
pub fn close_code_for(status: Status) -> u16 {
    match status {
        status::WS_ERR_INVALID_UTF8 => 1007,
        status::WS_ERR_MESSAGE_TOO_BIG => 1009,
        _ => 1002,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defect_close_reason_parsed_correctly() {
        assert_eq!(check_close(&[0x03, 0xE8]), Ok(Some(1000)));
        assert_eq!(check_close(&[0x0F, 0xA0, b'o', b'k']), Ok(Some(4000)));
        assert_eq!(check_close(&[]), Ok(None));
        assert_eq!(
            check_close(&[0x03]),
            Err((status::WS_ERR_BAD_CLOSE_PAYLOAD, 1002))
        );
        assert_eq!(
            check_close(&[0x03, 0xEC]),
            Err((status::WS_ERR_BAD_CLOSE_PAYLOAD, 1002))
        ); // 1004
        assert_eq!(
            check_close(&[0x03, 0xED]),
            Err((status::WS_ERR_BAD_CLOSE_PAYLOAD, 1002))
        ); // 1005
        assert_eq!(
            check_close(&[0x13, 0x88]),
            Err((status::WS_ERR_BAD_CLOSE_PAYLOAD, 1002))
        ); // 5000
        assert_eq!(
            check_close(&[0x03, 0xE8, 0xFF]),
            Err((status::WS_ERR_BAD_CLOSE_PAYLOAD, 1007))
        );
    }

    #[test]
    fn close_codes_for_statuses() {
        assert_eq!(close_code_for(status::WS_ERR_INVALID_UTF8), 1007);
        assert_eq!(close_code_for(status::WS_ERR_MESSAGE_TOO_BIG), 1009);
        assert_eq!(close_code_for(status::WS_ERR_FRAGMENTATION), 1002);
        assert_eq!(close_code_for(status::WS_ERR_MASKED_FRAME), 1002);
    }
}
