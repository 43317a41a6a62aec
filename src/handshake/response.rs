//! The incremental parser for the server's handshake response.

use super::{ACCEPT_LEN, MAX_PROTOCOL, MAX_RESPONSE};
use crate::status::{Status, WS_ERR_BAD_ACCEPT, WS_ERR_BAD_HANDSHAKE, WS_ERR_NOT_SWITCHING, WS_OK};

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

// Phases (`ResponseParser::phase`).
/// Matching `HTTP/1.1 101`, `pos` bytes matched.
const P_STATUS: u8 = 0;
/// Rest of the status line.
const P_REASON: u8 = 1;
const P_LINE_START: u8 = 2;
/// Header name, `pos` bytes seen.
const P_NAME: u8 = 3;
/// Leading whitespace of a value.
const P_VALUE_START: u8 = 4;
const P_VALUE: u8 = 5;
/// The blank line came and the response was valid.
const P_DONE: u8 = 6;
/// Failed with `ResponseParser::failed`.
const P_FAILED: u8 = 7;

/// Packs a token into little-endian words, zero-padded. On the ESP8266
/// constants sit in flash, where only 32-bit loads are cheap (a byte load
/// traps into an exception handler): the parser reads its tokens with word
/// loads only, a byte at a time by shifting ([`byte_of`]), or a word at a
/// time (header names).
const fn words<const W: usize>(s: &[u8]) -> [u32; W] {
    let mut w = [0u32; W];
    let mut i = 0;
    while i < s.len() {
        w[i / 4] |= (s[i] as u32) << (8 * (i % 4));
        i += 1;
    }
    w
}

/// Byte `i` of a packed token of `W` words, `W` a power of two (the index
/// wraps: no bounds check, no branch). 0 just past the token's end; callers
/// never read further, as their position stops at the first 0 byte.
#[inline(always)]
fn byte_of<const W: usize>(token: &[u32; W], i: u8) -> u8 {
    let w = token[usize::from(i / 4) & (W - 1)];
    (w >> (8 * (i % 4))) as u8
}

/// Response headers the parser looks at (lower case), in `H_*` order.
static NAMES: [[u32; 6]; 5] = [
    words(b"upgrade"),
    words(b"connection"),
    words(b"sec-websocket-accept"),
    words(b"sec-websocket-extensions"),
    words(b"sec-websocket-protocol"),
];
const H_UPGRADE: u8 = 0;
const H_CONNECTION: u8 = 1;
const H_ACCEPT: u8 = 2;
const H_EXTENSIONS: u8 = 3;
const H_PROTOCOL: u8 = 4;
const H_OTHER: u8 = 0xFF;
static STATUS: [u32; 4] = words(b"HTTP/1.1 101");
static WEBSOCKET: [u32; 4] = words(b"websocket");
const WEBSOCKET_LEN: u8 = 9;
static UPGRADE: [u32; 2] = words(b"upgrade");
const UPGRADE_LEN: u8 = 7;
const TOKEN_BROKEN: u8 = 0xFF;

// What the header block has shown so far (`ResponseParser::seen`), judged
// at the blank line: valid is exactly `SEEN_OK` among `SEEN_JUDGED`.
const UPGRADE_SEEN: u16 = 1;
/// An Upgrade value other than `websocket`.
const UPGRADE_BAD: u16 = 2;
/// A Connection value with the token `upgrade`.
const CONNECTION_OK: u16 = 4;
const ACCEPT_SEEN: u16 = 8;
const ACCEPT_TWICE: u16 = 16;
/// The (last) Accept value was the expected one.
const ACCEPT_OK: u16 = 32;
const EXTENSIONS_SEEN: u16 = 64;
const PROTOCOL_SEEN: u16 = 128;
const PROTOCOL_TWICE: u16 = 256;
const SEEN_JUDGED: u16 = UPGRADE_SEEN
    | UPGRADE_BAD
    | CONNECTION_OK
    | ACCEPT_SEEN
    | ACCEPT_TWICE
    | ACCEPT_OK
    | EXTENSIONS_SEEN
    | PROTOCOL_TWICE;
const SEEN_OK: u16 = UPGRADE_SEEN | CONNECTION_OK | ACCEPT_SEEN | ACCEPT_OK;

fn is_ws(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// Incremental parser for the server's handshake response (no heap, no
/// buffering of the response).
///
/// Checks: status line starts `HTTP/1.1 101` followed by SP or a line end,
/// else `WS_ERR_NOT_SWITCHING` at the first mismatching byte (at the end of
/// the three digits for another status code, which is kept:
/// [`ResponseParser::http_status`]). Header names are ASCII case-insensitive, values are trimmed of SP/HT. `Upgrade` must be
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
    proto_len: u8,
    /// Bytes consumed so far (at most MAX_RESPONSE + 1).
    total: u16,
    /// `P_*`.
    phase: u8,
    /// A CR was seen; the next byte must be LF.
    cr: bool,
    /// Position in the status line or the header name (saturating).
    pos: u8,
    /// Bit k set: the name's words so far are those of `NAMES[k]`.
    cand: u8,
    /// Header whose value is being read (`H_*`).
    hdr: u8,
    /// The header name's current word, lower case (`name_byte`).
    word: u32,
    /// Value of the current header line: bytes of the expected Upgrade /
    /// Accept value matched, or of the token `upgrade` in a Connection value
    /// (`TOKEN_BROKEN` once it cannot be that token).
    vpos: u8,
    /// The Upgrade / Accept value cannot match any more.
    vbad: bool,
    /// Connection: whitespace followed the token.
    token_end: bool,
    /// `UPGRADE_SEEN` ...: what the header block has shown so far.
    seen: u16,
    /// The status of `P_FAILED`.
    failed: Status,
    /// The status code of the status line (its three digits), kept when
    /// it is not 101: see [`ResponseParser::http_status`].
    code: u16,
}

