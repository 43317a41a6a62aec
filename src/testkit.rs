//! The port's side of a connection, for host programs that drive the
//! library through its C API with a fake port: the library's own tests,
//! the fuzz targets and the benchmarks (feature `std`). One copy of the
//! loops they all need: delivering the `ws_event_sent` events the port owes,
//! handing the library a segment it may modify, and the server's 101 answer
//! to the request the library sent (its SHA-1 from sha1_smol, so a port
//! whose `ws_port_sha1` is wrong fails the handshake, as on a real server).

use crate::capi::{ws_event_received, ws_event_sent, ws_info};
use crate::handshake::{accept_for, KEY_LEN};

/// The port's event loop for sends: while `take_due` says an event is owed
/// (and counts it as delivered), calls `ws_event_sent(ws)`. Returns how many
/// were delivered, or `Err` with that number once `limit` is reached (a
/// library that keeps the port sending forever is a bug to report).
///
/// # Safety
/// `ws` as for the entry points (see [`ws_info`]).
pub unsafe fn deliver_sent(
    ws: *mut ws_info,
    limit: usize,
    mut take_due: impl FnMut() -> bool,
) -> Result<usize, usize> {
    let mut n = 0;
    while take_due() {
        if n == limit {
            return Err(n);
        }
        // SAFETY: the caller's contract.
        unsafe { ws_event_sent(ws) };
        n += 1;
    }
    Ok(n)
}

/// Hands `segment` to `ws` as a port does: through a buffer of its own,
/// which the library may modify during the call (`scratch`, reused).
///
/// # Safety
/// `ws` as for the entry points (see [`ws_info`]).
pub unsafe fn feed_segment(ws: *mut ws_info, segment: &[u8], scratch: &mut Vec<u8>) {
    scratch.clear();
    scratch.extend_from_slice(segment);
    // SAFETY: the caller's contract for `ws`; `scratch` holds the segment's
    // bytes, writable and used by nothing else during the call.
    unsafe { ws_event_received(ws, scratch.as_mut_ptr(), scratch.len()) };
}

/// SHA-1 (sha1_smol, independent of the port's `ws_port_sha1`).
pub fn sha1(data: &[u8]) -> [u8; 20] {
    sha1_smol::Sha1::from(data).digest().bytes()
}

/// The server's 101 answer to the handshake request at the start of `sent`,
/// with `extra` header lines (each ending in CRLF); `None` while the
/// request is incomplete or has no `Sec-WebSocket-Key`.
pub fn response_to(sent: &[u8], extra: &str) -> Option<Vec<u8>> {
    let end = sent.windows(4).position(|w| w == b"\r\n\r\n")?;
    let request = std::str::from_utf8(&sent[..end]).ok()?;
    let key = request.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim())
    })?;
    let key: &[u8; KEY_LEN] = key.as_bytes().try_into().ok()?;
    let accept = accept_for(key, sha1);
    let mut r = Vec::with_capacity(160 + extra.len());
    r.extend_from_slice(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n",
    );
    r.extend_from_slice(extra.as_bytes());
    r.extend_from_slice(b"Sec-WebSocket-Accept: ");
    r.extend_from_slice(&accept);
    r.extend_from_slice(b"\r\n\r\n");
    Some(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_the_rfc_example() {
        let req =
            b"GET / HTTP/1.1\r\nHost: h\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n";
        let r = String::from_utf8(response_to(req, "X: y\r\n").unwrap()).unwrap();
        assert!(r.starts_with("HTTP/1.1 101 "), "{r}");
        assert!(r.contains("\r\nX: y\r\n"), "{r}");
        assert!(
            r.ends_with("\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
            "{r}"
        );
        assert_eq!(response_to(&req[..20], ""), None);
    }
}
