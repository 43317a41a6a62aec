//! Helpers shared by the fuzz targets: the input framing used by every target
//! (fuzzer-chosen split points), and simple, non-streaming reference decoders
//! written straight from RFC 6455 and docs/contract.md, against which the streaming
//! code in the main crate is compared.

use websocket::status::Status;

/// Upper bound on the split points taken from one input.
pub const MAX_CUTS: usize = 15;

/// Splits a fuzz input into (cut points, body).
///
/// Layout: byte 0 low nibble = number of cut points `n`, then `n` u16
/// little-endian cut positions (taken modulo `body.len() + 1`), then the body.
/// Inputs too short for their declared cut points have no cuts and the whole
/// remainder is the body.  The cut points are returned sorted, deduplicated
/// and strictly inside the body.
pub fn split_input(data: &[u8]) -> (Vec<usize>, &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return (Vec::new(), data);
    };
    let n = usize::from(first & 0x0f).min(MAX_CUTS);
    if rest.len() < 2 * n {
        return (Vec::new(), rest);
    }
    let (cut_bytes, body) = rest.split_at(2 * n);
    let mut cuts: Vec<usize> = cut_bytes
        .chunks_exact(2)
        .map(|c| usize::from(u16::from_le_bytes([c[0], c[1]])) % (body.len() + 1))
        .filter(|&c| c > 0 && c < body.len())
        .collect();
    cuts.sort_unstable();
    cuts.dedup();
    (cuts, body)
}

/// The segments of `body` between the cut points (never empty unless the body is).
pub fn segments<'a>(body: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for &c in cuts {
        out.push(&body[start..c]);
        start = c;
    }
    out.push(&body[start..]);
    out
}

/// Encodes cut points and a body in the layout `split_input` reads (used by the
/// corpus generator's Rust twin in the tests below).
pub fn join_input(cuts: &[u16], body: &[u8]) -> Vec<u8> {
    let mut v = vec![cuts.len().min(MAX_CUTS) as u8];
    for c in cuts.iter().take(MAX_CUTS) {
        v.extend_from_slice(&c.to_le_bytes());
    }
    v.extend_from_slice(body);
    v
}

// ---------------------------------------------------------------------------
// Frame level reference
// ---------------------------------------------------------------------------

/// One frame header as read by the reference decoder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefHeader {
    pub fin: bool,
    /// RSV1..RSV3 as the three bits 0b100, 0b010, 0b001.
    pub rsv: u8,
    pub opcode: u8,
    pub mask: Option<[u8; 4]>,
    pub len: u64,
    /// Bytes the header occupies (2..=14).
    pub header_len: usize,
}

/// Reads one frame header at the start of `buf`; `None` if `buf` is shorter
/// than the header.  No validation: every bit pattern is a header.
pub fn ref_header(buf: &[u8]) -> Option<RefHeader> {
    if buf.len() < 2 {
        return None;
    }
    let b0 = buf[0];
    let b1 = buf[1];
    let masked = b1 & 0x80 != 0;
    let (len, mut n) = match b1 & 0x7f {
        126 => {
            if buf.len() < 4 {
                return None;
            }
            (u64::from(u16::from_be_bytes([buf[2], buf[3]])), 4)
        }
        127 => {
            if buf.len() < 10 {
                return None;
            }
            let mut b = [0u8; 8];
            b.copy_from_slice(&buf[2..10]);
            (u64::from_be_bytes(b), 10)
        }
        l => (u64::from(l), 2),
    };
    let mask = if masked {
        if buf.len() < n + 4 {
            return None;
        }
        let m = [buf[n], buf[n + 1], buf[n + 2], buf[n + 3]];
        n += 4;
        Some(m)
    } else {
        None
    };
    Some(RefHeader {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x07,
        opcode: b0 & 0x0f,
        mask,
        len,
        header_len: n,
    })
}

/// A whole frame found by `ref_frames`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefFrame {
    pub header: RefHeader,
    /// Offset of the first payload byte in the buffer.
    pub start: usize,
    /// The payload bytes exactly as they are on the wire (still masked).
    pub raw: Vec<u8>,
}

