//! WebSocket frames (RFC 6455 section 5): a streaming decoder for server
//! frames and the encoder for masked client frame headers.
//!
//! The decoder never copies payload: it reports ranges of the caller's buffer.
//! A header split across calls is collected byte by byte: its first two
//! bytes are kept and the extended length is accumulated as it arrives (a
//! masked server frame is rejected at its second byte, so the 4 mask bytes
//! are never read), so a header split at any byte decodes the same as a
//! whole one.

use crate::status::{
    Status, WS_ERR_BAD_CONTROL_FRAME, WS_ERR_MASKED_FRAME, WS_ERR_MESSAGE_TOO_BIG,
    WS_ERR_RESERVED_BITS, WS_ERR_RESERVED_OPCODE,
};

pub const OP_CONTINUATION: u8 = 0;
pub const OP_TEXT: u8 = 1;
pub const OP_BINARY: u8 = 2;
pub const OP_CLOSE: u8 = 8;
pub const OP_PING: u8 = 9;
pub const OP_PONG: u8 = 10;

/// Largest payload of a control frame.
pub const MAX_CONTROL_PAYLOAD: usize = 125;

#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub struct FrameHeader {
    pub fin: bool,
    pub opcode: u8,
    pub len: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub enum Decoded {
    /// A complete, valid frame header.
    Header(FrameHeader),
    /// Payload bytes `data[start..end]` of the current frame (never empty).
    Payload { start: usize, end: usize },
    /// The current frame is complete.
    End,
    /// Protocol violation (status code); the decoder stays in this state.
    Error(Status),
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
enum State {
    Header,
    Payload,
    End,
    /// A status code (all fit in an i8; keeps the decoder small).
    Error(i8),
}

#[cfg_attr(test, derive(Debug))]
pub struct Decoder {
    /// Payload bytes still due in state `Payload`; while a header is
    /// collected byte by byte, its extended length so far.
    remaining: u64,
    state: State,
    /// First two bytes of a header being collected byte by byte.
    b0: u8,
    b1: u8,
    /// Header bytes collected so far (0 when none).
    hlen: u8,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder {
    pub const fn new() -> Self {
        Decoder {
            remaining: 0,
            state: State::Header,
            b0: 0,
            b1: 0,
            hlen: 0,
        }
    }

    /// Decodes from `data[*pos..]` and advances `*pos` past what it used.
    /// Returns `None` when all of `data` is consumed and more bytes are
    /// needed. Per frame the sequence is `Header`, zero or more `Payload`
    /// ranges (indices into `data`), then `End`; a zero-length frame gives
    /// `Header` then `End`. After `Error` every call returns the same
    /// `Error` without consuming anything.
    #[inline]
    pub fn next(&mut self, data: &[u8], pos: &mut usize) -> Option<Decoded> {
        loop {
            match self.state {
                State::Error(code) => {
                    return Some(Decoded::Error(Status::from_code(i32::from(code))))
                }
                State::End => {
                    self.state = State::Header;
                    self.hlen = 0;
                    return Some(Decoded::End);
                }
                State::Payload => {
                    let start = *pos;
                    let avail = data.len().checked_sub(start).filter(|&n| n > 0)?;
                    let end = start + self.take_payload(avail);
                    *pos = end;
                    return Some(Decoded::Payload { start, end });
                }
                State::Header => {
                    let &b = data.get(*pos)?;
                    *pos += 1;
                    if let Some(d) = self.header_byte(b) {
                        return Some(d);
                    }
                }
            }
        }
    }

    /// True once the decoder has failed (every later call gives the error).
    pub fn failed(&self) -> bool {
        matches!(self.state, State::Error(_))
    }

    /// In state `Payload`, with `avail` more bytes at hand: takes as many
    /// of them as the frame still has (moving to `End` once it is whole)
    /// and returns that count.
    #[inline(always)]
    fn take_payload(&mut self, avail: usize) -> usize {
        // min(avail, remaining) fits in usize because avail does.
        let n = usize::try_from(self.remaining).map_or(avail, |r| r.min(avail));
        self.remaining -= n as u64;
        if self.remaining == 0 {
            self.state = State::End;
        }
        n
    }

    /// Skipping frames unread (after a protocol error): consumes what is
    /// left of the current frame's payload from `data[*pos..]`. True once
    /// between frames (the next byte starts a header).
    pub fn skip_payload(&mut self, data: &[u8], pos: &mut usize) -> bool {
        if self.state == State::Payload {
            *pos += self.take_payload(data.len().saturating_sub(*pos));
        }
        if self.state == State::End {
            self.state = State::Header;
            self.hlen = 0;
        }
        self.between_frames()
    }

    /// Skipping frames unread: a frame whose header was read elsewhere
    /// (`header_span`), with `len` payload bytes to skip next.
    pub fn skip_frame(&mut self, len: u64) {
        self.remaining = len;
        self.hlen = 0;
        self.state = if len > 0 {
            State::Payload
        } else {
            State::Header
        };
    }

    /// True between frames: the next byte starts a header (used by the
    /// client's whole-message fast path).
    pub fn between_frames(&self) -> bool {
        self.state == State::Header && self.hlen == 0
    }

    /// True right after the last `Payload` range of a frame (its `End` is
    /// next).
    pub fn at_frame_end(&self) -> bool {
        self.state == State::End
    }

    /// Takes one header byte; returns the header once complete, or an error.
    fn header_byte(&mut self, b: u8) -> Option<Decoded> {
        let i = self.hlen;
        self.hlen = self.hlen.saturating_add(1);
        match i {
            0 => {
                self.b0 = b;
                self.remaining = 0;
            }
            1 => self.b1 = b,
            // Extended length, big-endian: at most 8 bytes, nothing shifted out.
            _ => self.remaining = (self.remaining << 8) | u64::from(b),
        }
        let (b0, b1) = (self.b0, self.b1);
        let err = match i {
            0 => check_first(b0),
            1 => check_second(b0, b1),
            _ => None,
        };
        if let Some(err) = err {
            return Some(self.fail(err));
        }
        if i == 0 {
            return None;
        }
        let need = match b1 & 0x7F {
            126 => 4,
            127 => 10,
            _ => 2,
        };
        if usize::from(self.hlen) < need {
            return None;
        }
        let len = match b1 & 0x7F {
            126 | 127 => self.remaining,
            n => u64::from(n),
        };
        let h = match header(b0, len) {
            Ok(h) => h,
            Err(e) => return Some(self.fail(e)),
        };
        self.remaining = len;
        self.state = if len == 0 { State::End } else { State::Payload };
        Some(Decoded::Header(h))
    }

    fn fail(&mut self, st: Status) -> Decoded {
        // Every frame-level status fits in an i8 (see `State::Error`).
        let code = i8::try_from(st.code()).unwrap_or(i8::MIN);
        self.state = State::Error(code);
        Decoded::Error(Status::from_code(i32::from(code)))
    }
}

// The header rules, shared by the streaming decoder (a header split
// anywhere) and `parse_header` (a whole header in one buffer).

/// The violation in a header's first byte, if any.
#[inline(always)]
fn check_first(b0: u8) -> Option<Status> {
    if b0 & 0x70 != 0 {
        Some(WS_ERR_RESERVED_BITS)
    } else if matches!(b0 & 0x0F, 3..=7 | 11..=15) {
        Some(WS_ERR_RESERVED_OPCODE)
    } else {
        None
    }
}

/// The violation in a header's second byte (after a valid first), if any.
#[inline(always)]
fn check_second(b0: u8, b1: u8) -> Option<Status> {
    let control = b0 & 0x0F >= 8;
    if b1 & 0x80 != 0 {
        Some(WS_ERR_MASKED_FRAME)
    } else if control && (b1 & 0x7F > MAX_CONTROL_PAYLOAD as u8 || b0 & 0x80 == 0) {
        Some(WS_ERR_BAD_CONTROL_FRAME)
    } else {
        None
    }
}

/// The header of first byte `b0` and payload length `len`.
#[inline(always)]
fn header(b0: u8, len: u64) -> Result<FrameHeader, Status> {
    if len >> 63 != 0 {
        return Err(WS_ERR_MESSAGE_TOO_BIG);
    }
    Ok(FrameHeader {
        fin: b0 & 0x80 != 0,
        opcode: b0 & 0x0F,
        len,
    })
}

/// Decodes a whole server frame header at the start of `data`, by the
/// decoder's rules: the header and its length in bytes, or the violation;
/// `None` if `data` ends inside the header.
#[inline(always)]
pub fn parse_header(data: &[u8]) -> Option<Result<(FrameHeader, usize), Status>> {
    let (&b0, rest) = data.split_first()?;
    if let Some(e) = check_first(b0) {
        return Some(Err(e));
    }
    let (&b1, ext) = rest.split_first()?;
    if let Some(e) = check_second(b0, b1) {
        return Some(Err(e));
    }
    let (len, n) = length_field(b1, ext)?;
    Some(header(b0, len).map(|h| (h, n)))
}

/// The payload length of second header byte `b1` and the bytes after it,
/// and the header's length without a mask; `None` if `ext` ends inside
/// the length.
#[inline(always)]
fn length_field(b1: u8, ext: &[u8]) -> Option<(u64, usize)> {
    Some(match b1 & 0x7F {
        126 => {
            let &[a, b, ..] = ext else { return None };
            (u64::from(u16::from_be_bytes([a, b])), 4)
        }
        127 => {
            let (l, _) = ext.split_first_chunk::<8>()?;
            (u64::from_be_bytes(*l), 10)
        }
        n => (u64::from(n), 2),
    })
}

/// Skipping frames unread: the opcode, header length and payload length
/// of the whole header at the start of `data`, unchecked (`None` if
/// `data` ends inside it). Not inlined: cold.
#[inline(never)]
pub fn header_span(data: &[u8]) -> Option<(u8, usize, u64)> {
    let &[b0, b1, ..] = data else {
        return None;
    };
    let (len, n) = length_field(b1, data.get(2..)?)?;
    let n = if b1 & 0x80 != 0 { n + 4 } else { n };
    (data.len() >= n).then_some((b0 & 0x0F, n, len))
}

/// The header of a final text or binary frame with a 7- or 16-bit length
/// at the start of `data`, if it is whole and valid: the opcode, the
/// header's length and the payload length (the receive fast path: small
/// messages; anything else goes to the decoder).
#[inline(always)]
pub fn final_data_header(data: &[u8]) -> Option<(u8, usize, u64)> {
    // FIN, no reserved bits, text or binary, no 64-bit length: the rest is
    // `parse_header`.
    let &[b0, b1, ..] = data else {
        return None;
    };
    if b0 != 0x80 | OP_TEXT && b0 != 0x80 | OP_BINARY || b1 & 0x7F == 127 {
        return None;
    }
    match parse_header(data)? {
        Ok((h, n)) => Some((h.opcode, n, h.len)),
        Err(_) => None,
    }
}

/// Length of the header of a masked client frame with a 7-bit payload
/// length (at most 125 bytes): 2 bytes and the mask.
pub const SHORT_HEADER: usize = 6;

/// Length of a masked client frame header for `payload_len` bytes of payload.
#[inline(always)]
pub fn header_len(payload_len: usize) -> usize {
    let ext = if payload_len < 126 {
        0
    } else if payload_len <= 0xFFFF {
        2
    } else {
        8
    };
    2 + ext + 4
}

/// Writes a masked client frame header into `out`; returns the number of
/// bytes written (= `header_len(payload_len)`), or 0 if `out` is too small.
/// `opcode` is truncated to its low 4 bits.
pub fn write_header(
    out: &mut [u8],
    fin: bool,
    opcode: u8,
    payload_len: usize,
    mask: [u8; 4],
) -> usize {
    let n = header_len(payload_len);
    let Some(h) = out.get_mut(..n) else {
        return 0;
    };
    // Byte 1 (mask bit + 7-bit length or 126/127), then the extended
    // length: the last `n - 6` bytes of the big-endian 64-bit length.
    let ext = n - SHORT_HEADER;
    let len7 = match ext {
        0 => payload_len as u8,
        2 => 126,
        _ => 127,
    };
    let len = (payload_len as u64).to_be_bytes();
    let [b0, b1, rest @ ..] = h else {
        return 0;
    };
    *b0 = first_byte(fin, opcode);
    *b1 = 0x80 | len7;
    let (l, m) = rest.split_at_mut(ext.min(rest.len()));
    for (d, s) in l.iter_mut().zip(&len[8 - ext.min(8)..]) {
        *d = *s;
    }
    if let Ok(m) = <&mut [u8; 4]>::try_from(m) {
        *m = mask;
    }
    n
}

/// `write_header` for a payload of at most 125 bytes (`len`), which has a
/// header of `SHORT_HEADER` bytes: the same bytes, written without
/// branches (the direct send path).
#[inline(always)]
pub fn write_short_header(
    out: &mut [u8; SHORT_HEADER],
    fin: bool,
    opcode: u8,
    len: u8,
    mask: [u8; 4],
) {
    let [b0, b1, m @ ..] = out;
    *b0 = first_byte(fin, opcode);
    *b1 = 0x80 | (len & 0x7F);
    *m = mask;
}

/// A header's first byte: FIN and the opcode's low 4 bits.
#[inline(always)]
fn first_byte(fin: bool, opcode: u8) -> u8 {
    (u8::from(fin) << 7) | (opcode & 0x0F)
}

/// The mask rotated so that its first byte is the one for stream position
/// `offset`, and that rotated mask repeated to fill a 64-bit word.
fn mask_words(mask: [u8; 4], offset: usize) -> ([u8; 4], u64) {
    let m = u32::from_be_bytes(mask)
        .rotate_left(8 * (offset % 4) as u32)
        .to_be_bytes();
    // The 4 bytes twice in memory order, whatever the byte order: the
    // same 32-bit value in both halves.
    let w = u64::from(u32::from_ne_bytes(m)) * 0x1_0000_0001;
    (m, w)
}

/// 16 bytes XOR the word `w` twice, written as two independent 64-bit
/// halves: plain word operations on targets without SIMD (two 32-bit
/// register pairs each on 32-bit ones), and a single 128-bit XOR where the
/// optimiser vectorises (x86_64 at opt-level 3). A `u128` XOR would not be
/// vectorised; a byte loop would not be combined into words at opt-level z.
#[inline(always)]
fn xor16(s: &[u8; 16], w: u64) -> [u8; 16] {
    let [a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7] = *s;
    let a = u64::from_ne_bytes([a0, a1, a2, a3, a4, a5, a6, a7]) ^ w;
    let b = u64::from_ne_bytes([b0, b1, b2, b3, b4, b5, b6, b7]) ^ w;
    let [a0, a1, a2, a3, a4, a5, a6, a7] = a.to_ne_bytes();
    let [b0, b1, b2, b3, b4, b5, b6, b7] = b.to_ne_bytes();
    [
        a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7,
    ]
}

/// `dst[i] = src[i] ^ mask[(offset + i) % 4]`. Does nothing unless
/// `dst.len() == src.len()`. Works 16 bytes at a time.
#[inline]
pub fn mask_into(dst: &mut [u8], src: &[u8], mask: [u8; 4], offset: usize) {
    if dst.len() != src.len() {
        return;
    }
    let (m, w) = mask_words(mask, offset);
    // On 64-bit hosts (vector units, two stores per cycle): 64 bytes per
    // step as four independent 16-byte XORs, 1.4x faster at 1 KiB. The
    // 32-bit device targets have no vector unit; they keep the compact loop
    // (the unrolled one costs about 150 B of flash there).
    #[cfg(target_pointer_width = "64")]
    let (dst, src) = {
        let (d64, dst) = dst.as_chunks_mut::<64>();
        let (s64, src) = src.as_chunks::<64>();
        for (d, s) in d64.iter_mut().zip(s64) {
            let ([d0, d1, d2, d3], []) = d.as_chunks_mut::<16>() else {
                continue;
            };
            let ([s0, s1, s2, s3], []) = s.as_chunks::<16>() else {
                continue;
            };
            [*d0, *d1, *d2, *d3] = [xor16(s0, w), xor16(s1, w), xor16(s2, w), xor16(s3, w)];
        }
        (dst, src)
    };
    let (dw, dt) = dst.as_chunks_mut::<16>();
    let (sw, st) = src.as_chunks::<16>();
    for (d, s) in dw.iter_mut().zip(sw) {
        *d = xor16(s, w);
    }
    for (i, (d, s)) in dt.iter_mut().zip(st).enumerate() {
        *d = s ^ m[i % 4];
    }
}

/// `data[i] ^= mask[(offset + i) % 4]`, 16 bytes at a time.
pub fn mask_in_place(data: &mut [u8], mask: [u8; 4], offset: usize) {
    let (m, w) = mask_words(mask, offset);
    let (dw, dt) = data.as_chunks_mut::<16>();
    for d in dw.iter_mut() {
        *d = xor16(d, w);
    }
    for (i, d) in dt.iter_mut().enumerate() {
        *d ^= m[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Unmasked server frame; `ext` forces the length encoding (0 = 7-bit,
    /// 2 = 16-bit, 8 = 64-bit) or picks the minimal one if None.
    fn server_frame(fin: bool, opcode: u8, payload: &[u8], ext: Option<u8>) -> Vec<u8> {
        let len = payload.len();
        let ext = ext.unwrap_or(if len < 126 {
            0
        } else if len <= 0xFFFF {
            2
        } else {
            8
        });
        let mut v = vec![(u8::from(fin) << 7) | opcode];
        match ext {
            0 => v.push(len as u8),
            2 => {
                v.push(126);
                v.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                v.push(127);
                v.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        v.extend_from_slice(payload);
        v
    }

    #[derive(Debug, PartialEq)]
    enum Ev {
        H(FrameHeader),
        P(Vec<u8>),
        E,
        Err(Status),
    }

    /// Appends one decoder event, merging consecutive payload ranges of a
    /// frame; false after an error (the decoder stays in it).
    fn record(out: &mut Vec<Ev>, seg: &[u8], ev: Decoded) -> bool {
        match ev {
            Decoded::Header(h) => out.push(Ev::H(h)),
            Decoded::Payload { start, end } => {
                assert!(
                    start < end && end <= seg.len(),
                    "{start}..{end} of {}",
                    seg.len()
                );
                if let Some(Ev::P(p)) = out.last_mut() {
                    p.extend_from_slice(&seg[start..end]);
                } else {
                    out.push(Ev::P(seg[start..end].to_vec()));
                }
            }
            Decoded::End => out.push(Ev::E),
            Decoded::Error(c) => {
                out.push(Ev::Err(c));
                return false;
            }
        }
        true
    }

    /// Feeds the segments, merging consecutive payload ranges of a frame.
    fn decode_segments(segs: &[&[u8]]) -> Vec<Ev> {
        let mut d = Decoder::new();
        let mut out = Vec::new();
        for seg in segs {
            let mut pos = 0;
            while let Some(ev) = d.next(seg, &mut pos) {
                assert!(pos <= seg.len());
                if !record(&mut out, seg, ev) {
                    return out;
                }
            }
            assert_eq!(pos, seg.len());
        }
        out
    }

    fn decode(stream: &[u8]) -> Vec<Ev> {
        decode_segments(&[stream])
    }

    fn first_error(stream: &[u8]) -> Option<Status> {
        decode(stream)
            .into_iter()
            .find_map(|e| if let Ev::Err(c) = e { Some(c) } else { None })
    }

    fn h(fin: bool, opcode: u8, len: u64) -> Ev {
        Ev::H(FrameHeader { fin, opcode, len })
    }

    #[test]
    fn size() {
        println!("size_of::<Decoder>() = {}", core::mem::size_of::<Decoder>());
        assert!(core::mem::size_of::<Decoder>() <= 32);
    }

    #[test]
    fn lengths_7_16_64_bit() {
        for (len, ext) in [
            (0usize, 0u8),
            (1, 0),
            (125, 0),
            (126, 2),
            (300, 2),
            (65535, 2),
            (65536, 8),
            (70000, 8),
            (5, 2),
            (5, 8),
            (0, 8),
        ] {
            let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let f = server_frame(true, OP_BINARY, &payload, Some(ext));
            let mut want = vec![h(true, OP_BINARY, len as u64)];
            if len > 0 {
                want.push(Ev::P(payload.clone()));
            }
            want.push(Ev::E);
            assert_eq!(decode(&f), want, "len {len} ext {ext}");
        }
    }

    #[test]
    fn defect_64bit_length_reads_all_eight_bytes() {
        // Every one of the 8 length bytes matters.
        for byte in 1..8 {
            let mut f = vec![0x82, 127, 0, 0, 0, 0, 0, 0, 0, 0];
            f[2 + byte] = 1;
            let want = 1u64 << (8 * (7 - byte));
            match Decoder::new().next(&f, &mut 0) {
                Some(Decoded::Header(hd)) => assert_eq!(hd.len, want, "byte {byte}"),
                other => panic!("{other:?}"),
            }
        }
        let f = [0x82, 127, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08];
        assert_eq!(decode(&f), vec![h(true, 2, 0x0102030405060708)]);
        // Top bit set → too big.
        let f = [0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(first_error(&f), Some(WS_ERR_MESSAGE_TOO_BIG));
        let f = [0x82, 127, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF];
        assert_eq!(decode(&f), vec![h(true, 2, 0x7FFF_FFFF_FFFF_FFFF)]);
    }

    #[test]
    fn defect_header_not_read_before_bytes_present() {
        // Header sizes 2, 4 and 10 bytes (14 would include a mask, which a
        // server must not send: see masked_frame_rejected), fed 1 byte at a time.
        for (payload_len, ext) in [(3usize, 0u8), (200, 2), (4, 8)] {
            let payload: Vec<u8> = (0..payload_len).map(|i| i as u8).collect();
            let f = server_frame(false, OP_TEXT, &payload, Some(ext));
            let hl = f.len() - payload_len;
            let mut d = Decoder::new();
            for i in 0..hl - 1 {
                let mut pos = 0;
                assert_eq!(d.next(&f[i..i + 1], &mut pos), None, "byte {i} of {hl}");
                assert_eq!(pos, 1);
            }
            let mut pos = 0;
            assert_eq!(
                d.next(&f[hl - 1..hl], &mut pos),
                Some(Decoded::Header(FrameHeader {
                    fin: false,
                    opcode: 1,
                    len: payload_len as u64
                }))
            );
            // Then the payload, one byte per call.
            for i in hl..f.len() {
                let mut pos = 0;
                assert_eq!(
                    d.next(&f[i..i + 1], &mut pos),
                    Some(Decoded::Payload { start: 0, end: 1 })
                );
            }
            assert_eq!(d.next(&[], &mut 0), Some(Decoded::End));
            assert_eq!(d.next(&[], &mut 0), None);
        }
        // Empty input never reads anything.
        assert_eq!(Decoder::new().next(&[], &mut 0), None);
    }

    #[test]
    fn header_errors() {
        for rsv in [0x40, 0x20, 0x10] {
            assert_eq!(first_error(&[0x81 | rsv, 0]), Some(WS_ERR_RESERVED_BITS));
        }
        for op in (3..=7).chain(11..=15) {
            assert_eq!(
                first_error(&[0x80 | op, 0]),
                Some(WS_ERR_RESERVED_OPCODE),
                "op {op}"
            );
        }
        assert_eq!(
            first_error(&[0x81, 0x80, 1, 2, 3, 4]),
            Some(WS_ERR_MASKED_FRAME)
        );
        assert_eq!(
            first_error(&[0x81, 0x85, 1, 2, 3, 4, 0, 0, 0, 0, 0]),
            Some(WS_ERR_MASKED_FRAME)
        );
        for op in [OP_CLOSE, OP_PING, OP_PONG] {
            assert_eq!(
                first_error(&[op, 0]),
                Some(WS_ERR_BAD_CONTROL_FRAME),
                "unfinished control {op}"
            );
            assert_eq!(
                first_error(&[0x80 | op, 126, 0, 126]),
                Some(WS_ERR_BAD_CONTROL_FRAME)
            );
            assert_eq!(
                first_error(&[0x80 | op, 127, 0, 0, 0, 0, 0, 0, 0, 1]),
                Some(WS_ERR_BAD_CONTROL_FRAME)
            );
            let mut ok = vec![0x80 | op, 125];
            ok.extend_from_slice(&[b'x'; 125]);
            assert_eq!(first_error(&ok), None);
        }
        // Fails at the first byte that shows the error; error is sticky.
        let mut d = Decoder::new();
        let mut pos = 0;
        assert_eq!(
            d.next(&[0xC1, 0, 0x81, 0], &mut pos),
            Some(Decoded::Error(WS_ERR_RESERVED_BITS))
        );
        assert_eq!(pos, 1);
        assert_eq!(
            d.next(&[0x81, 0], &mut 0),
            Some(Decoded::Error(WS_ERR_RESERVED_BITS))
        );
        // Continuation, text, binary with FIN clear are fine for the decoder.
        assert_eq!(
            decode(&[0x01, 0, 0x00, 0, 0x80, 0]),
            vec![
                h(false, 1, 0),
                Ev::E,
                h(false, 0, 0),
                Ev::E,
                h(true, 0, 0),
                Ev::E
            ]
        );
    }

    #[test]
    fn glued_frames_in_one_buffer() {
        let mut s = server_frame(true, OP_TEXT, b"hello", None);
        s.extend(server_frame(true, OP_PING, b"", None));
        s.extend(server_frame(true, OP_BINARY, &[9; 300], None));
        assert_eq!(
            decode(&s),
            vec![
                h(true, 1, 5),
                Ev::P(b"hello".to_vec()),
                Ev::E,
                h(true, 9, 0),
                Ev::E,
                h(true, 2, 300),
                Ev::P(vec![9; 300]),
                Ev::E,
            ]
        );
    }

    #[test]
    fn short_header_is_write_header_for_7_bit_lengths() {
        for len in 0..=125u8 {
            for (fin, op) in [(true, 1), (false, 2), (true, 9), (true, 0x1A)] {
                let mut a = [0u8; 14];
                let mut b = [0u8; SHORT_HEADER];
                let n = write_header(&mut a, fin, op, usize::from(len), [1, 2, 3, 4]);
                write_short_header(&mut b, fin, op, len, [1, 2, 3, 4]);
                assert_eq!(n, SHORT_HEADER);
                assert_eq!(&a[..n], &b[..]);
            }
        }
    }

    #[test]
    fn write_header_layout() {
        let m = [1, 2, 3, 4];
        let mut out = [0u8; 14];
        assert_eq!(write_header(&mut out, true, OP_TEXT, 5, m), 6);
        assert_eq!(&out[..6], &[0x81, 0x85, 1, 2, 3, 4]);
        assert_eq!(write_header(&mut out, false, OP_BINARY, 126, m), 8);
        assert_eq!(&out[..8], &[0x02, 0xFE, 0, 126, 1, 2, 3, 4]);
        assert_eq!(write_header(&mut out, true, OP_BINARY, 65535, m), 8);
        assert_eq!(&out[..8], &[0x82, 0xFE, 0xFF, 0xFF, 1, 2, 3, 4]);
        assert_eq!(write_header(&mut out, true, OP_CLOSE, 65536, m), 14);
        assert_eq!(out, [0x88, 0xFF, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4]);
        assert_eq!(write_header(&mut out[..13], true, OP_CLOSE, 65536, m), 0);
        assert_eq!(write_header(&mut out[..5], true, OP_CLOSE, 0, m), 0);
        for n in [0, 125, 126, 65535, 65536, usize::MAX] {
            let mut o = [0u8; 14];
            assert_eq!(write_header(&mut o, true, 1, n, m), header_len(n));
        }
        assert_eq!(
            (
                header_len(0),
                header_len(125),
                header_len(126),
                header_len(65535),
                header_len(65536)
            ),
            (6, 6, 8, 8, 14)
        );
    }

    fn naive_mask(src: &[u8], mask: [u8; 4], offset: usize) -> Vec<u8> {
        src.iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[(offset + i) % 4])
            .collect()
    }

    #[test]
    fn mask_rfc_example() {
        // RFC 6455 5.7: "Hello" masked with 37 fa 21 3d.
        let mut out = [0u8; 5];
        mask_into(&mut out, b"Hello", [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(out, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
        mask_in_place(&mut out, [0x37, 0xfa, 0x21, 0x3d], 0);
        assert_eq!(&out, b"Hello");
        // Length mismatch: untouched.
        let mut out = [0u8; 4];
        mask_into(&mut out, b"Hello", [1, 2, 3, 4], 0);
        assert_eq!(out, [0; 4]);
    }

    #[test]
    fn defect_mask_applied_once() {
        let src: Vec<u8> = (0..1000u32).map(|i| (i * 31 + 7) as u8).collect();
        let mask = [0xA5, 0x5A, 0x0F, 0xF0];
        let whole = naive_mask(&src, mask, 0);
        for split in [0, 1, 2, 3, 5, 8, 9, 17, 500, 999, 1000] {
            for split2 in [split, (split + 13).min(1000), 1000] {
                let mut dst = vec![0u8; 1000];
                mask_into(&mut dst[..split], &src[..split], mask, 0);
                mask_into(&mut dst[split..split2], &src[split..split2], mask, split);
                mask_into(&mut dst[split2..], &src[split2..], mask, split2);
                assert_eq!(dst, whole, "into split {split}/{split2}");
                let mut buf = src.clone();
                mask_in_place(&mut buf[..split], mask, 0);
                mask_in_place(&mut buf[split..split2], mask, split);
                mask_in_place(&mut buf[split2..], mask, split2);
                assert_eq!(buf, whole, "in place split {split}/{split2}");
            }
        }
        // Decoding the same stream twice gives the same payloads (the decoder
        // never modifies or re-unmasks its input).
        let mut s = server_frame(true, OP_BINARY, &src, None);
        s.extend(server_frame(true, OP_TEXT, b"abc", None));
        let copy = s.clone();
        let a = decode_segments(&[&s[..7], &s[7..]]);
        let b = decode_segments(&[&s[..7], &s[7..]]);
        assert_eq!(a, b);
        assert_eq!(s, copy);
        assert_eq!(a[1], Ev::P(src));
    }

    /// One frame of a valid stream: (fin, opcode, payload, length encoding).
    fn frame_strategy() -> impl Strategy<Value = (bool, u8, Vec<u8>, Option<u8>)> {
        prop_oneof![
            (
                any::<bool>(),
                prop_oneof![Just(0u8), Just(1), Just(2)],
                proptest::collection::vec(any::<u8>(), 0..300),
                prop_oneof![Just(None), Just(Some(2u8)), Just(Some(8u8))]
            )
                .prop_map(|(f, o, p, e)| (f, o, p, e)),
            (
                prop_oneof![Just(8u8), Just(9), Just(10)],
                proptest::collection::vec(any::<u8>(), 0..=125)
            )
                .prop_map(|(o, p)| (true, o, p, None)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn any_segmentation_same_result(
            frames in proptest::collection::vec(frame_strategy(), 1..6),
            cuts in proptest::collection::vec(any::<usize>(), 0..12),
        ) {
            let mut stream = Vec::new();
            let mut want = Vec::new();
            for (fin, op, p, ext) in &frames {
                stream.extend(server_frame(*fin, *op, p, *ext));
                want.push(h(*fin, *op, p.len() as u64));
                if !p.is_empty() {
                    want.push(Ev::P(p.clone()));
                }
                want.push(Ev::E);
            }
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (stream.len() + 1)).collect();
            cuts.push(0);
            cuts.push(stream.len());
            cuts.sort_unstable();
            let segs: Vec<&[u8]> = cuts.windows(2).map(|w| &stream[w[0]..w[1]]).collect();
            prop_assert_eq!(decode_segments(&segs), want);
        }

        /// `parse_header` (whole headers, the client's fast path) and the
        /// streaming decoder agree on every byte string.
        #[test]
        fn parse_header_agrees_with_the_decoder(
            bytes in proptest::collection::vec(any::<u8>(), 0..12),
        ) {
            let mut d = Decoder::new();
            let mut pos = 0;
            let streamed = match d.next(&bytes, &mut pos) {
                Some(Decoded::Header(h)) => Some(Ok((h, pos))),
                Some(Decoded::Error(e)) => Some(Err(e)),
                None => None,
                Some(_) => unreachable!("a header or an error comes first"),
            };
            prop_assert_eq!(parse_header(&bytes), streamed);
        }

        /// `header_span` (skipping after a protocol error) measures every
        /// header `parse_header` accepts the same way, masked or not, and
        /// never reads past `data`.
        #[test]
        fn header_span_agrees_with_parse_header(
            bytes in proptest::collection::vec(any::<u8>(), 0..16),
        ) {
            if let Some(Ok((h, n))) = parse_header(&bytes) {
                prop_assert_eq!(header_span(&bytes), Some((h.opcode, n, h.len)));
            }
            let mut masked = bytes.clone();
            if let Some(b1) = masked.get_mut(1) {
                *b1 |= 0x80;
            }
            if let Some((_, n, _)) = header_span(&masked) {
                prop_assert!(n <= masked.len());
                let plain = masked[1] & 0x7F;
                let want = 6 + match plain { 126 => 2, 127 => 8, _ => 0 };
                prop_assert_eq!(n, want);
            }
        }

        #[test]
        fn arbitrary_bytes_never_panic(
            segs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..8),
        ) {
            // decode_segments asserts every Payload range lies inside its segment.
            let segs: Vec<&[u8]> = segs.iter().map(|s| s.as_slice()).collect();
            let _ = decode_segments(&segs);
        }

        #[test]
        fn whole_headers_decode_as_byte_by_byte(
            frames in proptest::collection::vec(frame_strategy(), 0..4),
            junk in proptest::collection::vec(any::<u8>(), 0..24),
        ) {
            // Valid frames then arbitrary bytes (often an invalid header):
            // one buffer and byte-at-a-time input must agree on every
            // event, the error and where it is detected.
            let mut stream = Vec::new();
            for (fin, op, p, ext) in &frames {
                stream.extend(server_frame(*fin, *op, p, *ext));
            }
            stream.extend(&junk);
            let bytes: Vec<&[u8]> = stream.chunks(1).collect();
            prop_assert_eq!(decode(&stream), decode_segments(&bytes));
            let mut d = Decoder::new();
            let mut pos = 0;
            let mut last = None;
            while let Some(ev) = d.next(&stream, &mut pos) {
                last = Some(ev);
                if let Decoded::Error(_) = ev { break; }
            }
            let mut d = Decoder::new();
            let mut at = 0;
            let mut last_b = None;
            'outer: for i in 0..stream.len() {
                let mut p = 0;
                while let Some(ev) = d.next(&stream[i..=i], &mut p) {
                    last_b = Some(ev);
                    if let Decoded::Error(_) = ev { at = i + p; break 'outer; }
                }
                at = i + 1;
            }
            if let Some(Decoded::Error(_)) = last {
                prop_assert_eq!(last, last_b);
                prop_assert_eq!(pos, at, "error detected at the same byte");
            }
        }

        #[test]
        fn pos_beyond_data_is_harmless(data in proptest::collection::vec(any::<u8>(), 0..20), pos in 0usize..40) {
            let mut d = Decoder::new();
            let mut p = pos;
            while let Some(ev) = d.next(&data, &mut p) {
                if let Decoded::Payload { start, end } = ev {
                    prop_assert!(start < end && end <= data.len());
                }
                if let Decoded::Error(_) = ev { break; }
            }
        }

        #[test]
        fn mask_matches_naive(src in proptest::collection::vec(any::<u8>(), 0..300), mask in any::<[u8; 4]>(), off in any::<usize>()) {
            let want = naive_mask(&src, mask, off);
            let mut dst = vec![0u8; src.len()];
            mask_into(&mut dst, &src, mask, off);
            prop_assert_eq!(&dst, &want);
            let mut buf = src.clone();
            mask_in_place(&mut buf, mask, off);
            prop_assert_eq!(&buf, &want);
        }
    }
}
