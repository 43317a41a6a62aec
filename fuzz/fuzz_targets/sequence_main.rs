//! The `sequence` target: only the program of public calls of each input
//! (`sequence.rs`, with reconnection), without the single-connection run of
//! the `engine` target, so that a run spends all its time there. The
//! harness (port fakes, counting allocator) is `engine.rs`, compiled here as
//! a module; its `fuzz_target!` skips the single-connection run in this
//! binary (`CARGO_BIN_NAME`).
#![no_main]

#[allow(unused_attributes)]
#[path = "engine.rs"]
mod engine;