/// How `ref_frames` stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefTail {
    /// The buffer ends exactly at a frame boundary.
    Clean,
    /// The buffer ends inside a frame header (this many bytes of it present).
    InHeader(usize),
    /// The buffer ends inside a payload: header and the bytes present.
    InPayload(RefHeader, Vec<u8>),
}

/// Splits a whole buffer into frames, with no validation at all.
pub fn ref_frames(buf: &[u8]) -> (Vec<RefFrame>, RefTail) {
    let mut pos = 0;
    let mut frames = Vec::new();
    loop {
        if pos == buf.len() {
            return (frames, RefTail::Clean);
        }
        let Some(h) = ref_header(&buf[pos..]) else {
            return (frames, RefTail::InHeader(buf.len() - pos));
        };
        let start = pos + h.header_len;
        let avail = (buf.len() - start) as u64;
        if h.len > avail {
            return (frames, RefTail::InPayload(h, buf[start..].to_vec()));
        }
        let end = start + h.len as usize;
        frames.push(RefFrame {
            header: h,
            start,
            raw: buf[start..end].to_vec(),
        });
        pos = end;
    }
}

/// XOR with a 4-byte mask, `offset` bytes into the payload.
pub fn unmask(data: &mut [u8], mask: [u8; 4], offset: usize) {
    for (i, b) in data.iter_mut().enumerate() {
        *b ^= mask[(offset + i) % 4];
    }
}

/// Encodes one frame (the reference encoder used by the tests and the corpus).
pub fn encode_frame(fin: bool, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![(if fin { 0x80 } else { 0 }) | (opcode & 0x0f)];
    let m = if mask.is_some() { 0x80 } else { 0 };
    let len = payload.len();
    if len < 126 {
        v.push(m | len as u8);
    } else if len <= 0xffff {
        v.push(m | 126);
        v.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        v.push(m | 127);
        v.extend_from_slice(&(len as u64).to_be_bytes());
    }
    if let Some(k) = mask {
        v.extend_from_slice(&k);
    }
    let p0 = v.len();
    v.extend_from_slice(payload);
    if let Some(k) = mask {
        unmask(&mut v[p0..], k, 0);
    }
    v
}

// ---------------------------------------------------------------------------
// Message level reference (what a client following docs/contract.md must deliver)
// ---------------------------------------------------------------------------

/// What the peer's byte stream means to a conforming client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefEvent {
    /// A complete text (1) or binary (2) message.
    Message(u8, Vec<u8>),
    /// A ping with its payload (the client must answer with a pong).
    Ping(Vec<u8>),
    /// A pong.
    Pong(Vec<u8>),
    /// A valid close frame: code (if any) and reason.
    Close(Option<u16>, Vec<u8>),
}

/// How the stream ends for the reference client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefEnd {
    /// All data used; the stream stops at a frame boundary outside a message.
    Idle,
    /// All data used; the stream stops inside a frame or a fragmented message.
    Partial,
    /// A close frame was read; later bytes are not looked at.
    Closed,
    /// A protocol violation: the status docs/contract.md / the header assigns, and the
    /// close code the client must send (1002, 1007 or 1009).
    Violation(Status, u16),
}

/// Close codes a client accepts in a close frame (RFC 6455 7.4, IANA registry).
pub fn close_code_valid(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999)
}

