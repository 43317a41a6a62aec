//! libwebsocket: a `no_std` RFC 6455 WebSocket client exporting NodeMCU's C API.
#![cfg_attr(not(any(test, feature = "std")), no_std)]

pub mod url;
