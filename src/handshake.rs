//! Opening handshake (RFC 6455 section 4): key generation, the request
//! writer, and an incremental parser for the server's response.
//!
//! The response parser is a byte-at-a-time state machine: it never buffers
//! the response, needs no terminator, and tells the caller exactly how many
//! bytes of each segment belonged to the response (the rest are frames).

use crate::status::{
    Status, WS_ERR_BAD_ACCEPT, WS_ERR_BAD_HANDSHAKE, WS_ERR_BAD_HEADER, WS_ERR_NOT_SWITCHING,
};
use crate::url::Url;

/// Length of `Sec-WebSocket-Key` (base64 of 16 bytes).
pub const KEY_LEN: usize = 24;
/// Length of `Sec-WebSocket-Accept` (base64 of a SHA-1 digest).
pub const ACCEPT_LEN: usize = 28;
/// Largest accepted response header block (status line to blank line).
pub const MAX_RESPONSE: usize = 8192;
/// Longest `Sec-WebSocket-Protocol` value kept from the response.
pub const MAX_PROTOCOL: usize = 64;

const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding; writes `4 * ceil(src.len() / 3)` bytes (as
/// far as `out` reaches).
fn base64_into(src: &[u8], out: &mut [u8]) {
    let mut acc: u32 = 0;
    let mut bits = 0;
    let mut n = 0usize;
    let mut put = |c: u8| {
        if let Some(d) = out.get_mut(n) {
            *d = c;
        }
        n += 1;
        n
    };
    for &b in src {
        acc = acc << 8 | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            put(B64[(acc >> bits & 63) as usize]);
        }
    }
    let mut last = if bits > 0 {
        put(B64[(acc << (6 - bits) & 63) as usize])
    } else {
        0
    };
    while last % 4 != 0 {
        last = put(b'=');
    }
}

/// `Sec-WebSocket-Key` for 16 random bytes.
pub fn make_key(random: &[u8; 16]) -> [u8; KEY_LEN] {
    let mut k = [0u8; KEY_LEN];
    base64_into(random, &mut k);
    k
}

/// Copies `min(dst.len(), src.len())` bytes (no length-mismatch panic path).
/// One out-of-line copy for all its callers.
#[inline(never)]
fn copy(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// SHA-1 compression of one 64-byte block (FIPS 180-4), with the message
/// schedule kept in a 16-word ring. Not inlined (smaller that way).
#[inline(never)]
fn sha1_block(h: &mut [u32; 5], block: &[u8; 64]) {
    let mut w = [0u32; 16];
    for (wi, c) in w.iter_mut().zip(block.as_chunks::<4>().0) {
        *wi = u32::from_be_bytes(*c);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *h;
    for i in 0..80usize {
        if i >= 16 {
            let x = w[(i + 13) & 15] ^ w[(i + 8) & 15] ^ w[(i + 2) & 15] ^ w[i & 15];
            w[i & 15] = x.rotate_left(1);
        }
        let (f, k) = match i {
            0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
            20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
            40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
            _ => (b ^ c ^ d, 0xCA62_C1D6),
        };
        let t = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(w[i & 15]);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = t;
    }
    for (hi, v) in h.iter_mut().zip([a, b, c, d, e]) {
        *hi = hi.wrapping_add(v);
    }
}

/// The `Sec-WebSocket-Accept` value a server must answer to `key`:
/// base64(SHA-1(key + GUID)). Key and GUID are 60 bytes, so the padded
/// message is exactly two blocks.
pub fn accept_for(key: &[u8; KEY_LEN]) -> [u8; ACCEPT_LEN] {
    let mut msg = [0u8; 128];
    let (k, rest) = msg.split_at_mut(KEY_LEN);
    copy(k, key);
    copy(rest, GUID);
    msg[KEY_LEN + GUID.len()] = 0x80;
    let bits = ((KEY_LEN + GUID.len()) as u64 * 8).to_be_bytes();
    copy(&mut msg[120..], &bits);
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    for block in msg.as_chunks::<64>().0 {
        sha1_block(&mut h, block);
    }
    let mut digest = [0u8; 20];
    for (d, v) in digest.as_chunks_mut::<4>().0.iter_mut().zip(h) {
        *d = v.to_be_bytes();
    }
    let mut a = [0u8; ACCEPT_LEN];
    base64_into(&digest, &mut a);
    a
}

/// One request header (the C `header_t` without its NUL terminators).
#[derive(Clone, Copy)]
#[cfg_attr(test, derive(Debug))]
pub struct Header<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
}

/// Headers always sent first; extra headers with these names are dropped.
const MANDATORY: [&[u8]; 5] = [
    b"Host",
    b"Upgrade",
    b"Connection",
    b"Sec-WebSocket-Key",
    b"Sec-WebSocket-Version",
];

/// Sent after the extra headers unless an extra header has the same name.
const USER_AGENT: Header<'static> = Header {
    name: b"User-Agent",
    value: b"ESP8266",
};
const PROTOCOL: &[u8] = b"Sec-WebSocket-Protocol";
/// The protocol offered when the caller names none.
pub const DEFAULT_PROTOCOL: &[u8] = b"chat";

/// Counts bytes, and copies them into `out` when there is one.
struct Sink<'o> {
    out: Option<&'o mut [u8]>,
    n: usize,
}

impl Sink<'_> {
    fn put(&mut self, b: &[u8]) {
        let end = self.n.saturating_add(b.len());
        if let Some(dst) = self.out.as_deref_mut().and_then(|o| o.get_mut(self.n..end)) {
            copy(dst, b);
        }
        self.n = end;
    }

    fn header(&mut self, h: &Header) {
        self.put(h.name);
        self.put(b": ");
        self.put(h.value);
        self.put(b"\r\n");
    }
}

fn valid_header(h: &Header) -> bool {
    !h.name.is_empty()
        && h.name.iter().all(|&b| b.is_ascii_graphic() && b != b':')
        && !h.value.iter().any(|&b| matches!(b, b'\r' | b'\n' | 0))
}

