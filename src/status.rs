//! Status codes: the values passed to `onFailure` and returned by
//! `ws_send_long`. The C header exports them as `WS_OK` and `WS_ERR_*`.
//!
//! -1..-7 and -15..-19 keep the numbers of the original NodeMCU module;
//! -20..-28 are new checks the original module never made.

/// User close or graceful end.
pub const OK: i32 = 0;
/// URL scheme is neither `ws://` nor `wss://`.
pub const BAD_SCHEME: i32 = -1;
/// Host name of 256 characters or more.
pub const HOST_TOO_LONG: i32 = -2;
/// Port not in 1..65535.
pub const BAD_PORT: i32 = -3;
/// Empty host name.
pub const NO_HOST: i32 = -4;
/// Host name resolution failed.
pub const DNS: i32 = -5;
/// The server closed the connection with a close frame.
pub const SERVER_CLOSED: i32 = -6;
/// `Sec-WebSocket-Accept` missing or wrong.
pub const BAD_ACCEPT: i32 = -7;
/// Out of memory for a message reassembly buffer.
pub const NO_MEMORY_MESSAGE: i32 = -8;
/// Out of memory for a control frame split across segments.
pub const NO_MEMORY_CONTROL: i32 = -9;
/// Out of memory for the handshake (request or response parser).
pub const NO_MEMORY_HANDSHAKE: i32 = -10;
/// Continuation without a started message, or a new data frame inside one.
pub const FRAGMENTATION: i32 = -15;
/// Out of memory while queueing data to send.
pub const NO_MEMORY_SEND: i32 = -16;
/// The response status line is not `HTTP/1.1 101`.
pub const NOT_SWITCHING: i32 = -17;
/// The opening handshake did not finish within the connect timeout.
pub const CONNECT_TIMEOUT: i32 = -18;
/// No answer to the keep-alive pings.
pub const PING_TIMEOUT: i32 = -19;
/// The server sent a masked frame (close 1002).
pub const MASKED_FRAME: i32 = -20;
/// RSV1..RSV3 set (close 1002).
pub const RESERVED_BITS: i32 = -21;
/// Opcode 3..7 or 11..15 (close 1002).
pub const RESERVED_OPCODE: i32 = -22;
/// Control frame longer than 125 bytes or not FIN (close 1002).
pub const BAD_CONTROL_FRAME: i32 = -23;
/// Close payload of 1 byte, invalid code (1002) or reason not UTF-8 (1007).
pub const BAD_CLOSE_PAYLOAD: i32 = -24;
/// Text message that is not UTF-8 (close 1007).
pub const INVALID_UTF8: i32 = -25;
/// Message larger than `max_message` (close 1009).
pub const MESSAGE_TOO_BIG: i32 = -26;
/// Handshake response too large or malformed.
pub const BAD_HANDSHAKE: i32 = -27;
/// An extra header with a name or value that cannot be sent (CR, LF, ':'...).
pub const BAD_HEADER: i32 = -28;
/// `ws_send_long` only: not connected.
pub const NOT_CONNECTED: i32 = -30;
/// `ws_send_long` only: opcode not 1, 2, 9 or 10.
pub const BAD_OPCODE: i32 = -31;
/// Anything else.
pub const OTHER: i32 = -99;

/// Offset added to an espconn error code (`err - 100`).
pub const ESPCONN_OFFSET: i32 = -100;
/// espconn "connection closed" (`ESPCONN_CLSD`, -10) reported as -110.
pub const PEER_CLOSED_TCP: i32 = -110;
