//! `url::parse`: no panic; structural invariants on success; re-serializing a
//! parsed URL and parsing it again gives the same result; and the result equals
//! the one of a straightforward reference parser written from the grammar in
//! the module documentation (docs/contract.md#url status codes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket::url;
use websocket_fuzz::ref_url;

fuzz_target!(|data: &[u8]| {
    let got = url::parse(data);
    let got_plain = got.map(|u| (u.secure, u.host.to_vec(), u.port, u.path.to_vec()));
    let want = ref_url(data);
    assert_eq!(
        got_plain, want,
        "url::parse disagrees with the reference parser"
    );

    let Ok(u) = got else { return };
    assert!(!u.host.is_empty(), "empty host accepted");
    assert!(
        u.host.len() < 256,
        "host of {} bytes accepted",
        u.host.len()
    );
    assert_ne!(u.port, 0, "port 0 accepted");
    for &b in u.host {
        assert!(
            !matches!(b, b':' | b'/' | b'?' | b'#' | b'@'),
            "host holds {b:#x}"
        );
        assert!(b > b' ' && b != 0x7f, "host holds control/space {b:#x}");
    }
    assert!(
        u.path.is_empty() || u.path[0] == b'/' || u.path[0] == b'?',
        "path does not start with / or ?"
    );
    assert!(!u.path.contains(&b'#'), "fragment kept in the path");
    assert!(
        u.path.iter().all(|&b| b > b' ' && b != 0x7f),
        "path holds control/space"
    );

    // Re-serialize (explicit port, canonical scheme) and parse again.
    let mut s = Vec::new();
    s.extend_from_slice(if u.secure { b"wss://" } else { b"ws://" });
    s.extend_from_slice(u.host);
    s.extend_from_slice(format!(":{}", u.port).as_bytes());
    s.extend_from_slice(u.path);
    let again = url::parse(&s).unwrap_or_else(|e| panic!("re-serialized URL rejected with {e:?}"));
    assert_eq!(again.secure, u.secure);
    assert_eq!(again.host, u.host);
    assert_eq!(again.port, u.port);
    assert_eq!(again.path, u.path);
});