/// True if `b` could still become valid UTF-8 by appending bytes.
pub fn utf8_valid_prefix(b: &[u8]) -> bool {
    match std::str::from_utf8(b) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

/// Decodes a whole server-to-client stream per docs/contract.md with `max_message` as
/// the message size limit.  Returns the events in order and how it ended.
pub fn ref_messages(buf: &[u8], max_message: u64) -> (Vec<RefEvent>, RefEnd) {
    let (events, end, _) = ref_decode(buf, max_message);
    (events, end)
}

/// `ref_messages` plus the message still in progress where the stream
/// stopped (its opcode and the payload bytes present, including a byte that
/// broke UTF-8), `None` if it stopped outside a message.
pub fn ref_decode(buf: &[u8], max_message: u64) -> (Vec<RefEvent>, RefEnd, Option<(u8, Vec<u8>)>) {
    let mut msg: Option<(u8, Vec<u8>)> = None;
    let (events, end) = ref_decode_into(buf, max_message, &mut msg);
    (events, end, msg)
}

fn ref_decode_into(
    buf: &[u8],
    max_message: u64,
    msg: &mut Option<(u8, Vec<u8>)>,
) -> (Vec<RefEvent>, RefEnd) {
    let mut events = Vec::new();
    // `msg`: (opcode, bytes) of the message being assembled
    let mut pos = 0usize;
    loop {
        if pos == buf.len() {
            let end = if msg.is_some() {
                RefEnd::Partial
            } else {
                RefEnd::Idle
            };
            return (events, end);
        }
        // Checks in the order the bytes arrive: byte 0 (RSV, opcode), byte 1
        // (mask, control frame length and FIN), then the extended length.
        let b0 = buf[pos];
        let op = b0 & 0x0f;
        let control = op >= 8;
        if b0 & 0x70 != 0 {
            return (
                events,
                RefEnd::Violation(websocket::status::WS_ERR_RESERVED_BITS, 1002),
            );
        }
        if !matches!(op, 0 | 1 | 2 | 8 | 9 | 10) {
            return (
                events,
                RefEnd::Violation(websocket::status::WS_ERR_RESERVED_OPCODE, 1002),
            );
        }
        let Some(&b1) = buf.get(pos + 1) else {
            return (events, RefEnd::Partial);
        };
        if b1 & 0x80 != 0 {
            return (
                events,
                RefEnd::Violation(websocket::status::WS_ERR_MASKED_FRAME, 1002),
            );
        }
        if control && (b1 & 0x7f > 125 || b0 & 0x80 == 0) {
            return (
                events,
                RefEnd::Violation(websocket::status::WS_ERR_BAD_CONTROL_FRAME, 1002),
            );
        }
        let Some(h) = ref_header(&buf[pos..]) else {
            return (events, RefEnd::Partial);
        };
        if h.len >> 63 != 0 {
            return (
                events,
                RefEnd::Violation(websocket::status::WS_ERR_MESSAGE_TOO_BIG, 1009),
            );
        }
        if op == 0 && msg.is_none() || (op == 1 || op == 2) && msg.is_some() {
            return (
                events,
                RefEnd::Violation(websocket::status::WS_ERR_FRAGMENTATION, 1002),
            );
        }
        if !control {
            let have = msg.as_ref().map_or(0, |m| m.1.len() as u64);
            if h.len > max_message || have + h.len > max_message {
                return (
                    events,
                    RefEnd::Violation(websocket::status::WS_ERR_MESSAGE_TOO_BIG, 1009),
                );
            }
        }
        let start = pos + h.header_len;
        let avail = buf.len() - start;
        let complete = h.len <= avail as u64;
        let take = if complete { h.len as usize } else { avail };
        let payload = &buf[start..start + take];
        if !control {
            let m = msg.get_or_insert_with(|| (op, Vec::new()));
            m.1.extend_from_slice(payload);
            if m.0 == 1 {
                let ok = if complete && h.fin {
                    std::str::from_utf8(&m.1).is_ok()
                } else {
                    utf8_valid_prefix(&m.1)
                };
                if !ok {
                    return (
                        events,
                        RefEnd::Violation(websocket::status::WS_ERR_INVALID_UTF8, 1007),
                    );
                }
            }
            if !complete {
                return (events, RefEnd::Partial);
            }
            if h.fin {
                let (o, d) = msg.take().unwrap_or((op, Vec::new()));
                events.push(RefEvent::Message(o, d));
            }
        } else {
            if !complete {
                return (events, RefEnd::Partial);
            }
            match op {
                9 => events.push(RefEvent::Ping(payload.to_vec())),
                10 => events.push(RefEvent::Pong(payload.to_vec())),
                _ => {
                    if payload.is_empty() {
                        events.push(RefEvent::Close(None, Vec::new()));
                    } else if payload.len() == 1 {
                        return (
                            events,
                            RefEnd::Violation(websocket::status::WS_ERR_BAD_CLOSE_PAYLOAD, 1002),
                        );
                    } else {
                        let code = u16::from_be_bytes([payload[0], payload[1]]);
                        let reason = &payload[2..];
                        if !close_code_valid(code) {
                            let v = RefEnd::Violation(
                                websocket::status::WS_ERR_BAD_CLOSE_PAYLOAD,
                                1002,
                            );
                            return (events, v);
                        }
                        if std::str::from_utf8(reason).is_err() {
                            let v = RefEnd::Violation(
                                websocket::status::WS_ERR_BAD_CLOSE_PAYLOAD,
                                1007,
                            );
                            return (events, v);
                        }
                        events.push(RefEvent::Close(Some(code), reason.to_vec()));
                    }
                    return (events, RefEnd::Closed);
                }
            }
        }
        pos = start + take;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_roundtrip() {
        let input = join_input(&[3, 1, 3, 6, 0], b"abcdef");
        let (cuts, body) = split_input(&input);
        assert_eq!(body, b"abcdef");
        assert_eq!(cuts, vec![1, 3]);
        assert_eq!(segments(body, &cuts), vec![&b"a"[..], b"bc", b"def"]);
    }

    #[test]
    fn header_lengths() {
        for len in [0usize, 125, 126, 65535, 65536] {
            let f = encode_frame(true, 2, None, &vec![7u8; len]);
            let (frames, tail) = ref_frames(&f);
            assert_eq!(tail, RefTail::Clean);
            assert_eq!(frames.len(), 1);
            assert_eq!(frames[0].raw.len(), len);
        }
        let f = encode_frame(true, 1, Some([1, 2, 3, 4]), b"hello");
        let (frames, _) = ref_frames(&f);
        let mut p = frames[0].raw.clone();
        unmask(&mut p, frames[0].header.mask.unwrap(), 0);
        assert_eq!(p, b"hello");
    }

    #[test]
    fn messages() {
        let mut s = encode_frame(false, 1, None, b"he");
        s.extend(encode_frame(true, 9, None, b"p"));
        s.extend(encode_frame(true, 0, None, b"llo"));
        s.extend(encode_frame(true, 8, None, &[0x03, 0xe8]));
        s.extend(encode_frame(true, 1, None, b"ignored"));
        let (ev, end) = ref_messages(&s, 1 << 20);
        assert_eq!(
            ev,
            vec![
                RefEvent::Ping(b"p".to_vec()),
                RefEvent::Message(1, b"hello".to_vec()),
                RefEvent::Close(Some(1000), Vec::new())
            ]
        );
        assert_eq!(end, RefEnd::Closed);
        let bad = encode_frame(true, 1, None, &[0xff]);
        assert_eq!(
            ref_messages(&bad, 100).1,
            RefEnd::Violation(websocket::status::WS_ERR_INVALID_UTF8, 1007)
        );
        let cont = encode_frame(true, 0, None, b"x");
        assert_eq!(
            ref_messages(&cont, 100).1,
            RefEnd::Violation(websocket::status::WS_ERR_FRAGMENTATION, 1002)
        );
        let big = encode_frame(true, 2, None, &[0u8; 101]);
        assert_eq!(
            ref_messages(&big, 100).1,
            RefEnd::Violation(websocket::status::WS_ERR_MESSAGE_TOO_BIG, 1009)
        );
        let partial = &encode_frame(true, 2, None, b"abc")[..3];
        assert_eq!(ref_messages(partial, 100), (vec![], RefEnd::Partial));
    }
}

// ---------------------------------------------------------------------------
// URL reference
// ---------------------------------------------------------------------------

/// Parsed URL as plain owned values: (secure, host, port, path).
pub type RefUrl = (bool, Vec<u8>, u16, Vec<u8>);

/// Reference URL parser written from the grammar documented in `src/url.rs`
/// and the status codes of docs/contract.md#url, in the most direct way possible.
pub fn ref_url(input: &[u8]) -> Result<RefUrl, Status> {
    use websocket::status::{
        WS_ERR_BAD_PORT, WS_ERR_BAD_SCHEME, WS_ERR_HOST_TOO_LONG, WS_ERR_NO_HOST,
    };
    let lower: Vec<u8> = input.iter().map(|b| b.to_ascii_lowercase()).collect();
    let (secure, skip) = if lower.starts_with(b"ws://") {
        (false, 5)
    } else if lower.starts_with(b"wss://") {
        (true, 6)
    } else {
        return Err(WS_ERR_BAD_SCHEME);
    };
    let mut rest = &input[skip..];
    // `user:password@`: everything up to the last @ before the path (its
    // content is checked by the request writer, not here).
    let authority = rest
        .iter()
        .position(|b| b"/?#".contains(b))
        .unwrap_or(rest.len());
    if let Some(at) = rest[..authority].iter().rposition(|&b| b == b'@') {
        rest = &rest[at + 1..];
    }
    let bad = |b: u8| b <= b' ' || b == 0x7f;
    let delim = |b: &u8| b":/?#".contains(b);
    let host_len = rest.iter().position(delim).unwrap_or(rest.len());
    let host = &rest[..host_len];
    if host.len() >= 256 {
        return Err(WS_ERR_HOST_TOO_LONG);
    }
    if host.is_empty() || host.iter().any(|&b| b == b'[' || bad(b)) {
        return Err(WS_ERR_NO_HOST);
    }
    let mut rest = &rest[host_len..];
    let mut port = if secure { 443 } else { 80 };
    if rest.first() == Some(&b':') {
        let after = &rest[1..];
        let n = after
            .iter()
            .position(|b| b"/?#".contains(b))
            .unwrap_or(after.len());
        let digits = &after[..n];
        if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
            return Err(WS_ERR_BAD_PORT);
        }
        // Leading zeros are allowed; compare the value without overflow.
        let significant: Vec<u8> = digits.iter().copied().skip_while(|&d| d == b'0').collect();
        if significant.len() > 5 {
            return Err(WS_ERR_BAD_PORT);
        }
        let v: u32 = significant
            .iter()
            .fold(0, |a, &d| a * 10 + u32::from(d - b'0'));
        if v == 0 || v > 65535 {
            return Err(WS_ERR_BAD_PORT);
        }
        port = v as u16;
        rest = &after[n..];
    }
    let path_len = rest.iter().position(|&b| b == b'#').unwrap_or(rest.len());
    let path = &rest[..path_len];
    if path.iter().any(|&b| bad(b)) {
        return Err(WS_ERR_BAD_SCHEME);
    }
    Ok((secure, host.to_vec(), port, path.to_vec()))
}

// ---------------------------------------------------------------------------
// Handshake response reference
// ---------------------------------------------------------------------------

/// Outcome of the reference response parser over a whole buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefResponse {
    /// The buffer ends before the header block does.
    NeedMore,
    /// A valid 101 response of this many bytes, and its trimmed protocol value.
    Done(usize, Vec<u8>),
    /// Failed with this status (docs/contract.md#response and the header's -27).
    Failed(Status),
}

