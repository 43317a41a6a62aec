use super::digest::{base64_into, GUID};
use super::request::valid_header;
use super::*;
use crate::status::{
    Status, WS_ERR_BAD_ACCEPT, WS_ERR_BAD_HANDSHAKE, WS_ERR_BAD_HEADER, WS_ERR_NOT_SWITCHING,
};
use crate::url::Url;
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
    crate::check_size::<ResponseParser>(160);
}

#[test]
fn rfc_sample_key() {
    assert_eq!(&make_key(b"the sample nonce"), RFC_KEY);
    assert_eq!(&accept_for(RFC_KEY, sha1), RFC_ACCEPT);
}

/// The reference SHA-1 (the port's, on the host).
fn sha1(data: &[u8]) -> [u8; 20] {
    sha1_smol::Sha1::from(data).digest().bytes()
}

#[test]
fn accept_hashes_key_and_guid_once_and_encodes_the_digest() {
    let mut calls = Vec::new();
    let a = accept_for(RFC_KEY, |m| {
        calls.push(m.to_vec());
        [0xfb; 20]
    });
    assert_eq!(calls, vec![[&RFC_KEY[..], GUID].concat()]);
    assert_eq!(&a, b"+/v7+/v7+/v7+/v7+/v7+/v7+/s=");
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

/// Every one of the 64 digits (computed, not looked up) in order: the 48
/// bytes whose 6-bit groups are 0, 1, ..., 63.
#[test]
fn base64_whole_alphabet() {
    let mut src = [0u8; 48];
    for (i, c) in src.as_chunks_mut::<3>().0.iter_mut().enumerate() {
        let v = (0..4).fold(0u32, |a, k| a << 6 | (4 * i as u32 + k));
        *c = [(v >> 16) as u8, (v >> 8) as u8, v as u8];
    }
    let mut o = [0u8; 64];
    base64_into(&src, &mut o);
    assert_eq!(
        &o,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    );
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
fn basic_authentication_from_the_url() {
    use base64::Engine as _;
    let b64 = |s: &[u8]| {
        let mut out = vec![0u8; s.len().div_ceil(3) * 4];
        let n = base64::engine::general_purpose::STANDARD
            .encode_slice(s, &mut out)
            .unwrap();
        String::from_utf8(out[..n].to_vec()).unwrap()
    };
    let auth = |r: &str| -> Option<String> {
        r.split("\r\n")
            .find_map(|l| l.strip_prefix("Authorization: "))
            .map(str::to_string)
    };
    // RFC 7617's example, and where the header goes.
    let r = request("ws://Aladdin:open%20sesame@h:81/p", &[("X-A", "1")]).unwrap();
    assert_eq!(
        auth(&r).as_deref(),
        Some("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")
    );
    assert!(r.contains("X-A: 1\r\nAuthorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\nUser-Agent"));
    assert!(
        r.starts_with("GET /p HTTP/1.1\r\nHost: h:81\r\n"),
        "no credentials in Host"
    );
    assert!(!r.contains("Aladdin"), "credentials only in base64");
    // Every length modulo 3, percent-decoding, user without password.
    for (ui, plain) in [
        ("u", &b"u"[..]),
        ("us", b"us"),
        ("u:", b"u:"),
        ("u:p", b"u:p"),
        ("%75%3A%70%40%e2%82%AC", "u:p@\u{20ac}".as_bytes()),
        ("a:b:c", b"a:b:c"),
    ] {
        let r = request(&format!("ws://{ui}@h/"), &[]).unwrap();
        assert_eq!(auth(&r), Some(format!("Basic {}", b64(plain))), "{ui}");
    }
    let long = "x".repeat(crate::url::MAX_CREDENTIALS);
    let r = request(&format!("ws://{long}@h/"), &[]).unwrap();
    assert_eq!(auth(&r), Some(format!("Basic {}", b64(long.as_bytes()))));
    // None without a userinfo (or an empty one); an explicit header wins.
    assert_eq!(auth(&request("ws://h/", &[]).unwrap()), None);
    assert_eq!(auth(&request("ws://@h/", &[]).unwrap()), None);
    // A malformed userinfo: -4, as for a URL error.
    for bad in ["u%zz", "u p", "u%4"] {
        let s = format!("ws://{bad}@h/");
        let u = crate::url::parse(s.as_bytes()).unwrap_or_else(|e| panic!("{s:?}: {e:?}"));
        assert_eq!(
            request_len(&u, RFC_KEY, hdrs(&[]), None),
            Err(crate::status::WS_ERR_NO_HOST),
            "{bad:?}"
        );
    }
    let r = request("ws://u:p@h/", &[("authorization", "Bearer t")]).unwrap();
    assert!(r.contains("authorization: Bearer t\r\n"));
    assert_eq!(auth(&r), None);
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

/// Each of `cases`, parsed whole, fails with `status`.
fn all_fail(cases: &[Vec<u8>], status: Status) {
    for c in cases {
        assert_eq!(
            parse_all(c),
            Parsed::Failed(status),
            "{}",
            String::from_utf8_lossy(c)
        );
    }
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
    // Fails as soon as a mismatching byte is seen; a status code other
    // than 101 once it is complete, and it is kept.
    let mut p = ResponseParser::new(*RFC_ACCEPT);
    assert_eq!(p.feed(b"HTTP/1.0"), Parsed::Failed(WS_ERR_NOT_SWITCHING));
    assert_eq!(p.http_status(), 0);
    let mut p = ResponseParser::new(*RFC_ACCEPT);
    assert_eq!(p.feed(b"HTTP/1.1 4"), Parsed::NeedMore);
    assert_eq!(p.http_status(), 0);
    assert_eq!(p.feed(b"03 "), Parsed::Failed(WS_ERR_NOT_SWITCHING));
    assert_eq!(p.feed(b"anything"), Parsed::Failed(WS_ERR_NOT_SWITCHING));
    assert_eq!(p.http_status(), 403);
    assert_eq!(parse_all(b"HTTP/1.1 10"), Parsed::NeedMore);
    for (s, code) in [
        ("HTTP/1.1 200 OK\r\n", 200),
        ("HTTP/1.1 404\r\n", 404),
        ("HTTP/1.1 503\n", 503),
        ("HTTP/1.1 1010\r\n", 0),
        ("HTTP/1.1 40x\r\n", 0),
        ("HTTP/1.1 4033\r\n", 0),
        ("HTTP/1.1  403\r\n", 0),
    ] {
        let mut p = ResponseParser::new(*RFC_ACCEPT);
        assert_eq!(
            p.feed(s.as_bytes()),
            Parsed::Failed(WS_ERR_NOT_SWITCHING),
            "{s:?}"
        );
        assert_eq!(p.http_status(), code, "{s:?}");
    }
    // Not for a 101 that fails later.
    let mut p = ResponseParser::new(*RFC_ACCEPT);
    assert_eq!(
        p.feed(b"HTTP/1.1 101 x\r\n\r\n"),
        Parsed::Failed(WS_ERR_BAD_ACCEPT)
    );
    assert_eq!(p.http_status(), 0);
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
    all_fail(&cases, WS_ERR_BAD_ACCEPT);
    // With another expected accept value, the RFC response fails.
    assert_eq!(
        ResponseParser::new(accept_for(&make_key(&[0; 16]), sha1)).feed(&good()),
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
    all_fail(&cases, WS_ERR_BAD_HANDSHAKE);
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
        let u = Url { secure: false, userinfo: b"", host: b"host", port, path: path.as_bytes() };
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
        prop_assert_eq!(accept_for(&key, sha1), want);
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

/// How many of `rewrite_matches_oracle`'s cases were valid responses.
static DONE: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    /// The rewritten parser (word-packed tokens, flag bits) against the one
    /// it replaced (`oracle.rs`), on responses built from the pieces that
    /// matter to it (the five header names in several spellings and their
    /// prefixes and extensions, right and wrong values, CR / LF / NUL / tab
    /// / space in odd places), in any segmentation: the same result for
    /// every call, the same protocol.
    #[test]
    fn rewrite_matches_oracle(
        status in prop_oneof![3 => Just(0usize), 1 => 0usize..8],
        // The three headers a valid response needs, each kept (index 20 and
        // up) or replaced by a generated line, then extra lines, in an order.
        needed in proptest::collection::vec(prop_oneof![3 => Just((99usize, 99usize, 0usize)), 1 => (0usize..20, 0usize..20, 0usize..6)], 3),
        extra in proptest::collection::vec((0usize..20, 0usize..20, 0usize..6), 0..4),
        order in any::<u64>(),
        noise in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..2),
        cuts in proptest::collection::vec(any::<usize>(), 0..6),
    ) {
        const STATUS: [&str; 8] = [
            "HTTP/1.1 101 Switching Protocols\r\n", "HTTP/1.1 101\r\n", "HTTP/1.1 101\n",
            "HTTP/1.1 1010\r\n", "HTTP/1.1 200 OK\r\n", "HTTP/1.1 101\r", "http/1.1 101 \r\n", "HTTP/1.1 10",
        ];
        const NAMES: [&str; 20] = [
            "Upgrade", "upgrade", "UPGRADE", "Upgrad", "Upgradex", "Connection", "connectio",
            "Sec-WebSocket-Accept", "sec-websocket-accept", "Sec-WebSocket-Accep", "Sec-WebSocket-Accept2",
            "Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol", "SEC-WEBSOCKET-PROTOCOL",
            "Sec-WebSocket-Protocols", "Server", "X", "Sec-WebSocket-", "conn", "upgr",
        ];
        const VALUES: [&str; 20] = [
            "websocket", "WebSocket", " websocket \t", "websockets", "web socket", "Upgrade",
            "keep-alive, Upgrade", "upgrade ,x", "Upgrade x", "up grade", "upgrade,upgradex",
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", " s3pPLMBiTxaQ9kYGzzhZRbK+xOo= ", "S3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
            "s3pPLMBiTxaQ9kYGzzhZRbK+xOo", "chat", "  chat  ", "",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  ",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ];
        const ENDS: [&str; 6] = ["\r\n", "\n", "\r\n", "\rx", "\r\n ", "\r\n\t"];
        const KEPT: [(usize, usize); 3] = [(0, 0), (5, 6), (7, 11)];
        let mut lines: Vec<(usize, usize, usize)> = needed
            .iter()
            .zip(KEPT)
            .map(|(&(n, v, e), (kn, kv))| if n >= 20 { (kn, kv, e) } else { (n, v, e) })
            .chain(extra)
            .collect();
        let mut o = order;
        for i in (1..lines.len()).rev() {
            lines.swap(i, (o % (i as u64 + 1)) as usize);
            o /= i as u64 + 1;
        }
        let mut r = STATUS[status].as_bytes().to_vec();
        for &(n, v, e) in &lines {
            r.extend_from_slice(NAMES[n].as_bytes());
            r.extend_from_slice(if e == 5 { b":" } else { b": " });
            r.extend_from_slice(VALUES[v].as_bytes());
            r.extend_from_slice(ENDS[e].as_bytes());
        }
        r.extend_from_slice(b"\r\n\x81\x00");
        for &(at, b) in &noise {
            let at = at % r.len();
            r[at] = b;
        }
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (r.len() + 1)).collect();
        cuts.push(r.len());
        cuts.sort_unstable();
        let mut new = ResponseParser::new(*RFC_ACCEPT);
        let mut old = oracle::ResponseParser::new(*RFC_ACCEPT);
        let mut at = 0;
        for &c in &cuts {
            let seg = &r[at..c];
            at = c;
            let want = match old.feed(seg) {
                oracle::Parsed::NeedMore => Parsed::NeedMore,
                oracle::Parsed::Done { used } => Parsed::Done { used },
                oracle::Parsed::Failed(s) => Parsed::Failed(s),
            };
            prop_assert_eq!(new.feed(seg), want);
            prop_assert_eq!(new.protocol(), old.protocol());
        }
        DONE.fetch_add(is_done(new.feed(&[])) as usize, core::sync::atomic::Ordering::Relaxed);
    }
}
