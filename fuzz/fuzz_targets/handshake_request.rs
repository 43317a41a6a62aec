//! `handshake::request_len` / `write_request`: for a fuzzer-chosen path and
//! extra headers (input lines `name=value` after the first line, the path;
//! a line `!list` sets the offered protocols, else the default is used),
//! the request must equal one built here directly from SPEC.md 3.4 (header
//! order, case-insensitive de-duplication, defaults), or be refused with
//! BAD_HEADER exactly when a header could not be sent; `request_len` must be
//! the exact size and `write_request` must refuse a buffer of any other size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket::handshake::{self, Header};
use websocket::{status, url};

const KEY: &[u8; 24] = b"dGhlIHNhbXBsZSBub25jZQ==";

fn expected(u: &url::Url, extra: &[Header], protocols: Option<&[u8]>) -> Result<Vec<u8>, i32> {
    let valid = |h: &Header| {
        !h.name.is_empty()
            && h.name
                .iter()
                .all(|&b| (0x21..0x7f).contains(&b) && b != b':')
            && !h.value.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0)
    };
    let proto = protocols.unwrap_or(b"chat");
    if !extra.iter().all(valid) || proto.iter().any(|&b| b == b'\r' || b == b'\n' || b == 0) {
        return Err(status::BAD_HEADER);
    }
    let mut r = b"GET ".to_vec();
    if !u.path.starts_with(b"/") {
        r.push(b'/');
    }
    r.extend_from_slice(u.path);
    r.extend_from_slice(b" HTTP/1.1\r\nHost: ");
    r.extend_from_slice(u.host);
    r.extend_from_slice(format!(":{}\r\n", u.port).as_bytes());
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
    line(&mut r, b"Sec-WebSocket-Key", KEY);
    line(&mut r, b"Sec-WebSocket-Version", b"13");
    for h in extra {
        line(&mut r, h.name, h.value);
    }
    line(&mut r, b"User-Agent", b"ESP8266");
    // An empty protocol list sends no protocol header.
    if !proto.is_empty() {
        line(&mut r, b"Sec-WebSocket-Protocol", proto);
    }
    r.extend_from_slice(b"\r\n");
    Ok(r)
}

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or(&[]);
    let url_text = [&b"wss://example.org:8443"[..], first].concat();
    let default_url = b"ws://127.0.0.1:9001/";
    let u = url::parse(&url_text).unwrap_or_else(|_| {
        url::parse(default_url).unwrap_or_else(|e| panic!("default URL rejected: {e}"))
    });
    let mut protocols: Option<&[u8]> = None;
    let extra: Vec<Header> = lines
        .take(16)
        .filter(|l| match l.strip_prefix(b"!") {
            Some(p) => {
                protocols = Some(p);
                false
            }
            None => true,
        })
        .map(|l| {
            let eq = l.iter().position(|&b| b == b'=').unwrap_or(l.len());
            Header {
                name: &l[..eq],
                value: l.get(eq + 1..).unwrap_or(&[]),
            }
        })
        .collect();
    let want = expected(&u, &extra, protocols);
    let len = handshake::request_len(&u, KEY, extra.iter().copied(), protocols);
    match (&want, len) {
        (Err(w), Err(g)) => assert_eq!(*w, g),
        (Ok(w), Ok(n)) => {
            assert_eq!(n, w.len(), "request_len");
            let mut buf = vec![0u8; n + 1];
            let wrote =
                handshake::write_request(&u, KEY, extra.iter().copied(), protocols, &mut buf[..n]);
            assert_eq!(wrote, n, "write_request length");
            assert!(
                buf[..n] == w[..],
                "request differs:\n{}\nvs expected\n{}",
                String::from_utf8_lossy(&buf[..n]),
                String::from_utf8_lossy(w)
            );
            assert_eq!(
                handshake::write_request(&u, KEY, extra.iter().copied(), protocols, &mut buf[..]),
                0
            );
            if n > 0 {
                assert_eq!(
                    handshake::write_request(
                        &u,
                        KEY,
                        extra.iter().copied(),
                        protocols,
                        &mut buf[..n - 1]
                    ),
                    0
                );
            }
        }
        (w, g) => panic!(
            "request_len {g:?}, expected {:?}",
            w.as_ref().map(|v| v.len())
        ),
    }
});
