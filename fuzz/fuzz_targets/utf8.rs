//! `Utf8Validator`: the input split at fuzzer-chosen points and fed piece by
//! piece; after every piece `feed` must say whether everything so far is a
//! prefix of valid UTF-8 (fail-fast and sticky), and at the end
//! `feed && is_complete` must equal `std::str::from_utf8(all).is_ok()`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket::utf8::Utf8Validator;
use websocket_fuzz::{segments, split_input, utf8_valid_prefix};

fuzz_target!(|data: &[u8]| {
    let (cuts, body) = split_input(data);
    let mut v = Utf8Validator::new();
    let mut end = 0;
    let mut last = true;
    for seg in segments(body, &cuts) {
        end += seg.len();
        last = v.feed(seg);
        assert_eq!(
            last,
            utf8_valid_prefix(&body[..end]),
            "feed result wrong after {end} bytes"
        );
    }
    let whole = std::str::from_utf8(body).is_ok();
    assert_eq!(last && v.is_complete(), whole, "final verdict wrong");
    // One-shot must agree with the split feed.
    let mut one = Utf8Validator::new();
    assert_eq!(one.feed(body) && one.is_complete(), whole);
});
