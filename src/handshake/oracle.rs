//! Test oracle: the response parser as it was before its flash-size rewrite
//! (byte-table version, commit bf16415), kept unchanged (but for the
//! status code's digits, collected as the parser now does) to check the
//! rewrite against it on generated responses (`tests.rs`,
//! `rewrite_matches_oracle`).

use super::{ACCEPT_LEN, MAX_PROTOCOL, MAX_RESPONSE};
use crate::status::{Status, WS_ERR_BAD_ACCEPT, WS_ERR_BAD_HANDSHAKE, WS_ERR_NOT_SWITCHING};

/// Result of [`ResponseParser::feed`].
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Parsed {
    /// All bytes consumed, the header block is not complete yet.
    NeedMore,
    /// Valid 101 response; `used` bytes of this call's data belonged to it.
    Done { used: usize },
    /// Handshake failed with this status.
    Failed(Status),
}

#[derive(Clone, Copy, PartialEq, Eq)]
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
pub struct ResponseParser {
    accept: [u8; ACCEPT_LEN],
    proto: [u8; MAX_PROTOCOL],
    proto_len: u8,
    /// Bytes consumed so far (at most MAX_RESPONSE).
    total: u16,
    phase: Phase,
    /// Position in the status line or the header name (saturating).
    pos: u8,
    /// The status line's three digits (the status code).
    code: u16,
    /// Bit k set: the name so far is a prefix of `NAMES[k]`.
    cand: u8,
    /// Header whose value is being read (`H_*`).
    hdr: u8,
    /// A CR was seen; the next byte must be LF.
    cr: bool,
    /// The value of the current header line.
    value: ValueMatch,
    /// What the header block has shown so far (judged at the blank line).
    seen: Checks,
}

/// Matching the value of one header line (reset at each `:`).
#[derive(Clone, Copy, Default)]
struct ValueMatch {
    /// Exact-match progress for the Upgrade / Accept values, and whether
    /// it failed.
    pos: u8,
    bad: bool,
    /// Connection token matcher: bytes of "upgrade" matched, or
    /// TOKEN_BROKEN; `token_end` once whitespace followed the token.
    token: u8,
    token_end: bool,
}

/// The verdict on the header block, built header by header.
#[derive(Clone, Copy, Default)]
struct Checks {
    upgrade_seen: bool,
    /// An Upgrade value other than `websocket`.
    upgrade_bad: bool,
    /// A Connection value with the token `upgrade`.
    connection_ok: bool,
    accept_count: u8,
    /// The (last) Accept value was the expected one.
    accept_ok: bool,
    extensions_seen: bool,
    protocol_count: u8,
}

impl Checks {
    /// Whether the header block makes a valid 101 response.
    fn ok(&self) -> bool {
        self.upgrade_seen
            && !self.upgrade_bad
            && self.connection_ok
            && self.accept_count == 1
            && self.accept_ok
            && !self.extensions_seen
            && self.protocol_count <= 1
    }
}

impl ResponseParser {
    /// A parser expecting `Sec-WebSocket-Accept: <accept>`.
    pub fn new(accept: [u8; ACCEPT_LEN]) -> Self {
        ResponseParser {
            accept,
            proto: [0; MAX_PROTOCOL],
            proto_len: 0,
            total: 0,
            phase: Phase::Status,
            pos: 0,
            code: 0,
            cand: 0,
            hdr: H_OTHER,
            cr: false,
            value: ValueMatch::default(),
            seen: Checks::default(),
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
                    if self.seen.ok() {
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
            let at = usize::from(self.pos);
            // The status code's digits are collected, 101 checked after them
            // (as the parser does since the HTTP status is reported).
            if (STATUS.len() - 3..STATUS.len()).contains(&at) && b.is_ascii_digit() {
                self.code = self.code * 10 + u16::from(b - b'0');
                self.pos += 1;
                return;
            }
            match STATUS.get(at) {
                Some(&e) if e == b => self.pos += 1,
                None if matches!(b, b' ' | b'\r' | b'\n') && self.code == 101 => {
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
        self.value = ValueMatch::default();
        match self.hdr {
            H_UPGRADE => self.seen.upgrade_seen = true,
            H_ACCEPT => self.seen.accept_count = self.seen.accept_count.saturating_add(1),
            H_EXTENSIONS => self.seen.extensions_seen = true,
            H_PROTOCOL => {
                self.seen.protocol_count = self.seen.protocol_count.saturating_add(1);
                self.proto_len = 0;
            }
            _ => {}
        }
    }

    /// A value byte after leading whitespace (trailing whitespace included).
    fn value_byte(&mut self, b: u8) {
        match self.hdr {
            H_UPGRADE => exact_byte(
                b"websocket",
                true,
                &mut self.value.pos,
                &mut self.value.bad,
                b,
            ),
            H_ACCEPT => exact_byte(
                &self.accept,
                false,
                &mut self.value.pos,
                &mut self.value.bad,
                b,
            ),
            H_CONNECTION => {
                if b == b',' {
                    self.token_end();
                } else if is_ws(b) {
                    self.value.token_end = self.value.token != 0;
                } else if self.value.token_end {
                    self.value.token = TOKEN_BROKEN;
                } else {
                    match b"upgrade".get(usize::from(self.value.token)) {
                        Some(&e) if e == b.to_ascii_lowercase() => self.value.token += 1,
                        _ => self.value.token = TOKEN_BROKEN,
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
        if usize::from(self.value.token) == b"upgrade".len() {
            self.seen.connection_ok = true;
        }
        self.value.token = 0;
        self.value.token_end = false;
    }

    fn end_value(&mut self) {
        match self.hdr {
            H_UPGRADE => {
                self.seen.upgrade_bad |=
                    self.value.bad || usize::from(self.value.pos) != b"websocket".len();
            }
            H_ACCEPT => {
                self.seen.accept_ok = !self.value.bad && usize::from(self.value.pos) == ACCEPT_LEN
            }
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