/// Decimal digits of `v` at the end of `buf`.
fn decimal(v: u16, buf: &mut [u8; 5]) -> &[u8] {
    let mut v = v;
    let mut n = 0;
    for slot in buf.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
        n += 1;
        if v == 0 {
            break;
        }
    }
    buf.get(5 - n..).unwrap_or(&[])
}

/// Whether one of the first `n` extra headers is called `name` (ASCII
/// case-insensitive).
fn named<'h>(extra: impl Iterator<Item = Header<'h>>, n: usize, name: &[u8]) -> bool {
    extra.take(n).any(|e| e.name.eq_ignore_ascii_case(name))
}

/// The single request writer behind both `request_len` and `write_request`.
fn emit<'h, I>(
    url: &Url,
    key: &[u8; KEY_LEN],
    extra: I,
    protocols: Option<&[u8]>,
    sink: &mut Sink,
) -> Result<(), Status>
where
    I: Iterator<Item = Header<'h>> + Clone,
{
    let proto = Header {
        name: PROTOCOL,
        value: protocols.unwrap_or(DEFAULT_PROTOCOL),
    };
    if extra.clone().any(|h| !valid_header(&h)) || !valid_header(&proto) {
        return Err(WS_ERR_BAD_HEADER);
    }
    sink.put(b"GET ");
    if url.path.first() != Some(&b'/') {
        sink.put(b"/");
    }
    sink.put(url.path);
    sink.put(b" HTTP/1.1\r\nHost: ");
    sink.put(url.host);
    sink.put(b":");
    sink.put(decimal(url.port, &mut [0; 5]));
    sink.put(b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ");
    sink.put(key);
    sink.put(b"\r\nSec-WebSocket-Version: 13\r\n");
    for (i, h) in extra.clone().enumerate() {
        let dup = MANDATORY.iter().any(|m| m.eq_ignore_ascii_case(h.name))
            || named(extra.clone(), i, h.name);
        if !dup {
            sink.header(&h);
        }
    }
    for d in [USER_AGENT, proto] {
        // An empty protocol list sends no protocol header at all.
        if !d.value.is_empty() && !named(extra.clone(), usize::MAX, d.name) {
            sink.header(&d);
        }
    }
    sink.put(b"\r\n");
    Ok(())
}

/// Exact byte length of the request, or `Err(WS_ERR_BAD_HEADER)` if an extra header
/// has an empty name, a name byte outside visible ASCII or a `:`, or a value
/// containing CR, LF or NUL.
///
/// Request: `GET <path> HTTP/1.1`, `Host: <host>:<port>`, `Upgrade`,
/// `Connection`, `Sec-WebSocket-Key`, `Sec-WebSocket-Version: 13`, the extra
/// headers, then `User-Agent: ESP8266` and `Sec-WebSocket-Protocol:
/// <protocols>` (`chat` when `protocols` is `None`, no header when it is
/// empty; CR, LF or NUL in it is `WS_ERR_BAD_HEADER`). A header whose name (ASCII
/// case-insensitive) already appeared earlier in that order is left out.
pub fn request_len<'h, I>(
    url: &Url,
    key: &[u8; KEY_LEN],
    extra: I,
    protocols: Option<&[u8]>,
) -> Result<usize, Status>
where
    I: Iterator<Item = Header<'h>> + Clone,
{
    let mut sink = Sink { out: None, n: 0 };
    emit(url, key, extra, protocols, &mut sink)?;
    Ok(sink.n)
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t' | b'\r', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t' | b'\r'] = v {
        v = rest;
    }
    v
}

/// Whether the server's protocol choice `chosen` (trimmed; empty = none) is
/// allowed by the request we sent: none is always allowed, otherwise it must
/// equal (case-sensitively) one of the comma-separated entries of the
/// request's `Sec-WebSocket-Protocol` header.
pub fn protocol_offered(request: &[u8], chosen: &[u8]) -> bool {
    if chosen.is_empty() {
        return true;
    }
    request.split(|&b| b == b'\n').skip(1).any(|line| {
        let Some((name, rest)) = line.split_at_checked(PROTOCOL.len()) else {
            return false;
        };
        match rest.split_first() {
            Some((b':', value)) if name.eq_ignore_ascii_case(PROTOCOL) => {
                value.split(|&b| b == b',').any(|t| trim(t) == chosen)
            }
            _ => false,
        }
    })
}

/// Writes the request into `out`, which must be exactly `request_len` bytes
/// long. Returns the bytes written, or 0 (nothing written) if `out` has the
/// wrong size or a header is invalid.
pub fn write_request<'h, I>(
    url: &Url,
    key: &[u8; KEY_LEN],
    extra: I,
    protocols: Option<&[u8]>,
    out: &mut [u8],
) -> usize
where
    I: Iterator<Item = Header<'h>> + Clone,
{
    match request_len(url, key, extra.clone(), protocols) {
        Ok(n) if n == out.len() => write_sized(url, key, extra, protocols, out),
        _ => 0,
    }
}

/// [`write_request`] for an `out` the caller sized with [`request_len`]
/// (no second counting pass). Returns the request's length, 0 for an
/// invalid header; a wrong-sized `out` holds a cut request.
pub fn write_sized<'h, I>(
    url: &Url,
    key: &[u8; KEY_LEN],
    extra: I,
    protocols: Option<&[u8]>,
    out: &mut [u8],
) -> usize
where
    I: Iterator<Item = Header<'h>> + Clone,
{
    let mut sink = Sink {
        out: Some(out),
        n: 0,
    };
    match emit(url, key, extra, protocols, &mut sink) {
        Ok(()) => sink.n,
        Err(_) => 0,
    }
}

/// Result of [`ResponseParser::feed`].
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub enum Parsed {
    /// All bytes consumed, the header block is not complete yet.
    NeedMore,
    /// Valid 101 response; `used` bytes of this call's data belonged to it.
    Done { used: usize },
    /// Handshake failed with this status.
    Failed(Status),
}

#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
enum Phase {
    /// Matching `HTTP/1.1 101`, `pos` bytes matched.
    Status,
    /// Rest of the status line.
    Reason,
    LineStart,
    /// Header name, `pos` bytes seen.
    Name,
    /// Leading whitespace of a value.
    ValueStart,
    Value,
    Done,
    Failed(Status),
}