impl ResponseParser {
    /// A parser expecting `Sec-WebSocket-Accept: <accept>`.
    pub fn new(accept: [u8; ACCEPT_LEN]) -> Self {
        ResponseParser {
            accept,
            proto: [0; MAX_PROTOCOL],
            proto_len: 0,
            total: 0,
            phase: P_STATUS,
            cr: false,
            pos: 0,
            cand: 0,
            hdr: H_OTHER,
            word: 0,
            vpos: 0,
            vbad: false,
            token_end: false,
            seen: 0,
            failed: WS_OK,
            code: 0,
        }
    }

    /// Feeds the next bytes of the response. `Done { used }` tells how many
    /// bytes of this call's `data` belonged to the response; the rest are
    /// WebSocket frames. Once done or failed, further calls return
    /// `Done { used: 0 }` or the same `Failed` without looking at `data`.
    /// Out of line: the handshake is parsed once per connection, and its
    /// caller is the receive path.
    #[cold]
    #[inline(never)]
    pub fn feed(&mut self, data: &[u8]) -> Parsed {
        let mut used = 0;
        while self.phase < P_DONE {
            let Some(&b) = data.get(used) else {
                return Parsed::NeedMore;
            };
            used += 1;
            self.total = self.total.saturating_add(1);
            let step = if usize::from(self.total) > MAX_RESPONSE {
                Err(WS_ERR_BAD_HANDSHAKE)
            } else {
                self.byte(b)
            };
            match step {
                Err(code) => {
                    self.phase = P_FAILED;
                    self.failed = code;
                }
                Ok(true) if self.seen & SEEN_JUDGED == SEEN_OK => self.phase = P_DONE,
                Ok(true) => {
                    self.phase = P_FAILED;
                    self.failed = WS_ERR_BAD_ACCEPT;
                }
                Ok(false) => {}
            }
        }
        if self.phase == P_DONE {
            Parsed::Done { used }
        } else {
            Parsed::Failed(self.failed)
        }
    }

    /// The server's `Sec-WebSocket-Protocol` value (empty if none), trimmed.
    /// Complete once `feed` returned `Done`.
    pub fn protocol(&self) -> &[u8] {
        self.proto.get(..usize::from(self.proto_len)).unwrap_or(&[])
    }

    /// The server's HTTP status when the response failed with
    /// `WS_ERR_NOT_SWITCHING` after a well-formed `HTTP/1.1 <3 digits>`
    /// (e.g. 403), else 0.
    pub fn http_status(&self) -> u16 {
        if self.phase == P_FAILED && self.failed == WS_ERR_NOT_SWITCHING {
            self.code
        } else {
            0
        }
    }

    /// One byte of the response: `Ok(true)` at the blank line that ends the
    /// header block, `Err` on a failure.
    fn byte(&mut self, b: u8) -> Result<bool, Status> {
        if self.cr {
            self.cr = false;
            if b != b'\n' {
                return Err(WS_ERR_BAD_HANDSHAKE);
            }
        }
        if self.phase == P_STATUS {
            let e = byte_of(&STATUS, self.pos);
            // The three digits of the status code are collected (not
            // matched) so that a refusal's code is known; 101 is checked
            // after them.
            if e != 0 && self.pos >= 9 && b.is_ascii_digit() {
                self.code = self.code * 10 + u16::from(b - b'0');
                self.pos += 1;
                return Ok(false);
            }
            if e != 0 {
                if e != b {
                    self.code = 0;
                    return Err(WS_ERR_NOT_SWITCHING);
                }
                self.pos += 1;
                return Ok(false);
            }
            if !matches!(b, b' ' | b'\r' | b'\n') {
                self.code = 0;
                return Err(WS_ERR_NOT_SWITCHING);
            }
            if self.code != 101 {
                return Err(WS_ERR_NOT_SWITCHING);
            }
            // The status line's end or the reason phrase, as below.
            self.phase = P_REASON;
        }
        let phase = self.phase;
        match b {
            0 => return Err(WS_ERR_BAD_HANDSHAKE),
            b'\r' | b'\n' if phase == P_NAME => return Err(WS_ERR_BAD_HANDSHAKE),
            b'\r' => self.cr = true,
            b'\n' if phase == P_LINE_START => return Ok(true),
            b'\n' => {
                if phase >= P_VALUE_START {
                    self.end_value();
                }
                self.phase = P_LINE_START;
            }
            _ if phase == P_REASON => {}
            b' ' | b'\t' | b':' if phase == P_LINE_START => return Err(WS_ERR_BAD_HANDSHAKE),
            _ if phase == P_LINE_START => {
                self.phase = P_NAME;
                self.pos = 0;
                self.word = 0;
                self.cand = (1 << NAMES.len()) - 1;
                self.name_byte(b);
            }
            b':' if phase == P_NAME => self.start_value(),
            _ if phase == P_NAME => self.name_byte(b),
            b' ' | b'\t' if phase == P_VALUE_START => {}
            _ => {
                self.phase = P_VALUE;
                return self.value_byte(b);
            }
        }
        Ok(false)
    }

