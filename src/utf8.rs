//! Streaming UTF-8 validator.
//!
//! Text messages arrive in arbitrary pieces (TCP segments, fragments), so a
//! code point may be split anywhere. The validator carries the unfinished
//! sequence between calls in three bytes: how many continuation bytes are
//! still due and the allowed range of the next one. The narrow ranges after
//! `E0`, `ED`, `F0` and `F4` reject overlong forms, surrogates and code points
//! above U+10FFFF at the first byte that makes the input invalid (fail-fast,
//! e.g. `F4 90` fails at the `90`).
//!
//! Runs of ASCII are skipped a 64-bit word at a time and whole multi-byte
//! sequences are checked in one step; only a sequence that is invalid or
//! straddles a call boundary goes through the byte-wise state machine.

/// `need` value marking a validator that has seen invalid input (sticky).
const BAD: u8 = 0xFF;

/// The high bit of every byte of a word.
const HIGH_BITS: u64 = 0x8080_8080_8080_8080;

/// `s` without its leading ASCII bytes: eight at a time while whole words
/// are ASCII, then byte by byte up to the first non-ASCII byte.
#[inline(always)]
fn skip_ascii(mut s: &[u8]) -> &[u8] {
    while let Some((w, tail)) = s.split_first_chunk::<8>() {
        if u64::from_ne_bytes(*w) & HIGH_BITS != 0 {
            break;
        }
        s = tail;
    }
    while let Some((&b, tail)) = s.split_first() {
        if b >= 0x80 {
            break;
        }
        s = tail;
    }
    s
}

/// For a byte that starts a multi-byte sequence: the number of continuation
/// bytes and the inclusive range allowed for the first of them (the others
/// are always 80..=BF). `None` for bytes that cannot start one.
fn lead(b: u8) -> Option<(u8, u8, u8)> {
    Some(match b {
        0xC2..=0xDF => (1, 0x80, 0xBF),
        0xE0 => (2, 0xA0, 0xBF),
        0xED => (2, 0x80, 0x9F),
        0xE1..=0xEF => (2, 0x80, 0xBF),
        0xF0 => (3, 0x90, 0xBF),
        0xF1..=0xF3 => (3, 0x80, 0xBF),
        0xF4 => (3, 0x80, 0x8F),
        _ => return None,
    })
}

#[derive(Default, Clone, Copy)]
#[cfg_attr(test, derive(Debug))]
pub struct Utf8Validator {
    /// Continuation bytes still due for the current code point, or `BAD`.
    need: u8,
    /// Inclusive range allowed for the next continuation byte.
    lo: u8,
    hi: u8,
}

impl Utf8Validator {
    pub const fn new() -> Self {
        Utf8Validator {
            need: 0,
            lo: 0x80,
            hi: 0xBF,
        }
    }

    /// Feeds the next bytes. Returns false as soon as the bytes seen so far
    /// cannot be the start of valid UTF-8; after that it always returns false.
    pub fn feed(&mut self, bytes: &[u8]) -> bool {
        // Pure ASCII with no sequence left open: no state to touch.
        let rest = if self.need == 0 {
            skip_ascii(bytes)
        } else {
            bytes
        };
        rest.is_empty() && self.need != BAD || self.feed_mixed(rest)
    }

    /// `feed` for input that is not (or does not start with) plain ASCII;
    /// kept out of line so the ASCII path stays a leaf without spills. The
    /// state lives in locals (registers) during the loop.
    #[inline(never)]
    fn feed_mixed(&mut self, bytes: &[u8]) -> bool {
        if self.need == BAD {
            return false;
        }
        let (mut need, mut lo, mut hi) = (self.need, self.lo, self.hi);
        let mut rest = bytes;
        let ok = loop {
            let Some((&b, tail)) = rest.split_first() else {
                break true;
            };
            rest = tail;
            if need != 0 {
                if b < lo || b > hi {
                    break false;
                }
                need -= 1;
                lo = 0x80;
                hi = 0xBF;
            } else if b < 0x80 {
                rest = skip_ascii(rest);
            } else if let Some(l) = lead(b) {
                (need, lo, hi) = l;
            } else {
                break false;
            }
        };
        self.need = if ok { need } else { BAD };
        self.lo = lo;
        self.hi = hi;
        ok
    }