/// Response headers the parser looks at (lower case).
const NAMES: [&[u8]; 5] = [
    b"upgrade",
    b"connection",
    b"sec-websocket-accept",
    b"sec-websocket-extensions",
    b"sec-websocket-protocol",
];
const H_UPGRADE: u8 = 0;
const H_CONNECTION: u8 = 1;
const H_ACCEPT: u8 = 2;
const H_EXTENSIONS: u8 = 3;
const H_PROTOCOL: u8 = 4;
const H_OTHER: u8 = 0xFF;
const STATUS: &[u8] = b"HTTP/1.1 101";
const TOKEN_BROKEN: u8 = 0xFF;

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Incremental parser for the server's handshake response (no heap, no
/// buffering of the response).
///
/// Checks: status line starts `HTTP/1.1 101` followed by SP or a line end,
/// else `WS_ERR_NOT_SWITCHING` at the first mismatching byte. Header names are ASCII
/// case-insensitive, values are trimmed of SP/HT. `Upgrade` must be
/// `websocket` (case-insensitive), `Connection` must contain the token
/// `upgrade`, `Sec-WebSocket-Accept` must be present exactly once and equal
/// the expected value, `Sec-WebSocket-Extensions` must be absent and
/// `Sec-WebSocket-Protocol` may appear at most once: else `WS_ERR_BAD_ACCEPT` at the
/// blank line. A header line without `:` (or with an empty name), obs-fold,
/// NUL, a CR not followed by LF, a protocol value over 64 bytes or a header
/// block over `MAX_RESPONSE` bytes: `WS_ERR_BAD_HANDSHAKE`. Lines may end in CRLF
/// or a bare LF.
#[cfg_attr(test, derive(Debug))]
pub struct ResponseParser {
    accept: [u8; ACCEPT_LEN],
    proto: [u8; MAX_PROTOCOL],
    /// Bytes consumed so far (at most MAX_RESPONSE).
    total: u16,
    phase: Phase,
    /// Position in the status line or the header name (saturating).
    pos: u8,
    /// Bit k set: the name so far is a prefix of `NAMES[k]`.
    cand: u8,
    /// Header whose value is being read (`H_*`).
    hdr: u8,
    /// A CR was seen; the next byte must be LF.
    cr: bool,
    /// Exact-match progress for Upgrade / Accept values.
    vpos: u8,
    vbad: bool,
    /// Connection token matcher: bytes of "upgrade" matched, or TOKEN_BROKEN;
    /// `tend` once whitespace followed the token.
    tpos: u8,
    tend: bool,
    proto_len: u8,
    upgrade_seen: bool,
    upgrade_bad: bool,
    connection_ok: bool,
    accept_count: u8,
    accept_ok: bool,
    extensions_seen: bool,
    protocol_count: u8,
}

impl ResponseParser {
    /// A parser expecting `Sec-WebSocket-Accept: <accept>`.
    pub fn new(accept: [u8; ACCEPT_LEN]) -> Self {
        ResponseParser {
            accept,
            proto: [0; MAX_PROTOCOL],
            total: 0,
            phase: Phase::Status,
            pos: 0,
            cand: 0,
            hdr: H_OTHER,
            cr: false,
            vpos: 0,
            vbad: false,
            tpos: 0,
            tend: false,
            proto_len: 0,
            upgrade_seen: false,
            upgrade_bad: false,
            connection_ok: false,
            accept_count: 0,
            accept_ok: false,
            extensions_seen: false,
            protocol_count: 0,
        }
    }

    /// Feeds the next bytes of the response. `Done { used }` tells how many
    /// bytes of this call's `data` belonged to the response; the rest are
    /// WebSocket frames. Once done or failed, further calls return
    /// `Done { used: 0 }` or the same `Failed` without looking at `data`.
    pub fn feed(&mut self, data: &[u8]) -> Parsed {
        match self.phase {
            Phase::Done => return Parsed::Done { used: 0 },
            Phase::Failed(c) => return Parsed::Failed(c),
            _ => {}
        }
        for (i, &b) in data.iter().enumerate() {
            self.total = self.total.saturating_add(1);
            if usize::from(self.total) > MAX_RESPONSE {
                self.phase = Phase::Failed(WS_ERR_BAD_HANDSHAKE);
            } else {
                self.byte(b);
            }
            match self.phase {
                Phase::Failed(c) => return Parsed::Failed(c),
                Phase::Done => {
                    if self.headers_ok() {
                        return Parsed::Done { used: i + 1 };
                    }
                    self.phase = Phase::Failed(WS_ERR_BAD_ACCEPT);
                    return Parsed::Failed(WS_ERR_BAD_ACCEPT);
                }
                _ => {}
            }
        }
        Parsed::NeedMore
    }

    /// The server's `Sec-WebSocket-Protocol` value (empty if none), trimmed.
    /// Complete once `feed` returned `Done`.
    pub fn protocol(&self) -> &[u8] {
        self.proto.get(..usize::from(self.proto_len)).unwrap_or(&[])
    }

    fn headers_ok(&self) -> bool {
        self.upgrade_seen
            && !self.upgrade_bad
            && self.connection_ok
            && self.accept_count == 1
            && self.accept_ok
            && !self.extensions_seen
            && self.protocol_count <= 1
    }

    fn fail(&mut self, code: Status) {
        self.phase = Phase::Failed(code);
    }