    /// A header name byte: gathered, lower-cased, into `word`; each full
    /// word is compared with the candidates' words.
    fn name_byte(&mut self, b: u8) {
        self.word |= u32::from(b.to_ascii_lowercase()) << (8 * (self.pos % 4));
        if self.pos % 4 == 3 {
            self.name_word();
        }
        self.pos = self.pos.saturating_add(1);
    }

    /// Drops the candidates whose word `pos / 4` differs from `word` (0 past
    /// a name's end), then starts the next word.
    fn name_word(&mut self) {
        let i = usize::from(self.pos / 4);
        for (k, name) in NAMES.iter().enumerate() {
            if name.get(i).map_or(0, |w| *w) != self.word {
                self.cand &= !(1 << k);
            }
        }
        self.word = 0;
    }

    fn start_value(&mut self) {
        self.phase = P_VALUE_START;
        // The last, partial (possibly empty) word: with it, a candidate
        // left is the whole name, not a prefix of it (names hold no 0 byte,
        // and every word was compared, zero padding included). At most one
        // is left, as no name is another's.
        self.name_word();
        self.hdr = (0u8..5)
            .find(|k| self.cand & (1 << k) != 0)
            .unwrap_or(H_OTHER);
        self.vpos = 0;
        self.vbad = false;
        self.token_end = false;
        // Each header's bit; a second Accept or Protocol sets its TWICE bit
        // (the bit above SEEN).
        let bit = match self.hdr {
            H_UPGRADE => UPGRADE_SEEN,
            H_ACCEPT => ACCEPT_SEEN,
            H_EXTENSIONS => EXTENSIONS_SEEN,
            H_PROTOCOL => {
                self.proto_len = 0;
                PROTOCOL_SEEN
            }
            _ => 0,
        };
        if self.hdr == H_ACCEPT || self.hdr == H_PROTOCOL {
            self.seen |= (self.seen & bit) << 1;
        }
        self.seen |= bit;
    }

    /// A value byte after leading whitespace (trailing whitespace included).
    fn value_byte(&mut self, b: u8) -> Result<bool, Status> {
        let lb = b.to_ascii_lowercase();
        match self.hdr {
            H_UPGRADE => self.exact(byte_of(&WEBSOCKET, self.vpos), lb, b),
            // Case-sensitive: compared as received.
            H_ACCEPT => {
                let e = self.accept.get(usize::from(self.vpos)).map_or(0, |e| *e);
                self.exact(e, b, b);
            }
            H_CONNECTION => {
                if b == b',' {
                    self.token_done();
                } else if is_ws(b) {
                    self.token_end = self.vpos != 0;
                } else {
                    let e = byte_of(&UPGRADE, self.vpos);
                    self.vpos = if !self.token_end && e != 0 && e == lb {
                        self.vpos + 1
                    } else {
                        TOKEN_BROKEN
                    };
                }
            }
            H_PROTOCOL => {
                if let Some(slot) = self.proto.get_mut(usize::from(self.proto_len)) {
                    *slot = b;
                    self.proto_len += 1;
                } else if !is_ws(b) {
                    return Err(WS_ERR_BAD_HANDSHAKE);
                }
            }
            _ => {}
        }
        Ok(false)
    }

    /// An Upgrade / Accept value byte (`folded` as compared, `b` as
    /// received) against the expected byte at `vpos` (0 past the end),
    /// allowing trailing whitespace.
    fn exact(&mut self, expected: u8, folded: u8, b: u8) {
        if self.vbad {
            return;
        }
        match expected {
            0 if is_ws(b) => {}
            e if e != 0 && e == folded => self.vpos += 1,
            _ => self.vbad = true,
        }
    }

    /// The end of a Connection token (a `,` or the line's end).
    fn token_done(&mut self) {
        if self.vpos == UPGRADE_LEN {
            self.seen |= CONNECTION_OK;
        }
        self.vpos = 0;
        self.token_end = false;
    }

    fn end_value(&mut self) {
        match self.hdr {
            H_UPGRADE if self.vbad || self.vpos != WEBSOCKET_LEN => self.seen |= UPGRADE_BAD,
            // A second Accept header fails anyway (ACCEPT_TWICE): its
            // verdict need not replace the first one's.
            H_ACCEPT if !self.vbad && usize::from(self.vpos) == ACCEPT_LEN => {
                self.seen |= ACCEPT_OK
            }
            H_CONNECTION => self.token_done(),
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
