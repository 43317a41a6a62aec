//! The status of a connection or call: [`Status`], the one definition of
//! every code. The core returns `Result<T, Status>`; the C edge hands
//! [`Status::code`] to `onFailure`/`onClose` and returns a `Status` from
//! `ws_send_long`. cbindgen reads this file: `Status` becomes
//! `typedef int ws_status;` and each constant below `#define WS_...` in
//! `include/websocketclient.h` (so the C names are the Rust names).
//!
//! -1..-7 and -15..-19 keep the numbers of the original NodeMCU module;
//! -20..-28 are new checks the original module never made; an espconn error
//! `e` (< 0) is reported as `e - 100` ([`Status::espconn`]).

use core::ffi::c_int;

/// A status code: `WS_OK` (0) or a negative `WS_ERR_*` code, or an espconn
/// error minus 100.
#[repr(transparent)]
#[derive(Clone, Copy, PartialEq, Eq)]
#[cfg_attr(any(test, feature = "std"), derive(Debug))]
pub struct Status(c_int);

impl Status {
    /// The code as C sees it.
    #[inline]
    pub const fn code(self) -> c_int {
        self.0
    }

    /// The status for espconn error `err` (< 0): `err - 100`.
    #[inline]
    pub const fn espconn(err: c_int) -> Status {
        Status(err.saturating_add(-100))
    }

    /// The status with code `code` (e.g. the `int` a callback received).
    #[inline]
    pub const fn from_code(code: c_int) -> Status {
        Status(code)
    }
}

/// Host builds print the code (the device archive has no formatting code).
#[cfg(any(test, feature = "std"))]
impl core::fmt::Display for Status {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// User close or graceful end.
pub const WS_OK: Status = Status(0);
/// URL scheme is neither `ws://` nor `wss://`.
pub const WS_ERR_BAD_SCHEME: Status = Status(-1);
/// Host name of 256 characters or more.
pub const WS_ERR_HOST_TOO_LONG: Status = Status(-2);
/// Port not in 1..65535.
pub const WS_ERR_BAD_PORT: Status = Status(-3);
/// Empty host name.
pub const WS_ERR_NO_HOST: Status = Status(-4);
/// Host name resolution failed.
pub const WS_ERR_DNS: Status = Status(-5);
/// The server closed the connection with a close frame.
pub const WS_ERR_SERVER_CLOSED: Status = Status(-6);
/// `Sec-WebSocket-Accept` missing or wrong, or a protocol chosen that was
/// not offered.
pub const WS_ERR_BAD_ACCEPT: Status = Status(-7);
/// Out of memory for a message reassembly buffer.
pub const WS_ERR_NO_MEMORY_MESSAGE: Status = Status(-8);
/// Out of memory for a control frame split across segments.
pub const WS_ERR_NO_MEMORY_CONTROL: Status = Status(-9);
/// Out of memory for the connection and its opening handshake.
pub const WS_ERR_NO_MEMORY_HANDSHAKE: Status = Status(-10);
/// Continuation without a started message, or a new data frame inside one
/// (close 1002).
pub const WS_ERR_FRAGMENTATION: Status = Status(-15);
/// Out of memory while queueing data to send.
pub const WS_ERR_NO_MEMORY_SEND: Status = Status(-16);
/// The response status line is not `HTTP/1.1 101`.
pub const WS_ERR_NOT_SWITCHING: Status = Status(-17);
/// The opening handshake did not finish within `connect_timeout_ms`.
pub const WS_ERR_CONNECT_TIMEOUT: Status = Status(-18);
/// No answer to the keep-alive pings.
pub const WS_ERR_PING_TIMEOUT: Status = Status(-19);
/// New: the server sent a masked frame (close 1002).
pub const WS_ERR_MASKED_FRAME: Status = Status(-20);
/// New: RSV1..RSV3 set (close 1002).
pub const WS_ERR_RESERVED_BITS: Status = Status(-21);
/// New: opcode 3..7 or 11..15 (close 1002).
pub const WS_ERR_RESERVED_OPCODE: Status = Status(-22);
/// New: control frame longer than 125 bytes or not FIN (close 1002).
pub const WS_ERR_BAD_CONTROL_FRAME: Status = Status(-23);
/// New: close payload of 1 byte, invalid code (1002) or reason not UTF-8
/// (1007).
pub const WS_ERR_BAD_CLOSE_PAYLOAD: Status = Status(-24);
/// New: text message that is not UTF-8 (close 1007).
pub const WS_ERR_INVALID_UTF8: Status = Status(-25);
/// New: message larger than `max_message` (close 1009).
pub const WS_ERR_MESSAGE_TOO_BIG: Status = Status(-26);
/// New: handshake response header block too large or malformed.
pub const WS_ERR_BAD_HANDSHAKE: Status = Status(-27);
/// New: an extra header (or offered protocol list) that cannot be sent
/// (CR, LF, ':' in a name...).
pub const WS_ERR_BAD_HEADER: Status = Status(-28);
/// `ws_send_long` only: not connected.
pub const WS_ERR_NOT_CONNECTED: Status = Status(-30);
/// `ws_send_long` only: opcode not 1, 2, 9 or 10 (or a control payload over
/// 125 bytes).
pub const WS_ERR_BAD_OPCODE: Status = Status(-31);
/// Anything else (also `ws_send_long` with a NULL message and length > 0).
pub const WS_ERR_OTHER: Status = Status(-99);
/// TCP closed by the peer without a close frame: espconn's "closed"
/// (`ESPCONN_CLSD`, -10) minus 100.
pub const WS_ERR_TCP_CLOSED: Status = Status(-110);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn espconn_errors_are_offset_by_100() {
        assert_eq!(Status::espconn(-10), WS_ERR_TCP_CLOSED);
        assert_eq!(Status::espconn(-9).code(), -109);
        assert_eq!(Status::espconn(i32::MIN).code(), i32::MIN);
    }
}