fn trim_ws(v: &[u8]) -> &[u8] {
    let ws = |b: &u8| *b == b' ' || *b == b'\t';
    let s = v.iter().position(|b| !ws(b)).unwrap_or(v.len());
    let e = v.iter().rposition(|b| !ws(b)).map_or(s, |e| e + 1);
    &v[s..e]
}

/// Reference for `handshake::ResponseParser`, written line by line from its
/// documented rules: status line `HTTP/1.1 101` then SP or line end (else -17
/// at the first wrong byte); lines end in LF or CRLF, a CR not followed by LF,
/// a NUL after the status code, a header line starting with SP/HT/':' or without
/// ':' -> -27 at the offending byte; a `Sec-WebSocket-Protocol` value over 64
/// bytes -> -27 at its 65th non-blank-trailing byte; more than `MAX_RESPONSE`
/// bytes -> -27; at the blank line the header rules (Upgrade, Connection
/// token, one correct Accept, no Extensions, at most one Protocol) else -7.
pub fn ref_response(d: &[u8], accept: &[u8; 28]) -> RefResponse {
    use websocket::status::{WS_ERR_BAD_ACCEPT, WS_ERR_BAD_HANDSHAKE, WS_ERR_NOT_SWITCHING};
    const MAX: usize = 8192;
    let lim = d.len().min(MAX);
    // Running out of bytes the parser may look at.
    let out = || {
        if d.len() > MAX {
            RefResponse::Failed(WS_ERR_BAD_HANDSHAKE)
        } else {
            RefResponse::NeedMore
        }
    };
    // `HTTP/1.1 `, three digits (any status code: it is reported), then
    // the code must be 101.
    let prefix = b"HTTP/1.1 ";
    for i in 0..12 {
        if i >= lim {
            return out();
        }
        let ok = match prefix.get(i) {
            Some(&want) => d[i] == want,
            None => d[i].is_ascii_digit(),
        };
        if !ok {
            return RefResponse::Failed(WS_ERR_NOT_SWITCHING);
        }
    }
    if lim <= 12 {
        return out();
    }
    if !matches!(d[12], b' ' | b'\r' | b'\n') || &d[9..12] != b"101" {
        return RefResponse::Failed(WS_ERR_NOT_SWITCHING);
    }
    // Reads a line body from `p` up to and including its end; Ok((body_end,
    // next_line)).  `extra_check(index_in_body, byte)` may fail a byte.
    let read_rest = |p: usize,
                     check: &mut dyn FnMut(usize, u8) -> bool|
     -> Result<(usize, usize), RefResponse> {
        let mut i = p;
        while i < lim {
            match d[i] {
                0 => return Err(RefResponse::Failed(WS_ERR_BAD_HANDSHAKE)),
                b'\n' => return Ok((i, i + 1)),
                b'\r' => {
                    if i + 1 >= lim {
                        return Err(out());
                    }
                    if d[i + 1] != b'\n' {
                        return Err(RefResponse::Failed(WS_ERR_BAD_HANDSHAKE));
                    }
                    return Ok((i, i + 2));
                }
                b => {
                    if !check(i - p, b) {
                        return Err(RefResponse::Failed(WS_ERR_BAD_HANDSHAKE));
                    }
                }
            }
            i += 1;
        }
        Err(out())
    };
    // Rest of the status line (byte 12 included: SP, CR or LF).
    let mut pos = match read_rest(12, &mut |_, _| true) {
        Ok((_, next)) => next,
        Err(r) => return r,
    };
    let mut headers: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    loop {
        if pos >= lim {
            return out();
        }
        match d[pos] {
            b'\n' => {
                pos += 1;
                break;
            }
            b'\r' => {
                if pos + 1 >= lim {
                    return out();
                }
                if d[pos + 1] != b'\n' {
                    return RefResponse::Failed(WS_ERR_BAD_HANDSHAKE);
                }
                pos += 2;
                break;
            }
            b' ' | b'\t' | b':' => return RefResponse::Failed(WS_ERR_BAD_HANDSHAKE),
            _ => {}
        }
        // Header name up to ':'.
        let name_start = pos;
        loop {
            if pos >= lim {
                return out();
            }
            match d[pos] {
                b':' => break,
                b'\r' | b'\n' | 0 => return RefResponse::Failed(WS_ERR_BAD_HANDSHAKE),
                _ => pos += 1,
            }
        }
        let name = d[name_start..pos].to_ascii_lowercase();
        pos += 1;
        // Value: leading blanks skipped; a protocol value may hold 64 bytes
        // (then only blanks).
        let is_proto = name == b"sec-websocket-protocol";
        let mut lead = true;
        let mut kept = 0usize;
        let mut check = |_: usize, b: u8| {
            let ws = b == b' ' || b == b'\t';
            if lead && ws {
                return true;
            }
            lead = false;
            if !is_proto {
                return true;
            }
            if kept < 64 {
                kept += 1;
                true
            } else {
                ws
            }
        };
        let (end, next) = match read_rest(pos, &mut check) {
            Ok(x) => x,
            Err(r) => return r,
        };
        headers.push((name, trim_ws(&d[pos..end]).to_vec()));
        pos = next;
    }
    let values = |n: &[u8]| -> Vec<&Vec<u8>> {
        headers
            .iter()
            .filter(|(k, _)| k == n)
            .map(|(_, v)| v)
            .collect()
    };
    let upgrade = values(b"upgrade");
    let connection = values(b"connection");
    let acc = values(b"sec-websocket-accept");
    let proto = values(b"sec-websocket-protocol");
    let ok = !upgrade.is_empty()
        && upgrade.iter().all(|v| v.eq_ignore_ascii_case(b"websocket"))
        && connection.iter().any(|v| {
            v.split(|&b| b == b',')
                .any(|t| trim_ws(t).eq_ignore_ascii_case(b"upgrade"))
        })
        && acc.len() == 1
        && acc[0].as_slice() == accept
        && values(b"sec-websocket-extensions").is_empty()
        && proto.len() <= 1;
    if ok {
        RefResponse::Done(pos, proto.first().map_or(Vec::new(), |v| v.to_vec()))
    } else {
        RefResponse::Failed(WS_ERR_BAD_ACCEPT)
    }
}

