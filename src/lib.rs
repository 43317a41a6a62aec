//! libwebsocket: a `no_std` RFC 6455 WebSocket client exporting NodeMCU's C API.
//!
//! The crate builds `libwebsocket.a` for NodeMCU firmware and host programs;
//! its C interface is in [`capi`] (and the generated
//! `include/websocketclient.h`). Everything below it is sans-IO: pure state
//! machines fed bytes and timer ticks that say what to do, never touching a
//! socket, a clock or C.
//!
//! | module | concept |
//! |---|---|
//! | [`url`] | `ws://` / `wss://` URL parsing (statuses -1..-4) |
//! | [`handshake`] | the opening handshake: key, request writer, incremental response parser |
//! | [`frame`] | streaming frame decoder, masking frame encoder |
//! | [`utf8`] | streaming UTF-8 validation |
//! | [`message`] | message assembly: fragments, control frames, limits, streaming |
//! | [`client`] | the connection state machine: events in, actions out; by concept: send queue, keep-alive, receive, closing |
//! | [`capi`] | the C ABI: types and constants (cbindgen), the engine behind a `ws_info`, the entry points |
//! | [`testkit`] | (feature `std`) the port's side for host drivers: sent events, segments, the 101 answer |
//! | [`buffer`] | bounded, fallible heap buffers over `malloc` |
//! | [`status`] | [`status::Status`] and every status code, also exported to C |
//!
//! Rust users on a host enable the `std` feature (it drops the library's
//! panic handler and allocates through `std::alloc`) and use [`client::Client`]
//! directly or the C functions.
#![cfg_attr(not(any(test, feature = "std")), no_std)]

pub mod buffer;
pub mod capi;
pub mod client;
pub mod frame;
pub mod handshake;
pub mod message;
pub mod status;
#[cfg(any(test, feature = "std"))]
pub mod testkit;
pub mod url;
pub mod utf8;

#[cfg(not(any(test, feature = "std")))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}

/// Test support: prints `T`'s size and checks it within its budget of `max`
/// bytes (the size tests of the engine's parts).
#[cfg(test)]
pub(crate) fn check_size<T>(max: usize) {
    let n = core::mem::size_of::<T>();
    println!("size_of::<{}>() = {n}", core::any::type_name::<T>());
    assert!(n <= max, "{} bytes, budget {max}", n);
}
