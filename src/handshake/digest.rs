//! Base64, just what the handshake needs: the `Sec-WebSocket-Key` for 16
//! random bytes and the `Sec-WebSocket-Accept` value a server must answer to
//! it, whose SHA-1 the caller supplies (the port's `ws_port_sha1`). Own code
//! rather than a crate: small, and without panic paths (the crates serve as
//! test oracles).

use super::{copy, ACCEPT_LEN, KEY_LEN};

pub(super) const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The base64 digit for a 6-bit value, computed rather than looked up: no
/// 64-byte alphabet in flash (byte loads from flash are slow on the ESP8266).
fn b64_digit(v: u32) -> u8 {
    let v = v & 63;
    // 'A'..'Z', then 'a'..'z' (+6), '0'..'9' (-75), '+' (-15), '/' (+3).
    let mut c = v + u32::from(b'A');
    if v > 25 {
        c += 6;
    }
    if v > 51 {
        c -= 75;
    }
    if v > 61 {
        c -= 15;
    }
    if v > 62 {
        c += 3;
    }
    c as u8
}

/// Standard base64 with padding; writes `4 * ceil(src.len() / 3)` bytes (as
/// far as `out` reaches).
pub(super) fn base64_into(src: &[u8], out: &mut [u8]) {
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
            put(b64_digit(acc >> bits));
        }
    }
    let mut last = if bits > 0 {
        put(b64_digit(acc << (6 - bits)))
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

/// Length of the bytes whose SHA-1 the accept value encodes: key + GUID.
pub(super) const KEY_GUID_LEN: usize = KEY_LEN + GUID.len();

/// The `Sec-WebSocket-Accept` value a server must answer to `key`:
/// base64(SHA-1(key + GUID)). The digest comes from `sha1`, called once with
/// the 60 bytes of key and GUID: the port's `ws_port_sha1` (the ESP8266
/// ROM's SHA-1 on the device), so the library carries no SHA-1 of its own.
pub fn accept_for(key: &[u8; KEY_LEN], sha1: impl FnOnce(&[u8]) -> [u8; 20]) -> [u8; ACCEPT_LEN] {
    let mut msg = [0u8; KEY_GUID_LEN];
    let (k, g) = msg.split_at_mut(KEY_LEN);
    copy(k, key);
    copy(g, GUID);
    let digest = sha1(&msg);
    let mut a = [0u8; ACCEPT_LEN];
    base64_into(&digest, &mut a);
    a
}
