//! `handshake::ResponseParser`: a response split at fuzzer-chosen points must
//! give the same outcome (and the same end of the header block) as one feed;
//! `used` never exceeds the bytes of the call; NeedMore is never returned after
//! more than MAX_RESPONSE bytes; once finished the parser keeps its verdict;
//! and the outcome equals a plain line-based reference parser written here.
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket::handshake::{Parsed, ResponseParser, MAX_RESPONSE};
use websocket_fuzz::{ref_response, segments, split_input, RefResponse};

/// The RFC 6455 sample: key "dGhlIHNhbXBsZSBub25jZQ==".
const ACCEPT: &[u8; 28] = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// Outcome as (NeedMore | Done(absolute end) | Failed(code)).
fn run(segs: &[&[u8]]) -> (RefResponse, Option<ResponseParser>) {
    let mut p = ResponseParser::new(*ACCEPT);
    let mut fed = 0usize;
    for seg in segs {
        match p.feed(seg) {
            Parsed::NeedMore => {
                fed += seg.len();
                assert!(fed <= MAX_RESPONSE, "NeedMore after {fed} bytes");
            }
            Parsed::Done { used } => {
                assert!(used <= seg.len(), "used {used} of {}", seg.len());
                assert!(used > 0 || seg.is_empty(), "Done without using a byte");
                // Finished: further feeds return Done { used: 0 }.
                let again = p.feed(b"HTTP/1.1 101\r\n\r\n");
                assert!(again == Parsed::Done { used: 0 }, "Done not sticky");
                let proto = p.protocol().to_vec();
                return (RefResponse::Done(fed + used, proto), Some(p));
            }
            Parsed::Failed(c) => {
                let again = p.feed(b"HTTP/1.1 101\r\n\r\n");
                assert!(again == Parsed::Failed(c), "Failed not sticky");
                return (RefResponse::Failed(c), None);
            }
        }
    }
    (RefResponse::NeedMore, None)
}

fuzz_target!(|data: &[u8]| {
    let (cuts, body) = split_input(data);
    let (split, _) = run(&segments(body, &cuts));
    let (whole, _) = run(&[body]);
    assert_eq!(split, whole, "split feed differs from one feed");
    // Byte-at-a-time, the extreme split (bounded to keep the target fast).
    if body.len() <= 2048 {
        let bytes: Vec<&[u8]> = body.chunks(1).collect();
        assert_eq!(run(&bytes).0, whole, "byte-wise feed differs");
    }
    assert_eq!(
        whole,
        ref_response(body, ACCEPT),
        "parser differs from the reference"
    );
});
