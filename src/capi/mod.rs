//! The C ABI, in three parts:
//!
//! | file | what |
//! |---|---|
//! | [`types`] | what cbindgen exports besides the status codes: `ws_info`, `ws_options`, `header_t`, the callback types, the `WS_*` constants, and the port functions `ws_port_*` the platform implements |
//! | `engine` (private) | the engine behind a `ws_info`: the registry of live connections, the only access to an engine (`with_engine`), the drive loop that carries out the engine's actions, teardown and the user callbacks |
//! | [`entry`] | the exported entry points: the API (`ws_connect`, `ws_send`, `ws_close`, ...) and the port's events (`ws_event_*`) |
//!
//! The status codes come from [`crate::status`] (also read by cbindgen).
//!
//! Re-entrancy: no Rust reference to the engine is alive while user code
//! (a callback) or port code runs. Every access to the engine goes through
//! `with_engine`, whose closure only calls engine methods.
#![allow(non_camel_case_types, non_snake_case)]
#![deny(unsafe_op_in_unsafe_fn)]

mod engine;
pub mod entry;
pub mod types;

pub use crate::status::*;
pub use entry::*;
pub use types::*;

#[cfg(test)]
mod tests;
