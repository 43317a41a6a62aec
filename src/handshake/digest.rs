//! SHA-1 (FIPS 180-4) and base64, just what the handshake needs: the
//! `Sec-WebSocket-Key` for 16 random bytes and the `Sec-WebSocket-Accept`
//! value a server must answer to it. Own code rather than a crate: small,
//! and without panic paths (the crates serve as test oracles).

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

/// SHA-1 compression of one 64-byte block (FIPS 180-4), with the message
/// schedule kept in a 16-word ring. Not inlined (smaller that way).
#[inline(never)]
fn sha1_block(h: &mut [u32; 5], block: &[u8; 64]) {
    let mut w = [0u32; 16];
    for (wi, c) in w.iter_mut().zip(block.as_chunks::<4>().0) {
        *wi = u32::from_be_bytes(*c);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *h;
    for i in 0..80usize {
        if i >= 16 {
            let x = w[(i + 13) & 15] ^ w[(i + 8) & 15] ^ w[(i + 2) & 15] ^ w[i & 15];
            w[i & 15] = x.rotate_left(1);
        }
        let (f, k) = match i {
            0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
            20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
            40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
            _ => (b ^ c ^ d, 0xCA62_C1D6),
        };
        let t = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(w[i & 15]);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = t;
    }
    for (hi, v) in h.iter_mut().zip([a, b, c, d, e]) {
        *hi = hi.wrapping_add(v);
    }
}

/// The `Sec-WebSocket-Accept` value a server must answer to `key`:
/// base64(SHA-1(key + GUID)). Key and GUID are 60 bytes, so the padded
/// message is exactly two blocks.
pub fn accept_for(key: &[u8; KEY_LEN]) -> [u8; ACCEPT_LEN] {
    let mut msg = [0u8; 128];
    let (k, rest) = msg.split_at_mut(KEY_LEN);
    copy(k, key);
    copy(rest, GUID);
    msg[KEY_LEN + GUID.len()] = 0x80;
    let bits = ((KEY_LEN + GUID.len()) as u64 * 8).to_be_bytes();
    copy(&mut msg[120..], &bits);
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    for block in msg.as_chunks::<64>().0 {
        sha1_block(&mut h, block);
    }
    let mut digest = [0u8; 20];
    for (d, v) in digest.as_chunks_mut::<4>().0.iter_mut().zip(h) {
        *d = v.to_be_bytes();
    }
    let mut a = [0u8; ACCEPT_LEN];
    base64_into(&digest, &mut a);
    a
}