// ---------------------------------------------------------------------------
// Handshake request reference
// ---------------------------------------------------------------------------

/// The opening handshake request docs/contract.md#request prescribes, built directly:
/// request line, `Host`, the mandatory four, the extra headers, then the
/// defaults `User-Agent` and `Sec-WebSocket-Protocol` (`protocols`, `None` =
/// "chat", empty = no header), leaving out any name (case-insensitive) seen
/// earlier.  `Err(BAD_HEADER)` if an extra header (empty name, name byte
/// outside 0x21..0x7e or ':', value with CR/LF/NUL) or the protocol list
/// (CR/LF/NUL) cannot be sent.
pub fn ref_request(
    path: &[u8],
    host: &[u8],
    port: u16,
    key: &[u8],
    extra: &[(&[u8], &[u8])],
    protocols: Option<&[u8]>,
) -> Result<Vec<u8>, Status> {
    ref_request_auth(b"", path, host, port, key, extra, protocols)
}

/// The URL's `userinfo` percent-decoded (RFC 3986), as Basic
/// authentication encodes it; `None` for a `%` without two hex digits, a
/// space, control byte or DEL, or more than 96 bytes decoded.
pub fn ref_credentials(userinfo: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < userinfo.len() {
        let b = userinfo[i];
        if b == b'%' {
            let hex = userinfo.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            if !text.bytes().all(|c| c.is_ascii_hexdigit()) {
                return None;
            }
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else if b <= b' ' || b == 0x7f {
            return None;
        } else {
            out.push(b);
            i += 1;
        }
    }
    (out.len() <= 96).then_some(out)
}

/// [`ref_request`] for a URL with a `userinfo`: `Authorization: Basic
/// <base64 of the decoded userinfo>` after the extra headers (unless one of
/// them is named so), `Err(NO_HOST)` for a userinfo `ref_credentials`
/// refuses (after the header checks).
pub fn ref_request_auth(
    userinfo: &[u8],
    path: &[u8],
    host: &[u8],
    port: u16,
    key: &[u8],
    extra: &[(&[u8], &[u8])],
    protocols: Option<&[u8]>,
) -> Result<Vec<u8>, Status> {
    use base64::Engine as _;
    let bad_value = |v: &[u8]| v.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0);
    let valid = |(n, v): &(&[u8], &[u8])| {
        !n.is_empty() && n.iter().all(|&b| (0x21..0x7f).contains(&b) && b != b':') && !bad_value(v)
    };
    let proto = protocols.unwrap_or(b"chat");
    if !extra.iter().all(valid) || bad_value(proto) {
        return Err(websocket::status::WS_ERR_BAD_HEADER);
    }
    let creds = ref_credentials(userinfo).ok_or(websocket::status::WS_ERR_NO_HOST)?;
    let mut r = b"GET ".to_vec();
    if !path.starts_with(b"/") {
        r.push(b'/');
    }
    r.extend_from_slice(path);
    r.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    r.extend_from_slice(host);
    r.extend_from_slice(format!(":{port}\r\n").as_bytes());
    // Host is written above; it still counts as an earlier name.
    let mut seen: Vec<Vec<u8>> = vec![b"host".to_vec()];
    let mut line = |r: &mut Vec<u8>, name: &[u8], value: &[u8]| {
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return;
        }
        seen.push(lower);
        r.extend_from_slice(name);
        r.extend_from_slice(b": ");
        r.extend_from_slice(value);
        r.extend_from_slice(b"\r\n");
    };
    line(&mut r, b"Upgrade", b"websocket");
    line(&mut r, b"Connection", b"Upgrade");
    line(&mut r, b"Sec-WebSocket-Key", key);
    line(&mut r, b"Sec-WebSocket-Version", b"13");
    for (n, v) in extra {
        line(&mut r, n, v);
    }
    if !creds.is_empty() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(&creds);
        line(&mut r, b"Authorization", format!("Basic {b64}").as_bytes());
    }
    line(&mut r, b"User-Agent", b"ESP8266");
    if !proto.is_empty() {
        line(&mut r, b"Sec-WebSocket-Protocol", proto);
    }
    r.extend_from_slice(b"\r\n");
    Ok(r)
}