    fn byte(&mut self, b: u8) {
        if self.cr {
            self.cr = false;
            if b != b'\n' {
                return self.fail(WS_ERR_BAD_HANDSHAKE);
            }
        }
        if self.phase == Phase::Status {
            match STATUS.get(usize::from(self.pos)) {
                Some(&e) if e == b => self.pos += 1,
                None if matches!(b, b' ' | b'\r' | b'\n') => {
                    self.phase = Phase::Reason;
                    self.line_end(b);
                }
                _ => self.fail(WS_ERR_NOT_SWITCHING),
            }
            return;
        }
        if b == 0 {
            return self.fail(WS_ERR_BAD_HANDSHAKE);
        }
        match self.phase {
            Phase::Reason => {
                self.line_end(b);
            }
            Phase::LineStart => match b {
                b'\n' => self.phase = Phase::Done,
                b'\r' => self.cr = true,
                b' ' | b'\t' | b':' => self.fail(WS_ERR_BAD_HANDSHAKE),
                _ => {
                    self.phase = Phase::Name;
                    self.pos = 0;
                    self.cand = (1 << NAMES.len()) - 1;
                    self.name_byte(b);
                }
            },
            Phase::Name => match b {
                b':' => self.start_value(),
                b'\r' | b'\n' => self.fail(WS_ERR_BAD_HANDSHAKE),
                _ => self.name_byte(b),
            },
            Phase::ValueStart if is_ws(b) => {}
            Phase::ValueStart | Phase::Value => {
                if !self.line_end(b) {
                    self.phase = Phase::Value;
                    self.value_byte(b);
                }
            }
            Phase::Status | Phase::Done | Phase::Failed(_) => {}
        }
    }

    /// Handles CR / LF in a line that may end here; true if `b` was one.
    fn line_end(&mut self, b: u8) -> bool {
        match b {
            b'\r' => self.cr = true,
            b'\n' => {
                if matches!(self.phase, Phase::Value | Phase::ValueStart) {
                    self.end_value();
                }
                if !matches!(self.phase, Phase::Failed(_)) {
                    self.phase = Phase::LineStart;
                }
            }
            _ => return false,
        }
        true
    }

    fn name_byte(&mut self, b: u8) {
        let lb = b.to_ascii_lowercase();
        for (k, name) in NAMES.iter().enumerate() {
            if name.get(usize::from(self.pos)) != Some(&lb) {
                self.cand &= !(1 << k);
            }
        }
        self.pos = self.pos.saturating_add(1);
    }

    fn start_value(&mut self) {
        self.phase = Phase::ValueStart;
        let n = usize::from(self.pos);
        self.hdr = (0u8..)
            .zip(NAMES.iter())
            .find(|&(k, name)| self.cand & (1 << k) != 0 && name.len() == n)
            .map_or(H_OTHER, |(k, _)| k);
        self.vpos = 0;
        self.vbad = false;
        self.tpos = 0;
        self.tend = false;
        match self.hdr {
            H_UPGRADE => self.upgrade_seen = true,
            H_ACCEPT => self.accept_count = self.accept_count.saturating_add(1),
            H_EXTENSIONS => self.extensions_seen = true,
            H_PROTOCOL => {
                self.protocol_count = self.protocol_count.saturating_add(1);
                self.proto_len = 0;
            }
            _ => {}
        }
    }

    /// A value byte after leading whitespace (trailing whitespace included).
    fn value_byte(&mut self, b: u8) {
        match self.hdr {
            H_UPGRADE => exact_byte(b"websocket", true, &mut self.vpos, &mut self.vbad, b),
            H_ACCEPT => exact_byte(&self.accept, false, &mut self.vpos, &mut self.vbad, b),
            H_CONNECTION => {
                if b == b',' {
                    self.token_end();
                } else if is_ws(b) {
                    self.tend = self.tpos != 0;
                } else if self.tend {
                    self.tpos = TOKEN_BROKEN;
                } else {
                    match b"upgrade".get(usize::from(self.tpos)) {
                        Some(&e) if e == b.to_ascii_lowercase() => self.tpos += 1,
                        _ => self.tpos = TOKEN_BROKEN,
                    }
                }
            }
            H_PROTOCOL => {
                if let Some(slot) = self.proto.get_mut(usize::from(self.proto_len)) {
                    *slot = b;
                    self.proto_len += 1;
                } else if !is_ws(b) {
                    self.fail(WS_ERR_BAD_HANDSHAKE);
                }
            }
            _ => {}
        }
    }

    fn token_end(&mut self) {
        if usize::from(self.tpos) == b"upgrade".len() {
            self.connection_ok = true;
        }
        self.tpos = 0;
        self.tend = false;
    }

    fn end_value(&mut self) {
        match self.hdr {
            H_UPGRADE => {
                self.upgrade_bad |= self.vbad || usize::from(self.vpos) != b"websocket".len();
            }
            H_ACCEPT => self.accept_ok = !self.vbad && usize::from(self.vpos) == ACCEPT_LEN,
            H_CONNECTION => self.token_end(),
            H_PROTOCOL => {
                while let Some(&last) = self.protocol().last() {
                    if !is_ws(last) {
                        break;
                    }
                    self.proto_len -= 1;
                }
            }
            _ => {}
        }
    }
}

