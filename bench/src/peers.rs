//! The peers: tungstenite and embedded-websocket, client role, fed the same
//! server byte streams in the same segments.

use std::io::{self, Read, Write};

use embedded_websocket as ews;
use tungstenite::protocol::{Role, WebSocket};
use tungstenite::Message;

use crate::workloads::SEGMENT;
use crate::DetRng;

/// In-memory TCP stream: reads yield at most [`SEGMENT`] bytes of the current
/// input; writes are counted and discarded.
pub struct SegStream {
    input: &'static [u8],
    pos: usize,
    pub written: u64,
}

impl SegStream {
    pub fn new() -> Self {
        SegStream {
            input: &[],
            pos: 0,
            written: 0,
        }
    }
}

impl Default for SegStream {
    fn default() -> Self {
        Self::new()
    }
}

impl Read for SegStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.input[self.pos..];
        if rest.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = rest.len().min(buf.len()).min(SEGMENT);
        buf[..n].copy_from_slice(&rest[..n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for SegStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.written += buf.len() as u64;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// tungstenite client over a [`SegStream`] (opening handshake skipped: the
/// raw-socket constructor starts in the open phase).
pub struct Tung {
    ws: WebSocket<SegStream>,
}

impl Tung {
    pub fn open() -> Self {
        Tung {
            ws: WebSocket::from_raw_socket(SegStream::new(), Role::Client, None),
        }
    }

    /// Reads `messages` messages from `input`; returns their payload bytes.
    pub fn receive(&mut self, input: &'static [u8], messages: usize) -> Result<u64, String> {
        let s = self.ws.get_mut();
        s.input = input;
        s.pos = 0;
        let mut bytes = 0u64;
        for _ in 0..messages {
            match self.ws.read() {
                Ok(Message::Text(t)) => bytes += t.len() as u64,
                Ok(Message::Binary(b)) => bytes += b.len() as u64,
                Ok(other) => return Err(format!("tungstenite: unexpected {other:?}")),
                Err(e) => return Err(format!("tungstenite: {e}")),
            }
        }
        Ok(bytes)
    }

    /// Frames (masks) one binary message and writes it to the stream.
    pub fn send(&mut self, payload: &'static [u8]) -> Result<(), String> {
        self.ws
            .send(Message::Binary(tungstenite::Bytes::from_static(payload)))
            .map_err(|e| format!("tungstenite: {e}"))
    }

    pub fn written(&self) -> u64 {
        self.ws.get_ref().written
    }
}

/// embedded-websocket client: segments are appended to a receive buffer, its
/// `read` unmasks/copies payload into a message buffer sized for the largest
/// message; leftover header bytes stay for the next segment.
pub struct Embedded {
    ws: ews::WebSocketClient<DetRng>,
    rx: Box<[u8; 2 * SEGMENT]>,
    rx_len: usize,
    msg: Vec<u8>,
    msg_len: usize,
    out: Vec<u8>,
}

impl Embedded {
    pub fn open(max_message: usize) -> Self {
        let mut ws = ews::WebSocketClient::new_client(DetRng::new(7));
        // Skip the opening handshake, as for tungstenite.
        ws.state = ews::WebSocketState::Open;
        Embedded {
            ws,
            rx: Box::new([0u8; 2 * SEGMENT]),
            rx_len: 0,
            msg: vec![0u8; max_message + 1],
            msg_len: 0,
            out: vec![0u8; max_message + 16],
        }
    }

    /// Feeds one segment; returns (messages completed, their payload bytes).
    pub fn feed(&mut self, seg: &[u8]) -> Result<(u64, u64), String> {
        let end = self.rx_len + seg.len();
        if end > self.rx.len() {
            return Err(format!(
                "embedded-websocket: receive buffer overflow ({} + {})",
                self.rx_len,
                seg.len()
            ));
        }
        self.rx[self.rx_len..end].copy_from_slice(seg);
        self.rx_len = end;
        let mut pos = 0;
        let (mut messages, mut bytes) = (0u64, 0u64);
        while pos < self.rx_len {
            match self
                .ws
                .read(&self.rx[pos..self.rx_len], &mut self.msg[self.msg_len..])
            {
                Ok(r) => {
                    pos += r.len_from;
                    self.msg_len += r.len_to;
                    if r.end_of_message {
                        messages += 1;
                        bytes += self.msg_len as u64;
                        self.msg_len = 0;
                    }
                    if r.len_from == 0 && r.len_to == 0 {
                        // Bytes are waiting but nothing moves: embedded-websocket
                        // 0.9 keeps the finished continuation state of a non-final
                        // fragment that spanned reads and reads 0 bytes forever.
                        return Err(format!(
                            "embedded-websocket: stalled with {} unread bytes (fragment state not cleared)",
                            self.rx_len - pos
                        ));
                    }
                }
                Err(ews::Error::ReadFrameIncomplete) => break,
                Err(e) => return Err(format!("embedded-websocket: {e:?}")),
            }
        }
        self.rx.copy_within(pos..self.rx_len, 0);
        self.rx_len -= pos;
        Ok((messages, bytes))
    }

    /// Feeds a whole stream segment by segment.
    pub fn receive(&mut self, input: &[u8]) -> Result<(u64, u64), String> {
        let (mut m, mut b) = (0, 0);
        for seg in input.chunks(SEGMENT) {
            let (dm, db) = self.feed(seg)?;
            m += dm;
            b += db;
        }
        Ok((m, b))
    }

    /// Frames (masks) one binary message into the output buffer.
    pub fn send(&mut self, payload: &[u8]) -> Result<usize, String> {
        self.ws
            .write(
                ews::WebSocketSendMessageType::Binary,
                true,
                payload,
                &mut self.out,
            )
            .map_err(|e| format!("embedded-websocket: {e:?}"))
    }
}
