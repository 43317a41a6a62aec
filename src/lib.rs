//! libwebsocket: a `no_std` RFC 6455 WebSocket client exporting NodeMCU's C API.
#![cfg_attr(not(any(test, feature = "std")), no_std)]

pub mod buffer;
pub mod capi;
pub mod client;
pub mod frame;
pub mod handshake;
pub mod message;
pub mod status;
pub mod url;
pub mod utf8;

#[cfg(not(any(test, feature = "std")))]
#[panic_handler]
fn panic(_info: &core::panic::PanicInfo) -> ! {
    loop {}
}
