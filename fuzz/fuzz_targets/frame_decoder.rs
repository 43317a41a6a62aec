//! `frame::Decoder`: a byte stream split at fuzzer-chosen points must give the
//! same events and payload bytes as the one-shot decode, and both must equal a
//! simple non-streaming reference decoder written here from RFC 6455 and the
//! decoder's documented checks.  Payload ranges must lie inside the buffer and
//! continue at `pos`; after an error the decoder must stay in that error.
//! Also checks the encoder side: `write_header`/`header_len` against the
//! reference header reader, `mask_into`/`mask_in_place` against plain XOR.
#![no_main]

use libfuzzer_sys::fuzz_target;
use websocket::frame::{self, Decoded, Decoder};
use websocket::status::{self, Status};
use websocket_fuzz::{ref_header, segments, split_input, unmask};

#[derive(Debug, PartialEq, Eq, Clone)]
enum Ev {
    Header(bool, u8, u64),
    Payload(Vec<u8>),
    End,
    Error(Status),
}

fn push_payload(out: &mut Vec<Ev>, bytes: &[u8]) {
    if let Some(Ev::Payload(p)) = out.last_mut() {
        p.extend_from_slice(bytes);
    } else {
        out.push(Ev::Payload(bytes.to_vec()));
    }
}

/// Streaming decode of the segments with every per-call invariant checked.
fn decode(segs: &[&[u8]]) -> Vec<Ev> {
    let mut d = Decoder::new();
    let mut out = Vec::new();
    for seg in segs {
        let mut pos = 0usize;
        loop {
            let before = pos;
            let ev = d.next(seg, &mut pos);
            assert!(
                pos >= before && pos <= seg.len(),
                "pos {before} -> {pos} of {}",
                seg.len()
            );
            let Some(ev) = ev else {
                assert_eq!(pos, seg.len(), "None before the segment was used up");
                break;
            };
            match ev {
                Decoded::Header(h) => {
                    assert!(pos > before, "header without consuming bytes");
                    out.push(Ev::Header(h.fin, h.opcode, h.len));
                }
                Decoded::Payload { start, end } => {
                    assert_eq!(start, before, "payload does not start at pos");
                    assert!(
                        start < end && end <= seg.len(),
                        "range {start}..{end} of {}",
                        seg.len()
                    );
                    assert_eq!(pos, end, "pos not moved to the end of the payload");
                    push_payload(&mut out, &seg[start..end]);
                }
                Decoded::End => {
                    assert_eq!(pos, before, "End consumed bytes");
                    out.push(Ev::End);
                }
                Decoded::Error(c) => {
                    out.push(Ev::Error(c));
                    // Sticky: same error, nothing consumed, whatever is fed.
                    for probe in [&seg[pos..], &[0x81u8, 0x00][..], &[][..]] {
                        let mut p = 0;
                        let again = d.next(probe, &mut p);
                        assert!(again == Some(Decoded::Error(c)), "error not sticky");
                        assert_eq!(p, 0, "consumed after error");
                    }
                    return out;
                }
            }
        }
    }
    out
}

/// Reference: walk the whole buffer frame by frame.
fn reference(buf: &[u8]) -> Vec<Ev> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let b0 = buf[pos];
        let op = b0 & 0x0f;
        if b0 & 0x70 != 0 {
            out.push(Ev::Error(status::WS_ERR_RESERVED_BITS));
            return out;
        }
        if !matches!(op, 0..=2 | 8..=10) {
            out.push(Ev::Error(status::WS_ERR_RESERVED_OPCODE));
            return out;
        }
        let Some(&b1) = buf.get(pos + 1) else {
            return out;
        };
        if b1 & 0x80 != 0 {
            out.push(Ev::Error(status::WS_ERR_MASKED_FRAME));
            return out;
        }
        if op >= 8 && (b1 & 0x7f > 125 || b0 & 0x80 == 0) {
            out.push(Ev::Error(status::WS_ERR_BAD_CONTROL_FRAME));
            return out;
        }
        let Some(h) = ref_header(&buf[pos..]) else {
            return out;
        };
        if h.len >= 1 << 63 {
            out.push(Ev::Error(status::WS_ERR_MESSAGE_TOO_BIG));
            return out;
        }
        out.push(Ev::Header(h.fin, h.opcode, h.len));
        let start = pos + h.header_len;
        let avail = (buf.len() - start) as u64;
        let take = h.len.min(avail) as usize;
        if take > 0 {
            out.push(Ev::Payload(buf[start..start + take].to_vec()));
        }
        if h.len > avail {
            return out;
        }
        out.push(Ev::End);
        pos = start + take;
    }
    out
}

fn check_encoder(body: &[u8]) {
    let seed = body
        .iter()
        .take(8)
        .fold(0u64, |a, &b| a.rotate_left(8) ^ u64::from(b));
    let mask = (seed as u32).to_be_bytes();
    // Header writer against the reference reader, for a few lengths around the
    // 7/16/64-bit boundaries chosen by the input.
    let lens = [
        body.len(),
        (seed >> 32) as usize % 130,
        65530 + (seed >> 40) as usize % 12,
        (seed >> 16) as usize,
    ];
    for (i, &len) in lens.iter().enumerate() {
        let fin = seed >> i & 1 == 1;
        let opcode = (seed >> (8 + 4 * i)) as u8;
        let mut out = [0u8; 14];
        let n = frame::write_header(&mut out, fin, opcode, len, mask);
        assert_eq!(n, frame::header_len(len), "write_header length for {len}");
        let h = ref_header(&out[..n]).expect("written header unreadable");
        assert_eq!(h.header_len, n);
        assert_eq!(
            (h.fin, h.rsv, h.opcode, h.mask, h.len),
            (fin, 0, opcode & 0x0f, Some(mask), len as u64)
        );
        // Minimal length encoding.
        let min = if len < 126 {
            6
        } else if len <= 0xffff {
            8
        } else {
            14
        };
        assert_eq!(n, min, "non-minimal header for {len}");
        let mut short = [0u8; 13];
        let k = n - 1;
        assert_eq!(
            frame::write_header(&mut short[..k], fin, opcode, len, mask),
            0,
            "short buffer"
        );
    }
    // Masking at every offset 0..4 and in segment pieces.
    for off in 0..4 {
        let mut want = body.to_vec();
        unmask(&mut want, mask, off);
        let mut a = body.to_vec();
        frame::mask_in_place(&mut a, mask, off);
        assert_eq!(a, want, "mask_in_place offset {off}");
        let mut b = vec![0u8; body.len()];
        frame::mask_into(&mut b, body, mask, off);
        assert_eq!(b, want, "mask_into offset {off}");
    }
}

fuzz_target!(|data: &[u8]| {
    let (cuts, body) = split_input(data);
    let split = decode(&segments(body, &cuts));
    let whole = decode(&[body]);
    assert_eq!(split, whole, "split decode differs from one-shot decode");
    assert_eq!(whole, reference(body), "decoder differs from the reference");

    // Masking a stream piece by piece with a running offset equals masking it whole.
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut want = body.to_vec();
    unmask(&mut want, mask, 0);
    let mut got = body.to_vec();
    let mut off = 0;
    let mut start = 0;
    for seg in segments(body, &cuts) {
        frame::mask_in_place(&mut got[start..start + seg.len()], mask, off);
        off += seg.len();
        start += seg.len();
    }
    assert_eq!(got, want, "segmented masking differs");
    check_encoder(body);
});