/// The entries (split at ',', trimmed of SP/HT) of the
/// `Sec-WebSocket-Protocol` line of a request; `None` if it has no such line.
pub fn offered_protocols(request: &[u8]) -> Option<Vec<Vec<u8>>> {
    let text = request.strip_suffix(b"\r\n\r\n").unwrap_or(request);
    for line in text.split(|&b| b == b'\n').skip(1) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        if line[..colon].eq_ignore_ascii_case(b"sec-websocket-protocol") {
            let v = &line[colon + 1..];
            return Some(
                v.split(|&b| b == b',')
                    .map(|e| trim_ws(e).to_vec())
                    .collect(),
            );
        }
    }
    None
}

#[cfg(test)]
mod request_tests {
    use super::*;

    #[test]
    fn request_and_offer() {
        let key = b"dGhlIHNhbXBsZSBub25jZQ==";
        let extra: [(&[u8], &[u8]); 2] = [(b"user-agent", b"me"), (b"UPGRADE", b"no")];
        let r = ref_request(b"/x", b"h", 80, key, &extra, Some(b"a, b ,")).unwrap();
        let text = String::from_utf8(r.clone()).unwrap();
        assert!(text.starts_with("GET /x HTTP/1.1\r\nHost: h:80\r\nUpgrade: websocket\r\n"));
        assert!(text.contains("\r\nuser-agent: me\r\nSec-WebSocket-Protocol: a, b ,\r\n\r\n"));
        assert!(!text.contains("UPGRADE"));
        assert_eq!(
            offered_protocols(&r),
            Some(vec![b"a".to_vec(), b"b".to_vec(), Vec::new()])
        );
        assert_eq!(
            ref_request(b"/", b"h", 80, key, &[], Some(b"")).map(|r| offered_protocols(&r)),
            Ok(None)
        );
        let bad: [(&[u8], &[u8]); 1] = [(b"X", b"a\rb")];
        assert_eq!(
            ref_request(b"/", b"h", 80, key, &bad, None),
            Err(websocket::status::WS_ERR_BAD_HEADER)
        );
    }
}