/// Matches a value byte against `expected`, allowing trailing whitespace.
fn exact_byte(expected: &[u8], fold_case: bool, pos: &mut u8, bad: &mut bool, b: u8) {
    if *bad {
        return;
    }
    let b2 = if fold_case { b.to_ascii_lowercase() } else { b };
    match expected.get(usize::from(*pos)) {
        Some(&e) if e == b2 => *pos += 1,
        None if is_ws(b) => {}
        _ => *bad = true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::WS_ERR_NOT_SWITCHING;
    use proptest::prelude::*;

    const RFC_KEY: &[u8; KEY_LEN] = b"dGhlIHNhbXBsZSBub25jZQ==";
    const RFC_ACCEPT: &[u8; ACCEPT_LEN] = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

    fn url(s: &str) -> Url<'_> {
        crate::url::parse(s.as_bytes()).unwrap()
    }

    fn hdrs<'a>(v: &'a [(&'a str, &'a str)]) -> impl Iterator<Item = Header<'a>> + Clone + 'a {
        v.iter().map(|(n, val)| Header {
            name: n.as_bytes(),
            value: val.as_bytes(),
        })
    }

    fn request(u: &str, extra: &[(&str, &str)]) -> Result<String, Status> {
        let u = url(u);
        let n = request_len(&u, RFC_KEY, hdrs(extra), None)?;
        let mut out = vec![0u8; n];
        assert_eq!(write_request(&u, RFC_KEY, hdrs(extra), None, &mut out), n);
        Ok(String::from_utf8(out).unwrap())
    }

    fn request_with(u: &str, extra: &[(&str, &str)], protocols: &str) -> Result<String, Status> {
        let u = url(u);
        let p = Some(protocols.as_bytes());
        let n = request_len(&u, RFC_KEY, hdrs(extra), p)?;
        let mut out = vec![0u8; n];
        assert_eq!(write_request(&u, RFC_KEY, hdrs(extra), p, &mut out), n);
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn protocols_replace_the_default() {
        let r = request_with("ws://h/", &[], "a, b").unwrap();
        assert!(r.ends_with("User-Agent: ESP8266\r\nSec-WebSocket-Protocol: a, b\r\n\r\n"));
        assert!(!r.contains("chat"));
        // Empty list: no protocol header at all.
        let r = request_with("ws://h/", &[], "").unwrap();
        assert!(
            !r.to_ascii_lowercase().contains("sec-websocket-protocol"),
            "{r}"
        );
        assert!(r.ends_with("User-Agent: ESP8266\r\n\r\n"));
        // An extra header still wins over the option.
        let r = request_with("ws://h/", &[("sec-websocket-protocol", "x")], "a").unwrap();
        assert!(r.contains("\r\nsec-websocket-protocol: x\r\n"));
        assert!(!r.contains(": a\r\n"));
        // Unsendable protocol string.
        assert_eq!(
            request_with("ws://h/", &[], "a\r\nX: y"),
            Err(WS_ERR_BAD_HEADER)
        );
        assert_eq!(request_with("ws://h/", &[], "a\0"), Err(WS_ERR_BAD_HEADER));
    }

    #[test]
    fn protocol_offered_matches_entries() {
        let r = request_with("ws://h/", &[], "a, bb ,c").unwrap();
        let r = r.as_bytes();
        for ok in ["a", "bb", "c", ""] {
            assert!(protocol_offered(r, ok.as_bytes()), "{ok}");
        }
        for bad in ["b", "A", "a, bb", "chat", "x"] {
            assert!(!protocol_offered(r, bad.as_bytes()), "{bad}");
        }
        let none = request_with("ws://h/", &[], "").unwrap();
        assert!(protocol_offered(none.as_bytes(), b""));
        assert!(!protocol_offered(none.as_bytes(), b"chat"));
        let dflt = request("ws://h/", &[]).unwrap();
        assert!(protocol_offered(dflt.as_bytes(), b"chat"));
        let extra = request_with("ws://h/", &[("SEC-WEBSOCKET-PROTOCOL", "v1,v2")], "z").unwrap();
        assert!(protocol_offered(extra.as_bytes(), b"v2"));
        assert!(!protocol_offered(extra.as_bytes(), b"z"));
        // The request line never counts, whatever the path holds.
        assert!(!protocol_offered(
            b"GET /Sec-WebSocket-Protocol:q HTTP/1.1\r\n\r\n",
            b"q"
        ));
    }

    #[test]
    fn sizes() {
        println!(
            "size_of::<ResponseParser>() = {}",
            core::mem::size_of::<ResponseParser>()
        );
        assert!(core::mem::size_of::<ResponseParser>() <= 160);
    }

    #[test]
    fn rfc_sample_key() {
        assert_eq!(&make_key(b"the sample nonce"), RFC_KEY);
        assert_eq!(&accept_for(RFC_KEY), RFC_ACCEPT);
    }

    #[test]
    fn base64_padding() {
        let mut o = [0u8; 8];
        base64_into(b"f", &mut o[..4]);
        assert_eq!(&o[..4], b"Zg==");
        base64_into(b"fo", &mut o[..4]);
        assert_eq!(&o[..4], b"Zm8=");
        base64_into(b"foob", &mut o);
        assert_eq!(&o, b"Zm9vYg==");
    }

    #[test]
    fn exact_request_bytes() {
        let r = request("ws://example.com:8080/chat?x=1#frag", &[]).unwrap();
        assert_eq!(
            r,
            "GET /chat?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
             Sec-WebSocket-Version: 13\r\nUser-Agent: ESP8266\r\nSec-WebSocket-Protocol: chat\r\n\r\n"
        );
        assert!(request("wss://h", &[])
            .unwrap()
            .starts_with("GET / HTTP/1.1\r\nHost: h:443\r\n"));
        assert!(request("ws://h?q=1", &[])
            .unwrap()
            .starts_with("GET /?q=1 HTTP/1.1\r\nHost: h:80\r\n"));
        assert!(request("ws://h:1/", &[])
            .unwrap()
            .starts_with("GET / HTTP/1.1\r\nHost: h:1\r\n"));
    }

    #[test]
    fn request_overrides_and_duplicates() {
        let r = request(
            "ws://h/",
            &[
                ("X-A", "1"),
                ("host", "evil"),
                ("SEC-WEBSOCKET-KEY", "evil"),
                ("user-agent", "me/1.0"),
                ("x-a", "2"),
                ("Sec-WebSocket-Protocol", ""),
                ("Cookie", "a=b; c=d"),
                ("connection", "close"),
                ("Upgrade", "h2c"),
                ("sec-websocket-version", "8"),
            ],
        )
        .unwrap();
        assert_eq!(
            r,
            "GET / HTTP/1.1\r\nHost: h:80\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
             X-A: 1\r\nuser-agent: me/1.0\r\nSec-WebSocket-Protocol: \r\nCookie: a=b; c=d\r\n\r\n"
        );
    }

    #[test]
    fn request_bad_headers() {
        for bad in [
            ("", "v"),
            ("A B", "v"),
            ("A:B", "v"),
            ("A\tB", "v"),
            ("Caf\u{e9}", "v"),
            ("A\x7f", "v"),
            ("A", "v\r\nX: y"),
            ("A", "v\n"),
            ("A", "v\0"),
        ] {
            assert_eq!(
                request("ws://h/", &[("Ok", "1"), bad]),
                Err(WS_ERR_BAD_HEADER),
                "{bad:?}"
            );
        }
        // Even a bad duplicate of a mandatory header is reported.
        assert_eq!(
            request("ws://h/", &[("Host", "a\rb")]),
            Err(WS_ERR_BAD_HEADER)
        );
        // write_request writes nothing for a bad header or wrong size.
        let u = url("ws://h/");
        let mut out = vec![0xAAu8; 300];
        let bad = [("A", "\n")];
        assert_eq!(write_request(&u, RFC_KEY, hdrs(&bad), None, &mut out), 0);
        let n = request_len(&u, RFC_KEY, hdrs(&[]), None).unwrap();
        assert_eq!(
            write_request(&u, RFC_KEY, hdrs(&[]), None, &mut out[..n + 1]),
            0
        );
        assert_eq!(
            write_request(&u, RFC_KEY, hdrs(&[]), None, &mut out[..n - 1]),
            0
        );
        assert!(out.iter().all(|&b| b == 0xAA));
    }

    fn response(accept: &str, extra: &str) -> Vec<u8> {
        format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Accept: {accept}\r\n{extra}\r\n"
        )
        .into_bytes()
    }

    fn good() -> Vec<u8> {
        response("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "")
    }

    fn parse_all(bytes: &[u8]) -> Parsed {
        ResponseParser::new(*RFC_ACCEPT).feed(bytes)
    }

    /// Feeds `bytes` in pieces ending at `cuts`; returns the result and the
    /// total number of response bytes used.
    fn parse_split(bytes: &[u8], cuts: &[usize]) -> (Parsed, usize, ResponseParser) {
        let mut p = ResponseParser::new(*RFC_ACCEPT);
        let mut start = 0;
        for &end in cuts.iter().chain([bytes.len()].iter()) {
            match p.feed(&bytes[start..end]) {
                Parsed::NeedMore => {}
                Parsed::Done { used } => return (Parsed::Done { used }, start + used, p),
                f => return (f, start, p),
            }
            start = end;
        }
        (Parsed::NeedMore, bytes.len(), p)
    }

    #[test]
    fn good_response() {
        let r = good();
        assert_eq!(parse_all(&r), Parsed::Done { used: r.len() });
        // Bare LF, extra whitespace, case, token lists, other headers.
        let r = b"HTTP/1.1 101\nupgrade:WebSocket \n CONNECTION: keep-alive ,\t Upgrade\t\nX: \
                  y\nSec-WebSocket-Accept:\ts3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \nServer: x:y\n\n";
        assert_eq!(
            parse_all(r),
            Parsed::Failed(WS_ERR_BAD_HANDSHAKE),
            "obs-fold line must fail"
        );
        let r = b"HTTP/1.1 101\nupgrade:WebSocket \nCONNECTION: keep-alive ,\t Upgrade\t\nX: \
                  y\nSec-WebSocket-Accept:\ts3pPLMBiTxaQ9kYGzzhZRbK+xOo=  \nServer: x:y\nEmpty:\n\n";
        assert_eq!(parse_all(r), Parsed::Done { used: r.len() });
        let r = b"HTTP/1.1 101\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
                  Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol:  chat \r\n\r\n";
        let mut p = ResponseParser::new(*RFC_ACCEPT);
        assert_eq!(p.feed(r), Parsed::Done { used: r.len() });
        assert_eq!(p.protocol(), b"chat");
        assert_eq!(p.feed(b"more"), Parsed::Done { used: 0 });
        assert_eq!(ResponseParser::new(*RFC_ACCEPT).protocol(), b"");
    }

    #[test]
    fn not_switching() {
        for s in [
            "HTTP/1.1 200 OK\r\n\r\n",
            "HTTP/1.0 101 x\r\n",
            "http/1.1 101\r\n",
            "HTTP/1.1 1010\r\n",
            "HTTP/1.1  101\r\n",
            "\r\nHTTP/1.1 101\r\n",
            "HTTP/1.1 101x",
            "X",
        ] {
            assert_eq!(
                parse_all(s.as_bytes()),
                Parsed::Failed(WS_ERR_NOT_SWITCHING),
                "{s:?}"
            );
        }
        // Fails as soon as a mismatching byte is seen.
        let mut p = ResponseParser::new(*RFC_ACCEPT);
        assert_eq!(p.feed(b"HTTP/1.1 4"), Parsed::Failed(WS_ERR_NOT_SWITCHING));
        assert_eq!(p.feed(b"anything"), Parsed::Failed(WS_ERR_NOT_SWITCHING));
        assert_eq!(parse_all(b"HTTP/1.1 10"), Parsed::NeedMore);
    }

    #[test]
    fn bad_accept() {
        let ok_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
        let cases: Vec<Vec<u8>> = vec![
            response("s3pPLMBiTxaQ9kYGzzhZRbK+xOo", ""),
            response("s3pPLMBiTxaQ9kYGzzhZRbK+xOo==", ""),
            response("S3pPLMBiTxaQ9kYGzzhZRbK+xOo=", ""),
            response("s3pPLMBiTxaQ9kYGzzhZRbK +xOo=", ""),
            response("", ""),
            response(ok_accept, &format!("Sec-WebSocket-Accept: {ok_accept}\r\n")),
            response(ok_accept, "Sec-WebSocket-Extensions: permessage-deflate\r\n"),
            response(ok_accept, "Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n"),
            response(ok_accept, "Upgrade: h2c\r\n"),
            b"HTTP/1.1 101\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec(),
            b"HTTP/1.1 101\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec(),
            b"HTTP/1.1 101\r\nUpgrade: websockets\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec(),
            b"HTTP/1.1 101\r\nUpgrade: websocket\r\nConnection: Upgrade2, keep\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec(),
            b"HTTP/1.1 101\r\nUpgrade: websocket\r\nConnection: up grade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec(),
            b"HTTP/1.1 101\r\nUpgrade: websocket\r\nConnection: Upgrade x\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec(),
            b"HTTP/1.1 101\r\nUpgrade: websocket\r\nX-Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec(),
            b"HTTP/1.1 101\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept-X: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n".to_vec(),
        ];
        for c in &cases {
            assert_eq!(
                parse_all(c),
                Parsed::Failed(WS_ERR_BAD_ACCEPT),
                "{}",
                String::from_utf8_lossy(c)
            );
        }
        // With another expected accept value, the RFC response fails.
        assert_eq!(
            ResponseParser::new(accept_for(&make_key(&[0; 16]))).feed(&good()),
            Parsed::Failed(WS_ERR_BAD_ACCEPT)
        );
    }

    #[test]
    fn bad_handshake() {
        let ok_accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
        let cases: Vec<Vec<u8>> = vec![
            response(ok_accept, "NoColon\r\n"),
            response(ok_accept, ": empty name\r\n"),
            response(ok_accept, "X: a\r\n folded\r\n"),
            response(ok_accept, "X: a\r\n\tfolded\r\n"),
            response(ok_accept, "X: a\0b\r\n"),
            response(ok_accept, "X\0: ab\r\n"),
            response(ok_accept, "X: a\rb\r\n"),
            response(
                ok_accept,
                &format!("Sec-WebSocket-Protocol: {}\r\n", "p".repeat(65)),
            ),
            b"HTTP/1.1 101 OK\0\r\n\r\n".to_vec(),
            b"HTTP/1.1 101\r\r\n".to_vec(),
        ];
        for c in &cases {
            assert_eq!(
                parse_all(c),
                Parsed::Failed(WS_ERR_BAD_HANDSHAKE),
                "{}",
                String::from_utf8_lossy(c)
            );
        }
        // 64-byte protocol (plus trailing blanks) is fine.
        let p64 = "p".repeat(64);
        let r = response(ok_accept, &format!("Sec-WebSocket-Protocol: {p64}   \r\n"));
        let mut p = ResponseParser::new(*RFC_ACCEPT);
        assert_eq!(p.feed(&r), Parsed::Done { used: r.len() });
        assert_eq!(p.protocol(), p64.as_bytes());
        // 64 bytes, blank, more: over the limit.
        let r = response(ok_accept, &format!("Sec-WebSocket-Protocol: {p64} x\r\n"));
        assert_eq!(parse_all(&r), Parsed::Failed(WS_ERR_BAD_HANDSHAKE));
    }

    #[test]
    fn header_block_limit() {
        let g = good();
        let pad = |n: usize| {
            let mut r = g[..g.len() - 2].to_vec();
            let line = format!("X: {}\r\n", "a".repeat(n - 5));
            r.extend_from_slice(line.as_bytes());
            r.extend_from_slice(b"\r\n");
            r
        };
        let exact = pad(MAX_RESPONSE - g.len());
        assert_eq!(exact.len(), MAX_RESPONSE);
        assert_eq!(parse_all(&exact), Parsed::Done { used: MAX_RESPONSE });
        let over = pad(MAX_RESPONSE - g.len() + 1);
        assert_eq!(
            parse_split(&over, &[100, 8000]).0,
            Parsed::Failed(WS_ERR_BAD_HANDSHAKE)
        );
        // A never-ending header line fails once the limit is passed.
        let mut p = ResponseParser::new(*RFC_ACCEPT);
        assert_eq!(p.feed(b"HTTP/1.1 101 \r\nX: "), Parsed::NeedMore);
        let mut res = Parsed::NeedMore;
        for _ in 0..MAX_RESPONSE {
            res = p.feed(b"a");
            if res != Parsed::NeedMore {
                break;
            }
        }
        assert_eq!(res, Parsed::Failed(WS_ERR_BAD_HANDSHAKE));
    }

    #[test]
    fn defect_handshake_split_over_segments() {
        let r = good();
        let len = r.len();
        for a in 0..=len {
            // Two pieces: the call that sees the final LF reports only its own bytes.
            let mut p = ResponseParser::new(*RFC_ACCEPT);
            let first = p.feed(&r[..a]);
            if a == len {
                assert_eq!(first, Parsed::Done { used: len });
            } else {
                assert_eq!(first, Parsed::NeedMore, "split at {a}");
                assert_eq!(
                    p.feed(&r[a..]),
                    Parsed::Done { used: len - a },
                    "split at {a}"
                );
            }
            // Three pieces, every pair of split points.
            for b in a..=len {
                let (res, used, _) = parse_split(&r, &[a, b]);
                assert!(matches!(res, Parsed::Done { .. }), "{a} {b}: {res:?}");
                assert_eq!(used, len);
            }
        }
        // One byte at a time.
        let cuts: Vec<usize> = (1..len).collect();
        let (res, used, _) = parse_split(&r, &cuts);
        assert_eq!((res, used), (Parsed::Done { used: 1 }, len));
    }

    #[test]
    fn defect_handshake_not_nul_terminated() {
        // Response followed directly by a frame in the same buffer: no NUL,
        // `used` stops exactly at the blank line and the frame bytes are
        // untouched.
        let mut seg = good();
        let n = seg.len();
        seg.extend_from_slice(&[0x81, 0x02, b'h', b'i']);
        let copy = seg.clone();
        let mut p = ResponseParser::new(*RFC_ACCEPT);
        assert_eq!(p.feed(&seg), Parsed::Done { used: n });
        assert_eq!(seg, copy);
        let mut d = crate::frame::Decoder::new();
        let mut pos = n;
        assert!(matches!(
            d.next(&seg, &mut pos),
            Some(crate::frame::Decoded::Header(_))
        ));
        // Split in the middle, second part glued to the frame.
        for a in 1..n {
            let mut p = ResponseParser::new(*RFC_ACCEPT);
            assert_eq!(p.feed(&seg[..a]), Parsed::NeedMore);
            assert_eq!(p.feed(&seg[a..]), Parsed::Done { used: n - a });
        }
        // Response bytes up to the blank line without its final LF: not done.
        assert_eq!(parse_all(&seg[..n - 1]), Parsed::NeedMore);
    }

    fn is_done(p: Parsed) -> bool {
        matches!(p, Parsed::Done { .. })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn arbitrary_bytes_never_panic(
            segs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..64), 0..6),
            prefix in any::<bool>(),
        ) {
            let mut p = ResponseParser::new(*RFC_ACCEPT);
            if prefix {
                prop_assert_eq!(p.feed(b"HTTP/1.1 101 \r\n"), Parsed::NeedMore);
            }
            for s in &segs {
                match p.feed(s) {
                    Parsed::Done { used } => prop_assert!(used <= s.len()),
                    Parsed::NeedMore | Parsed::Failed(_) => {}
                }
                prop_assert!(p.protocol().len() <= MAX_PROTOCOL);
            }
        }

        #[test]
        fn arbitrary_header_lines(lines in proptest::collection::vec("[ -~\t]{0,30}", 0..6), glue in proptest::collection::vec(any::<u8>(), 0..8), cut in any::<usize>()) {
            let mut r = b"HTTP/1.1 101 OK\r\n".to_vec();
            for l in &lines {
                r.extend_from_slice(l.as_bytes());
                r.extend_from_slice(b"\r\n");
            }
            r.extend_from_slice(b"\r\n");
            let n = r.len();
            r.extend_from_slice(&glue);
            let cut = cut % (r.len() + 1);
            let (whole, whole_used, _) = parse_split(&r, &[]);
            let (split, split_used, _) = parse_split(&r, &[cut]);
            // Same verdict for any split; a success always ends at the blank line.
            prop_assert_eq!(is_done(whole), is_done(split));
            if let (Parsed::Failed(a), Parsed::Failed(b)) = (whole, split) {
                prop_assert_eq!(a, b);
            }
            if is_done(whole) {
                prop_assert_eq!(whole_used, split_used);
                prop_assert!(whole_used <= n);
            }
        }

        #[test]
        fn valid_response_any_segmentation(
            cuts in proptest::collection::vec(any::<usize>(), 0..10),
            lf_only in any::<bool>(),
            proto in "[a-z]{0,64}",
        ) {
            let text = format!(
                "HTTP/1.1 101 Switching Protocols\r\nServer: t\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\
                 Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: {proto}\r\n\r\n"
            );
            let mut r = if lf_only { text.replace("\r\n", "\n") } else { text }.into_bytes();
            let n = r.len();
            r.extend_from_slice(&[0x81, 0]);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (r.len() + 1)).collect();
            cuts.sort_unstable();
            let (res, used, p) = parse_split(&r, &cuts);
            prop_assert!(is_done(res));
            prop_assert_eq!(used, n);
            prop_assert_eq!(p.protocol(), proto.as_bytes());
        }

        #[test]
        fn request_length_accounting(
            extra in proptest::collection::vec((
                prop_oneof![
                    "[!-~]{0,12}",
                    "(?i)(host|upgrade|connection|user-agent|sec-websocket-(key|version|protocol)|x-a)",
                ],
                prop_oneof!["[ -~]{0,20}", "[\\x00-\\x7f]{0,20}"],
            ), 0..8),
            path in "[/?][ -~]{0,20}",
            port in 1u16..,
        ) {
            let u = Url { secure: false, host: b"host", port, path: path.as_bytes() };
            let key = make_key(&[7; 16]);
            let it = extra.iter().map(|(n, v)| Header { name: n.as_bytes(), value: v.as_bytes() });
            let all_valid = extra.iter().all(|(n, v)| valid_header(&Header { name: n.as_bytes(), value: v.as_bytes() }));
            match request_len(&u, &key, it.clone(), None) {
                Ok(n) => {
                    prop_assert!(all_valid);
                    let mut out = vec![0u8; n];
                    prop_assert_eq!(write_request(&u, &key, it.clone(), None, &mut out), n);
                    let text = String::from_utf8(out).unwrap();
                    prop_assert!(text.ends_with("\r\n\r\n"));
                    // Independent model: mandatory headers, then extras and
                    // defaults, first occurrence of a name (any case) wins.
                    let slash = if path.starts_with('/') { "" } else { "/" };
                    let mut want = format!(
                        "GET {slash}{path} HTTP/1.1\r\nHost: host:{port}\r\nUpgrade: websocket\r\n\
                         Connection: Upgrade\r\nSec-WebSocket-Key: {}\r\nSec-WebSocket-Version: 13\r\n",
                        std::str::from_utf8(&key).unwrap()
                    );
                    let mut seen: Vec<String> = ["host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version"]
                        .iter().map(|x| x.to_string()).collect();
                    let defaults = [("User-Agent".to_string(), "ESP8266".to_string()), ("Sec-WebSocket-Protocol".to_string(), "chat".to_string())];
                    for (n, v) in extra.iter().chain(defaults.iter()) {
                        if !seen.contains(&n.to_ascii_lowercase()) {
                            seen.push(n.to_ascii_lowercase());
                            want += &format!("{n}: {v}\r\n");
                        }
                    }
                    want += "\r\n";
                    prop_assert_eq!(text, want);
                }
                Err(e) => {
                    prop_assert_eq!(e, WS_ERR_BAD_HEADER);
                    prop_assert!(!all_valid);
                }
            }
        }

        #[test]
        fn accept_matches_reference_sha1(key in any::<[u8; KEY_LEN]>()) {
            use base64::Engine;
            let mut h = sha1_smol::Sha1::new();
            h.update(&key);
            h.update(GUID);
            let mut want = [0u8; ACCEPT_LEN];
            base64::engine::general_purpose::STANDARD.encode_slice(h.digest().bytes(), &mut want).unwrap();
            prop_assert_eq!(accept_for(&key), want);
        }

        #[test]
        fn make_key_is_base64(random in any::<[u8; 16]>(), digest in any::<[u8; 20]>()) {
            use base64::Engine;
            let mut want = [0u8; KEY_LEN];
            base64::engine::general_purpose::STANDARD.encode_slice(random, &mut want).unwrap();
            prop_assert_eq!(make_key(&random), want);
            let mut want = [0u8; ACCEPT_LEN];
            base64::engine::general_purpose::STANDARD.encode_slice(digest, &mut want).unwrap();
            let mut got = [0u8; ACCEPT_LEN];
            base64_into(&digest, &mut got);
            prop_assert_eq!(got, want);
        }
    }
}
