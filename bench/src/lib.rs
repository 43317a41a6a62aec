//! Shared machinery of the libwebsocket benchmarks.
//!
//! * [`workloads`]: the server byte streams every engine is fed (identical
//!   bytes for all of them, cut into [`workloads::SEGMENT`]-byte TCP segments).
//! * [`ours`]: drives libwebsocket through its C API with a fake port
//!   (`ws_port_*` defined here), exactly as an embedder would.
//! * [`peers`]: the same workloads through tungstenite and embedded-websocket.
//! * [`counting`]: a counting global allocator (installed by the `heap` binary).

// The engine is only reached through its exported C symbols (`ws_*`); name the
// crate so its rlib is linked even where no Rust item of it is used.
extern crate websocket;

pub mod counting;
pub mod ours;
pub mod peers;
pub mod workloads;

/// Deterministic xorshift64* generator (mask keys, handshake keys, payloads).
#[derive(Clone)]
pub struct DetRng(u64);

impl DetRng {
    pub const fn new(seed: u64) -> Self {
        DetRng(if seed == 0 {
            0x9E37_79B9_7F4A_7C15
        } else {
            seed
        })
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

impl rand_core::RngCore for DetRng {
    fn next_u32(&mut self) -> u32 {
        (DetRng::next_u64(self) >> 32) as u32
    }
    fn next_u64(&mut self) -> u64 {
        DetRng::next_u64(self)
    }
    fn fill_bytes(&mut self, dest: &mut [u8]) {
        self.fill(dest)
    }
    fn try_fill_bytes(&mut self, dest: &mut [u8]) -> Result<(), rand_core::Error> {
        self.fill(dest);
        Ok(())
    }
}
