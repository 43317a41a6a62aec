//! `handshake::request_len` / `write_request`: for a fuzzer-chosen path and
//! extra headers (input lines `name=value` after the first line, the path;
//! a line `!list` sets the offered protocols, else the default is used),
//! the request must equal one built here directly from docs/contract.md#request (header
//! order, case-insensitive de-duplication, defaults), or be refused with
//! BAD_HEADER exactly when a header could not be sent; `request_len` must be
//! the exact size and `write_request` must refuse a buffer of any other size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket::handshake::{self, Header};
use websocket::status::Status;
use websocket::url;
use websocket_fuzz::ref_request_auth;

const KEY: &[u8; 24] = b"dGhlIHNhbXBsZSBub25jZQ==";

fn expected(u: &url::Url, extra: &[Header], protocols: Option<&[u8]>) -> Result<Vec<u8>, Status> {
    let pairs: Vec<(&[u8], &[u8])> = extra.iter().map(|h| (h.name, h.value)).collect();
    ref_request_auth(u.userinfo, u.path, u.host, u.port, KEY, &pairs, protocols)
}

fuzz_target!(|data: &[u8]| {
    let mut lines = data.split(|&b| b == b'\n');
    let first = lines.next().unwrap_or(&[]);
    let url_text = [&b"wss://example.org:8443"[..], first].concat();
    let default_url = b"ws://127.0.0.1:9001/";
    let u = url::parse(&url_text).unwrap_or_else(|_| {
        url::parse(default_url).unwrap_or_else(|e| panic!("default URL rejected: {e:?}"))
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