    /// True if the input so far is valid and no code point is left unfinished.
    pub fn is_complete(&self) -> bool {
        self.need == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn whole(bytes: &[u8]) -> (bool, bool) {
        let mut v = Utf8Validator::new();
        let ok = v.feed(bytes);
        (ok, ok && v.is_complete())
    }

    #[test]
    fn size() {
        crate::check_size::<Utf8Validator>(4);
    }

    #[test]
    fn valid_inputs() {
        for s in [
            "",
            "abc",
            "κόσμε",
            "\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}",
            "a\u{D7FF}\u{E000}",
        ] {
            assert_eq!(whole(s.as_bytes()), (true, true), "{s:?}");
        }
    }

    #[test]
    fn invalid_inputs() {
        let bad: &[&[u8]] = &[
            b"\x80",
            b"\xC0\x80",         // overlong NUL
            b"\xC1\xBF",         // overlong
            b"\xE0\x80\x80",     // overlong
            b"\xE0\x9F\xBF",     // overlong
            b"\xED\xA0\x80",     // surrogate D800
            b"\xED\xBF\xBF",     // surrogate DFFF
            b"\xF0\x8F\xBF\xBF", // overlong
            b"\xF4\x90\x80\x80", // > U+10FFFF
            b"\xF5\x80\x80\x80",
            b"\xFF",
            b"a\xC3(",
            b"\xE2\x82(",
        ];
        for b in bad {
            assert!(!whole(b).0, "{b:?}");
        }
    }

    #[test]
    fn fails_fast_inside_split_code_point() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"ok\xF4"));
        assert!(!v.is_complete());
        assert!(!v.feed(b"\x90"));
        // Sticky.
        assert!(!v.feed(b"a"));
        assert!(!v.is_complete());

        let mut v = Utf8Validator::new();
        assert!(
            !v.feed(b"\xED\xA0"),
            "surrogate prefix must fail at 2nd byte"
        );
        let mut v = Utf8Validator::new();
        assert!(
            !v.feed(b"\xE0\x80"),
            "overlong prefix must fail at 2nd byte"
        );
    }

    #[test]
    fn incomplete_then_completed() {
        let euro = "€".as_bytes();
        let mut v = Utf8Validator::new();
        assert!(v.feed(&euro[..1]));
        assert!(v.feed(&euro[1..2]));
        assert!(!v.is_complete());
        assert!(v.feed(&euro[2..]));
        assert!(v.is_complete());
        // Truncated sequence followed by ASCII is invalid.
        let mut v = Utf8Validator::new();
        assert!(v.feed(&euro[..2]));
        assert!(!v.feed(b"x"));
    }

    #[test]
    fn every_lead_and_first_continuation_matches_std() {
        // All lead bytes with every first continuation byte and edge values
        // after it, whole (fast path) and cut short (byte-wise path).
        let edge = [0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0];
        for b in 0x80..=0xFFu8 {
            for c1 in 0..=0xFFu8 {
                for c2 in edge {
                    for c3 in edge {
                        let seq = [b, c1, c2, c3, b'a'];
                        for n in 2..=seq.len() {
                            let s = &seq[..n];
                            let mut v = Utf8Validator::new();
                            let ok = v.feed(s);
                            assert_eq!(ok, std_prefix_ok(s), "{s:x?}");
                            assert_eq!(
                                ok && v.is_complete(),
                                core::str::from_utf8(s).is_ok(),
                                "{s:x?}"
                            );
                        }
                    }
                }
            }
        }
    }

    /// Std's notion of "prefix of valid UTF-8": valid, or only fails because
    /// the input ended inside a code point.
    fn std_prefix_ok(b: &[u8]) -> bool {
        match core::str::from_utf8(b) {
            Ok(_) => true,
            Err(e) => e.error_len().is_none(),
        }
    }

    fn bytes_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            any::<String>().prop_map(String::into_bytes),
            proptest::collection::vec(any::<u8>(), 0..24),
            // Mostly-valid text with one byte flipped.
            (any::<String>(), any::<usize>(), any::<u8>()).prop_map(|(s, i, b)| {
                let mut v = s.into_bytes();
                if !v.is_empty() {
                    let n = v.len();
                    v[i % n] = b;
                }
                v
            }),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn matches_std_for_any_split(bytes in bytes_strategy(), cuts in proptest::collection::vec(any::<usize>(), 0..6)) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (bytes.len() + 1)).collect();
            cuts.push(0);
            cuts.push(bytes.len());
            cuts.sort_unstable();
            let mut v = Utf8Validator::new();
            for w in cuts.windows(2) {
                let ok = v.feed(&bytes[w[0]..w[1]]);
                // Fail-fast: the result after each piece equals std's verdict
                // on the prefix seen so far.
                prop_assert_eq!(ok, std_prefix_ok(&bytes[..w[1]]));
            }
            prop_assert_eq!(
                v.feed(&[]) && v.is_complete(),
                core::str::from_utf8(&bytes).is_ok()
            );
        }

        #[test]
        fn byte_at_a_time_matches_std(bytes in bytes_strategy()) {
            let mut v = Utf8Validator::new();
            for i in 0..bytes.len() {
                let ok = v.feed(&bytes[i..i + 1]);
                prop_assert_eq!(ok, std_prefix_ok(&bytes[..i + 1]));
            }
        }
    }
}
