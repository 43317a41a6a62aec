//! `ws://` / `wss://` URL parser.
//!
//! Grammar accepted: `scheme "://" [userinfo "@"] host [":" port] [path]
//! ["#" fragment]` where
//! * `scheme` is `ws` or `wss`, ASCII case-insensitive, else
//!   [`WS_ERR_BAD_SCHEME`] (-1);
//! * `userinfo` (`user[:password]`, RFC 3986 section 3.2.1) is what precedes
//!   the last `@` before the first `/`, `?`, `#` or the end. Percent-encoded
//!   bytes are decoded ([`credentials`]) by the request writer, which
//!   sends `Authorization: Basic`; it fails a `%` not followed by two hex
//!   digits, a space, control byte or DEL, or more than [`MAX_CREDENTIALS`]
//!   bytes once decoded with [`WS_ERR_NO_HOST`] (-4) (not checked here);
//! * `host` runs up to the first `:`, `/`, `?`, `#` or the end. It is checked
//!   in this order: 256 bytes or longer → [`WS_ERR_HOST_TOO_LONG`] (-2); empty →
//!   [`WS_ERR_NO_HOST`] (-4); containing `[` (IPv6
//!   literals are not supported: espconn is IPv4 only), a space, a control
//!   byte (< 0x20) or DEL → [`WS_ERR_NO_HOST`] (-4);
//! * `port` is one or more decimal digits with a value in 1..=65535, else
//!   [`WS_ERR_BAD_PORT`] (-3) (also for `ws://h:` and `ws://h:8x`). Default 80 for
//!   `ws`, 443 for `wss`;
//! * `path` is the raw rest starting at `/` or `?` (possibly empty), without
//!   the `#fragment`. The request writer sends an empty path as `/` and
//!   `?q` as `/?q`. A space, control byte or DEL in the path would corrupt
//!   the request line and is rejected as a malformed URL with
//!   [`WS_ERR_BAD_SCHEME`] (-1).
//!
//! Nothing is copied: the returned slices borrow from the input.

use crate::status::{
    Status, WS_ERR_BAD_PORT, WS_ERR_BAD_SCHEME, WS_ERR_HOST_TOO_LONG, WS_ERR_NO_HOST,
};

#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(test, derive(Debug))]
pub struct Url<'a> {
    pub secure: bool,
    /// The raw (percent-encoded) `user[:password]`, empty for none.
    pub userinfo: &'a [u8],
    pub host: &'a [u8],
    pub port: u16,
    pub path: &'a [u8],
}

/// Longest accepted host name is `MAX_HOST - 1` bytes.
pub const MAX_HOST: usize = 256;
/// Longest `user:password` accepted, once percent-decoded.
pub const MAX_CREDENTIALS: usize = 96;

fn hex(b: u8) -> Option<u8> {
    let d = b.wrapping_sub(b'0');
    let l = (b | 0x20).wrapping_sub(b'a');
    if d < 10 {
        Some(d)
    } else if l < 6 {
        Some(l + 10)
    } else {
        None
    }
}

/// `userinfo` percent-decoded into `out`: `user:password` as Basic
/// authentication encodes it (the first `:` left literal separates them).
/// `None` for a malformed `%`, a space, control byte or DEL, or more than
/// [`MAX_CREDENTIALS`] bytes.
pub fn credentials<'o>(userinfo: &[u8], out: &'o mut [u8; MAX_CREDENTIALS]) -> Option<&'o [u8]> {
    let mut n = 0;
    let mut i = 0;
    while let Some(&b) = userinfo.get(i) {
        let v = if b == b'%' {
            i += 2;
            hex(*userinfo.get(i - 1)?)? << 4 | hex(*userinfo.get(i)?)?
        } else if is_bad_byte(b) {
            return None;
        } else {
            b
        };
        *out.get_mut(n)? = v;
        n += 1;
        i += 1;
    }
    out.get(..n)
}

fn strip_prefix_ci<'a>(s: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    let (head, tail) = s.split_at_checked(prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then_some(tail)
}

/// Space, control bytes and DEL: never valid in a host or a request target.
fn is_bad_byte(b: u8) -> bool {
    b <= b' ' || b == 0x7F
}

