//! The request writer: one writer (`emit`) behind both the request's
//! exact length and its bytes, so the two cannot disagree.

use super::digest::base64_into;
use super::{copy, Header, KEY_LEN};
use crate::status::{Status, WS_ERR_BAD_HEADER, WS_ERR_NO_HOST};
use crate::url::{self, Url, MAX_CREDENTIALS};

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
const AUTHORIZATION: &[u8] = b"Authorization";
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

pub(super) fn valid_header(h: &Header) -> bool {
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

/// The request up to the key: request line, `Host`, `Upgrade`,
/// `Connection` and the `Sec-WebSocket-Key` header's name.
fn emit_head(url: &Url, sink: &mut Sink) {
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
}

/// Where the `KEY_LEN` bytes of the key start in the request for `url`
/// (a reconnection sends the same request with a fresh key there).
pub fn key_offset(url: &Url) -> usize {
    let mut sink = Sink { out: None, n: 0 };
    emit_head(url, &mut sink);
    sink.n
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
    // `user:password@` in the URL: Basic authentication (RFC 7617); a
    // malformed one is a URL error.
    let mut creds = [0u8; MAX_CREDENTIALS];
    let mut b64 = [0u8; 6 + MAX_CREDENTIALS.div_ceil(3) * 4];
    let mut auth = Header {
        name: AUTHORIZATION,
        value: &[],
    };
    let c = url::credentials(url.userinfo, &mut creds).ok_or(WS_ERR_NO_HOST)?;
    if !c.is_empty() {
        let (head, tail) = b64.split_at_mut(6);
        copy(head, b"Basic ");
        base64_into(c, tail);
        auth.value = b64.get(..6 + c.len().div_ceil(3) * 4).unwrap_or(&[]);
    }
    emit_head(url, sink);
    sink.put(key);
    sink.put(b"\r\nSec-WebSocket-Version: 13\r\n");
    for (i, h) in extra.clone().enumerate() {
        let dup = MANDATORY.iter().any(|m| m.eq_ignore_ascii_case(h.name))
            || named(extra.clone(), i, h.name);
        if !dup {
            sink.header(&h);
        }
    }
    for d in [auth, USER_AGENT, proto] {
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
/// containing CR, LF or NUL, or `Err(WS_ERR_NO_HOST)` for a URL userinfo that
/// [`url::credentials`] refuses.
///
/// Request: `GET <path> HTTP/1.1`, `Host: <host>:<port>`, `Upgrade`,
/// `Connection`, `Sec-WebSocket-Key`, `Sec-WebSocket-Version: 13`, the extra
/// headers, then `Authorization: Basic <base64 of user:password>` when the
/// URL has a userinfo, `User-Agent: ESP8266` and `Sec-WebSocket-Protocol:
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
