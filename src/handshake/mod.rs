//! The opening handshake (RFC 6455 section 4), in three parts:
//!
//! | file | what |
//! |---|---|
//! | `digest.rs` | base64: the request's key and the accept value the server must answer (its SHA-1 from the caller) |
//! | `request.rs` | the request writer (one writer for both its length and its bytes), the protocol offer |
//! | `response.rs` | the incremental parser for the server's response |
//!
//! The response parser is a byte-at-a-time state machine: it never buffers
//! the response, needs no terminator, and tells the caller exactly how many
//! bytes of each segment belonged to the response (the rest are frames).

mod digest;
mod request;
mod response;

#[cfg(test)]
mod oracle;
#[cfg(test)]
mod tests;

pub use digest::{accept_for, make_key};
pub use request::{
    key_offset, protocol_offered, request_len, write_request, write_sized, DEFAULT_PROTOCOL,
};
pub use response::{Parsed, ResponseParser};

/// Length of `Sec-WebSocket-Key` (base64 of 16 bytes).
pub const KEY_LEN: usize = 24;
/// Length of `Sec-WebSocket-Accept` (base64 of a SHA-1 digest).
pub const ACCEPT_LEN: usize = 28;
/// Largest accepted response header block (status line to blank line).
pub const MAX_RESPONSE: usize = 8192;
/// Longest `Sec-WebSocket-Protocol` value kept from the response.
pub const MAX_PROTOCOL: usize = 64;

/// Copies `min(dst.len(), src.len())` bytes (no length-mismatch panic path).
/// One out-of-line copy for all its callers.
#[inline(never)]
fn copy(dst: &mut [u8], src: &[u8]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// One request header (the C `header_t` without its NUL terminators).
#[derive(Clone, Copy)]
#[cfg_attr(test, derive(Debug))]
pub struct Header<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
}