/// Parses a WebSocket URL; on failure returns the status code (see the module docs).
pub fn parse(url: &[u8]) -> Result<Url<'_>, Status> {
    let (secure, mut rest) = if let Some(r) = strip_prefix_ci(url, b"ws://") {
        (false, r)
    } else if let Some(r) = strip_prefix_ci(url, b"wss://") {
        (true, r)
    } else {
        return Err(WS_ERR_BAD_SCHEME);
    };

    let authority = rest
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let mut userinfo: &[u8] = &[];
    if let Some(at) = rest
        .get(..authority)
        .and_then(|a| a.iter().rposition(|&b| b == b'@'))
    {
        userinfo = rest.get(..at).unwrap_or(&[]);
        rest = rest.get(at + 1..).unwrap_or(&[]);
    }

    let host_end = rest
        .iter()
        .position(|&b| matches!(b, b':' | b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let (host, mut rest) = rest.split_at_checked(host_end).ok_or(WS_ERR_NO_HOST)?;
    if host.len() >= MAX_HOST {
        return Err(WS_ERR_HOST_TOO_LONG);
    }
    if host.is_empty() || host.iter().any(|&b| b == b'[' || is_bad_byte(b)) {
        return Err(WS_ERR_NO_HOST);
    }

    let mut port: u16 = if secure { 443 } else { 80 };
    if let Some((b':', after)) = rest.split_first() {
        let end = after
            .iter()
            .position(|&b| matches!(b, b'/' | b'?' | b'#'))
            .unwrap_or(after.len());
        let (digits, tail) = after.split_at_checked(end).ok_or(WS_ERR_BAD_PORT)?;
        port = parse_port(digits).ok_or(WS_ERR_BAD_PORT)?;
        rest = tail;
    }

    // `rest` is now empty or starts with '/', '?' or '#'.
    let path_end = rest.iter().position(|&b| b == b'#').unwrap_or(rest.len());
    let path = rest.get(..path_end).unwrap_or(&[]);
    if path.iter().any(|&b| is_bad_byte(b)) {
        return Err(WS_ERR_BAD_SCHEME);
    }
    Ok(Url {
        secure,
        userinfo,
        host,
        port,
        path,
    })
}

/// Decimal digits only, value 1..=65535.
fn parse_port(digits: &[u8]) -> Option<u16> {
    if digits.is_empty() {
        return None;
    }
    let mut v: u32 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u32::from(d.wrapping_sub(b'0'));
        if v > 65535 {
            return None;
        }
    }
    match u16::try_from(v) {
        Ok(p) if p != 0 => Some(p),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ok(s: &str) -> (bool, String, u16, String) {
        let u = parse(s.as_bytes()).unwrap_or_else(|e| panic!("{s}: {e:?}"));
        (
            u.secure,
            String::from_utf8(u.host.to_vec()).unwrap(),
            u.port,
            String::from_utf8(u.path.to_vec()).unwrap(),
        )
    }

    fn err(s: &[u8]) -> Status {
        parse(s)
            .err()
            .unwrap_or_else(|| panic!("{:?} parsed", String::from_utf8_lossy(s)))
    }

    #[test]
    fn good_urls() {
        assert_eq!(
            ok("ws://example.com"),
            (false, "example.com".into(), 80, "".into())
        );
        assert_eq!(
            ok("wss://example.com"),
            (true, "example.com".into(), 443, "".into())
        );
        assert_eq!(ok("WS://h"), (false, "h".into(), 80, "".into()));
        assert_eq!(ok("WsS://h"), (true, "h".into(), 443, "".into()));
        assert_eq!(
            ok("ws://h:8080/a/b?c=d"),
            (false, "h".into(), 8080, "/a/b?c=d".into())
        );
        assert_eq!(ok("ws://h?x=1"), (false, "h".into(), 80, "?x=1".into()));
        assert_eq!(ok("ws://h:1?x"), (false, "h".into(), 1, "?x".into()));
        assert_eq!(ok("ws://h/p#frag"), (false, "h".into(), 80, "/p".into()));
        assert_eq!(ok("ws://h#frag"), (false, "h".into(), 80, "".into()));
        assert_eq!(ok("ws://h:65535#f"), (false, "h".into(), 65535, "".into()));
        assert_eq!(
            ok("ws://127.0.0.1:9001/"),
            (false, "127.0.0.1".into(), 9001, "/".into())
        );
        assert_eq!(ok("wss://h:00443/x"), (true, "h".into(), 443, "/x".into()));
        let h255 = "a".repeat(255);
        assert_eq!(ok(&format!("ws://{h255}/")).1, h255);
    }

    #[test]
    fn userinfo() {
        let u = parse(b"ws://user:p%40ss:w@h:81/x?a@b").unwrap();
        assert_eq!(u.userinfo, b"user:p%40ss:w");
        assert_eq!((u.host, u.port, u.path), (&b"h"[..], 81, &b"/x?a@b"[..]));
        let mut buf = [0; MAX_CREDENTIALS];
        assert_eq!(credentials(u.userinfo, &mut buf), Some(&b"user:p@ss:w"[..]));
        // The last @ of the authority ends the userinfo; none after the path starts.
        let u = parse(b"wss://a@b@h").unwrap();
        assert_eq!((u.userinfo, u.host), (&b"a@b"[..], &b"h"[..]));
        assert_eq!(parse(b"ws://h/p@q").unwrap().userinfo, b"");
        assert_eq!(parse(b"ws://@h").unwrap().userinfo, b"");
        assert_eq!(
            credentials(b"%E2%82%ac%3a", &mut buf),
            Some("\u{20ac}:".as_bytes())
        );
        let long = "u".repeat(MAX_CREDENTIALS);
        assert_eq!(
            credentials(long.as_bytes(), &mut buf),
            Some(long.as_bytes())
        );
        let longer = format!("{long}x");
        assert_eq!(credentials(longer.as_bytes(), &mut buf), None);
        let enc = "%41".repeat(MAX_CREDENTIALS + 1);
        assert_eq!(credentials(enc.as_bytes(), &mut buf), None);
        for bad in ["u%4", "u%zz", "u%", "%g0", "u p", "u\x01", "u\x7f"] {
            assert_eq!(credentials(bad.as_bytes(), &mut buf), None, "{bad:?}");
        }
    }

    #[test]
    fn bad_scheme() {
        for s in [
            "", "ws", "ws:/h", "http://h", "wss:/h", "ws:h", " ws://h", "wws://h", "ws//h",
        ] {
            assert_eq!(err(s.as_bytes()), WS_ERR_BAD_SCHEME, "{s}");
        }
        assert_eq!(err(b"ws://h/a b"), WS_ERR_BAD_SCHEME);
        assert_eq!(err(b"ws://h/a\r\nX: y"), WS_ERR_BAD_SCHEME);
        assert_eq!(err(b"ws://h?\x7f"), WS_ERR_BAD_SCHEME);
    }

    #[test]
    fn host_too_long() {
        let h256 = "a".repeat(256);
        assert_eq!(err(format!("ws://{h256}").as_bytes()), WS_ERR_HOST_TOO_LONG);
        assert_eq!(
            err(format!("ws://{h256}:0").as_bytes()),
            WS_ERR_HOST_TOO_LONG
        );
        assert_eq!(
            err(format!("wss://{}:80/x", "b".repeat(1000)).as_bytes()),
            WS_ERR_HOST_TOO_LONG
        );
    }

    #[test]
    fn bad_port() {
        for s in [
            "ws://h:",
            "ws://h:/",
            "ws://h:0",
            "ws://h:00",
            "ws://h:65536",
            "ws://h:99999",
            "ws://h:8x",
            "ws://h:-1",
            "ws://h:+80",
            "ws://h: 80",
            "ws://h:80:81",
            "ws://h:99999999999999999999",
            "ws://h:#f",
            "ws://h:?q",
        ] {
            assert_eq!(err(s.as_bytes()), WS_ERR_BAD_PORT, "{s}");
        }
    }

    #[test]
    fn no_host() {
        for s in [
            "ws://",
            "wss://",
            "ws://:80",
            "ws:///path",
            "ws://?q",
            "ws://#f",
            "ws://user@",
            "ws://u:p@:80/",
            "ws://[::1]:80",
            "ws://h h",
            "ws://h\th",
            "ws://\x00",
        ] {
            assert_eq!(err(s.as_bytes()), WS_ERR_NO_HOST, "{s:?}");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&bytes);
        }

        #[test]
        fn never_panics_with_scheme(tail in "[a-z:/?#@\\[0-9. ]{0,40}") {
            for scheme in ["ws://", "wss://"] {
                let s = format!("{scheme}{tail}");
                if let Ok(u) = parse(s.as_bytes()) {
                    prop_assert!(!u.host.is_empty() && u.host.len() < MAX_HOST);
                    prop_assert!(u.port != 0);
                    prop_assert!(u.path.is_empty() || u.path[0] == b'/' || u.path[0] == b'?');
                    prop_assert!(!u.path.contains(&b'#'));
                }
            }
        }

        #[test]
        fn roundtrip(host in "[a-z0-9.-]{1,60}", port in 1u16.., path in "(/[a-z0-9%=&?]{0,20}){0,3}") {
            let s = format!("ws://{host}:{port}{path}#x");
            let u = parse(s.as_bytes()).unwrap();
            prop_assert_eq!(u.host, host.as_bytes());
            prop_assert_eq!(u.port, port);
            prop_assert_eq!(u.path, path.as_bytes());
        }
    }
}
