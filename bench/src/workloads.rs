//! Server byte streams (unmasked server frames) fed to every engine.

use crate::DetRng;

/// TCP segment size the streams are cut into (Ethernet MSS).
pub const SEGMENT: usize = 1460;

/// Number of messages in the small-message workload.
pub const SMALL_COUNT: usize = 100_000;
/// Payload size of the small-message workload.
pub const SMALL_SIZE: usize = 16;
/// Payload size of the large workloads.
pub const BIG_SIZE: usize = 64 * 1024;
/// Fragments of the fragmented workload.
pub const FRAGMENTS: usize = 16;

pub struct Workload {
    /// Short identifier (criterion group name).
    pub name: &'static str,
    /// The server's bytes, frames back to back.
    pub stream: Vec<u8>,
    /// Complete messages in `stream`.
    pub messages: usize,
    /// Sum of the message payload sizes.
    pub payload_bytes: usize,
    /// Opcode of every message (1 text, 2 binary).
    pub opcode: u8,
}

impl Workload {
    /// The stream as the TCP segments an engine receives.
    pub fn segments(&self) -> impl Iterator<Item = &[u8]> {
        self.stream.chunks(SEGMENT)
    }
}

/// Appends an unmasked server frame header.
pub fn push_header(out: &mut Vec<u8>, fin: bool, opcode: u8, len: usize) {
    out.push(if fin { 0x80 } else { 0 } | opcode);
    if len < 126 {
        out.push(len as u8);
    } else if len <= 0xFFFF {
        out.push(126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(127);
        out.extend_from_slice(&(len as u64).to_be_bytes());
    }
}

fn text_payload(rng: &mut DetRng, len: usize) -> Vec<u8> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .";
    (0..len)
        .map(|_| ALPHABET[(rng.next_u64() % ALPHABET.len() as u64) as usize])
        .collect()
}

fn binary_payload(rng: &mut DetRng, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    rng.fill(&mut v);
    v
}

/// (a) `count` text messages of `size` bytes, one frame each.
pub fn small_text(count: usize, size: usize) -> Workload {
    let mut rng = DetRng::new(1);
    let mut stream = Vec::with_capacity(count * (size + 4));
    for _ in 0..count {
        push_header(&mut stream, true, 1, size);
        stream.extend_from_slice(&text_payload(&mut rng, size));
    }
    Workload {
        name: "recv_16B_x100k",
        stream,
        messages: count,
        payload_bytes: count * size,
        opcode: 1,
    }
}

/// (b) one binary message of `size` bytes in one frame.
pub fn big_binary(size: usize) -> Workload {
    let mut rng = DetRng::new(2);
    let mut stream = Vec::with_capacity(size + 16);
    push_header(&mut stream, true, 2, size);
    stream.extend_from_slice(&binary_payload(&mut rng, size));
    Workload {
        name: "recv_64KiB",
        stream,
        messages: 1,
        payload_bytes: size,
        opcode: 2,
    }
}

/// (c) one binary message of `size` bytes in `fragments` equal frames.
pub fn fragmented(size: usize, fragments: usize) -> Workload {
    let mut rng = DetRng::new(3);
    let payload = binary_payload(&mut rng, size);
    let step = size.div_ceil(fragments);
    let mut stream = Vec::with_capacity(size + fragments * 4);
    for (i, part) in payload.chunks(step).enumerate() {
        let last = (i + 1) * step >= size;
        push_header(&mut stream, last, if i == 0 { 2 } else { 0 }, part.len());
        stream.extend_from_slice(part);
    }
    Workload {
        name: "recv_64KiB_16frag",
        stream,
        messages: 1,
        payload_bytes: size,
        opcode: 2,
    }
}

/// The three receive workloads of the benchmark, in report order.
pub fn all() -> Vec<Workload> {
    vec![
        small_text(SMALL_COUNT, SMALL_SIZE),
        big_binary(BIG_SIZE),
        fragmented(BIG_SIZE, FRAGMENTS),
    ]
}

/// How many frames of a stream of equal `frame_len`-byte frames straddle a
/// segment boundary (those cannot be delivered in place).
pub fn straddling(frames: usize, frame_len: usize) -> usize {
    (0..frames)
        .filter(|i| {
            let start = i * frame_len;
            start / SEGMENT != (start + frame_len - 1) / SEGMENT
        })
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let a = small_text(10, 16);
        assert_eq!(a.stream.len(), 180);
        assert_eq!(&a.stream[..2], &[0x81, 16]);
        let b = big_binary(BIG_SIZE);
        assert_eq!(&b.stream[..10], &[0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]);
        let c = fragmented(BIG_SIZE, 16);
        assert_eq!(c.stream.len(), BIG_SIZE + 16 * 4);
        assert_eq!(&c.stream[..4], &[0x02, 126, 0x10, 0]);
        assert_eq!(c.stream[4 + 4096], 0x00);
        assert_eq!(c.stream[c.stream.len() - 4 - 4096], 0x80);
        assert_eq!(straddling(81, 18), 0);
        assert_eq!(straddling(82, 18), 1);
    }
}
