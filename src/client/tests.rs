use super::*;
use crate::buffer::stats;
use crate::frame::{OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT};
use crate::handshake::Header;
use crate::status::{self, Status};
use proptest::prelude::*;

/// An unmasked server frame.
pub fn sframe(fin: bool, op: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = vec![(u8::from(fin) << 7) | op];
    let n = payload.len();
    if n < 126 {
        v.push(n as u8);
    } else if n < 65536 {
        v.push(126);
        v.extend_from_slice(&(n as u16).to_be_bytes());
    } else {
        v.push(127);
        v.extend_from_slice(&(n as u64).to_be_bytes());
    }
    v.extend_from_slice(payload);
    v
}

/// Parses masked client frames: (fin, opcode, unmasked payload).
pub fn client_frames(mut b: &[u8]) -> Vec<(bool, u8, Vec<u8>)> {
    let mut out = Vec::new();
    while !b.is_empty() {
        assert!(b.len() >= 2, "truncated frame");
        let fin = b[0] & 0x80 != 0;
        let op = b[0] & 0x0F;
        assert_eq!(b[1] & 0x80, 0x80, "client frames must be masked");
        let (len, mut at) = match b[1] & 0x7F {
            126 => (u16::from_be_bytes([b[2], b[3]]) as usize, 4),
            127 => (
                u64::from_be_bytes(b[2..10].try_into().unwrap()) as usize,
                10,
            ),
            n => (n as usize, 2),
        };
        let mask = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        at += 4;
        let p: Vec<u8> = b[at..at + len]
            .iter()
            .enumerate()
            .map(|(i, x)| x ^ mask[i % 4])
            .collect();
        out.push((fin, op, p));
        b = &b[at + len..];
    }
    out
}

/// The 101 response answering the request in `req`.
pub fn response_for(req: &[u8]) -> Vec<u8> {
    response_with(req, "")
}

/// The 101 response answering `req`, with `extra` header lines.
pub fn response_with(req: &[u8], extra: &str) -> Vec<u8> {
    crate::testkit::response_to(req, extra).expect("a complete request with a key")
}

/// A scripted driver around a Client.
pub struct H {
    pub c: Client,
    pub sent: Vec<u8>,
    pub req_len: usize,
    pub chunks: Vec<usize>,
    pub inflight: usize,
    /// Address and copy of each accepted chunk whose sent event is due:
    /// checked at the sent event (the port may read them until then).
    pub flight: std::collections::VecDeque<(usize, Vec<u8>)>,
    pub auto_ack: bool,
    pub busy: bool,
    pub timer: Option<u32>,
    pub opened: u32,
    pub connect: Option<(u16, bool)>,
    pub msgs: Vec<(u8, Vec<u8>)>,
    /// Streamed pieces: (opcode, bytes, fin).
    pub pieces: Vec<(u8, Vec<u8>, bool)>,
    pub finished: Option<Status>,
    pub send_error: Option<i32>,
    /// Messages delivered by the whole-message fast path.
    pub fast: usize,
}

enum A {
    Idle,
    Send(usize, Vec<u8>),
    Other,
    Finish(Status),
}

impl H {
    pub fn try_new(opts: Options) -> Result<H, Status> {
        Self::with(opts, None)
    }
    pub fn with(opts: Options, protocols: Option<&[u8]>) -> Result<H, Status> {
        let url = crate::url::parse(b"ws://example.com:8080/chat?x=1").unwrap();
        let c = Client::new(
            &url,
            core::iter::empty::<Header>(),
            protocols,
            opts,
            &[7; 16],
            [3; 16],
            crate::testkit::sha1,
        )?;
        Ok(H {
            c,
            sent: Vec::new(),
            req_len: 0,
            chunks: Vec::new(),
            inflight: 0,
            flight: Default::default(),
            auto_ack: true,
            busy: false,
            timer: None,
            opened: 0,
            connect: None,
            msgs: Vec::new(),
            pieces: Vec::new(),
            finished: None,
            send_error: None,
            fast: 0,
        })
    }
    pub fn new() -> H {
        Self::try_new(Options::DEFAULT).unwrap()
    }
    pub fn pump(&mut self) {
        while self.finished.is_none() {
            let a = match self.c.poll() {
                Action::Idle => A::Idle,
                Action::Send(b) => A::Send(b.as_ptr() as usize, b.to_vec()),
                Action::Connect { port, secure } => {
                    self.connect = Some((port, secure));
                    A::Other
                }
                Action::ArmTimer(ms) => {
                    self.timer = Some(ms);
                    A::Other
                }
                Action::DisarmTimer => {
                    self.timer = None;
                    A::Other
                }
                Action::Opened => {
                    self.opened += 1;
                    A::Other
                }
                Action::Finish(st) => A::Finish(st),
            };
            match a {
                A::Idle => return,
                A::Other => {}
                A::Finish(st) => {
                    assert!(self.finished.is_none(), "two final statuses");
                    self.finished = Some(st);
                    return;
                }
                A::Send(at, b) => {
                    assert!(b.len() <= MAX_CHUNK);
                    if let Some(e) = self.send_error.take() {
                        self.c.send_result(e);
                    } else if self.busy {
                        self.c.send_result(PORT_BUSY);
                    } else {
                        self.sent.extend_from_slice(&b);
                        self.chunks.push(b.len());
                        self.flight.push_back((at, b));
                        self.c.send_result(0);
                        self.inflight += 1;
                        if self.auto_ack {
                            self.ack();
                        }
                    }
                }
            }
        }
    }
    /// Receives `s` cut into segments of the lengths in `cuts` (the
    /// rest in one last segment).
    pub fn rx_cut(&mut self, s: &[u8], cuts: &[usize]) {
        let mut at = 0;
        for &c in cuts {
            let end = (at + c).min(s.len());
            self.rx(&s[at..end]);
            at = end;
        }
        self.rx(&s[at..]);
    }
    pub fn ack(&mut self) {
        while self.inflight > 0 {
            self.inflight -= 1;
            // The port reads an accepted chunk until its sent event: it
            // must still be in the queue, at the same address, unchanged.
            if let Some((at, copy)) = self.flight.pop_front() {
                assert_eq!(
                    self.c.holds(at, copy.len()),
                    Some(&copy[..]),
                    "chunk in flight moved, changed or freed before its sent event"
                );
            }
            let due = self.c.sent();
            assert!(
                due || !self.c.has_actions(),
                "sent() says false while actions are due"
            );
        }
        self.pump();
    }
    pub fn start(&mut self) {
        self.c.resolved(true);
        self.pump();
        self.c.connected();
        self.pump();
        self.req_len = self.sent.len();
    }
    pub fn response(&self) -> Vec<u8> {
        response_for(&self.sent[..self.req_len])
    }
    pub fn open(&mut self) {
        self.start();
        let r = self.response();
        self.rx(&r);
        assert_eq!(self.opened, 1);
        assert!(self.c.is_open());
    }
    pub fn rx(&mut self, data: &[u8]) {
        let mut d = data.to_vec();
        let mut pos = 0;
        if !d.is_empty() {
            if let Some(ms) = self.c.segment_arrived() {
                self.timer = Some(ms);
            }
        }
        loop {
            // As the C API does: the whole-message fast path first.
            while pos != 0 {
                let Some(m) = self.c.whole_message(&mut d, &mut pos) else {
                    break;
                };
                assert_eq!(d[m.start + m.len], 0, "NUL after fast-path message");
                self.msgs
                    .push((m.opcode, d[m.start..m.start + m.len].to_vec()));
                self.fast += 1;
                d[m.start + m.len] = m.saved;
            }
            match self.c.receive(&mut d, &mut pos) {
                Rx::Done => break,
                Rx::Again => {}
                Rx::InPlace {
                    opcode,
                    start,
                    len,
                    restore,
                } => {
                    assert_eq!(d[start + len], 0, "NUL after in-place message");
                    self.msgs.push((opcode, d[start..start + len].to_vec()));
                    if let Some((i, b)) = restore {
                        d[i] = b;
                    }
                }
                Rx::Fragment {
                    opcode,
                    start,
                    len,
                    fin,
                } => {
                    self.pieces
                        .push((opcode, d[start..start + len].to_vec(), fin));
                }
                Rx::Pong { .. } => panic!("pongs are not asked for"),
                Rx::Owned { opcode, buf } => {
                    let s = buf.as_slice();
                    assert_eq!(s.last(), Some(&0), "NUL after copied message");
                    // Exact for a single frame; a message joined from
                    // fragments may carry up to 50 % growth slack.
                    assert!(buf.capacity() * 2 <= s.len() * 3, "bounded slack");
                    self.msgs.push((opcode, s[..s.len() - 1].to_vec()));
                }
            }
            self.pump();
        }
        self.pump();
    }
    /// Client frames sent after the handshake request.
    pub fn frames(&self) -> Vec<(bool, u8, Vec<u8>)> {
        client_frames(&self.sent[self.req_len..])
    }
    /// The server closes TCP.
    pub fn tcp_closed(&mut self) {
        self.c.disconnected(0);
        self.pump();
    }
    pub fn timer_fires(&mut self) {
        self.c.timer();
        self.pump();
    }
}

fn opened() -> H {
    let mut h = H::new();
    h.open();
    h
}

/// An open connection whose port took one text frame (`first`), holds it
/// unacknowledged (its sent event due) and answers busy to anything more.
fn opened_busy(first: &[u8]) -> H {
    let mut h = opened();
    h.auto_ack = false;
    h.c.send(OP_TEXT, first).unwrap();
    h.pump();
    h.busy = true;
    h
}

fn opened_with(opts: Options, protocols: Option<&[u8]>, extra: &str) -> H {
    let mut h = H::with(opts, protocols).unwrap();
    h.start();
    let r = response_with(&h.sent[..h.req_len], extra);
    h.rx(&r);
    h
}

#[test]
fn protocol_must_be_offered_and_is_kept() {
    let d = Options::DEFAULT;
    let proto = |p: &str| format!("Sec-WebSocket-Protocol: {p}\r\n");
    // Offered a and b, server picks b.
    let h = opened_with(d, Some(b"a, b"), &proto("b"));
    assert_eq!(h.opened, 1);
    let req = String::from_utf8(h.sent[..h.req_len].to_vec()).unwrap();
    assert!(
        req.contains("\r\nSec-WebSocket-Protocol: a, b\r\n"),
        "{req}"
    );
    assert_eq!(h.c.protocol(), Some(&b"b\0"[..]));
    assert_eq!(h.c.heap_bytes(), 2, "only the protocol is kept");
    // Not offered: -7, no connection event.
    for (offer, answer) in [
        (Some(&b"a, b"[..]), "c"),
        (Some(&b"a, b"[..]), "a, b"),
        (None, "superchat"),
        (Some(&b""[..]), "chat"),
    ] {
        let h = opened_with(d, offer, &proto(answer));
        assert_eq!(
            h.finished,
            Some(status::WS_ERR_BAD_ACCEPT),
            "{offer:?} {answer}"
        );
        assert_eq!(h.opened, 0);
    }
    // The default offer is chat; no answer means no protocol.
    let h = opened_with(d, None, &proto("chat"));
    assert_eq!(h.c.protocol(), Some(&b"chat\0"[..]));
    let h = opened_with(d, Some(b""), "");
    assert_eq!(h.opened, 1);
    assert_eq!(h.c.protocol(), None);
    assert_eq!(h.c.heap_bytes(), 0);
    // Request sent in pieces and a response that arrives before the
    // request's sent event: still checked against the request.
    let mut h = H::with(d, Some(b"x1,x2")).unwrap();
    h.auto_ack = false;
    h.start();
    h.c.send(OP_TEXT, b"early").unwrap();
    let r = response_with(&h.sent[..h.req_len], &proto("x2"));
    h.rx(&r);
    assert_eq!(h.c.protocol(), Some(&b"x2\0"[..]));
    h.ack();
    assert_eq!(h.frames(), vec![(true, OP_TEXT, b"early".to_vec())]);
    h.ack();
    assert_eq!(h.c.heap_bytes(), 3);
}

#[test]
fn close_info_from_the_server() {
    // Server-initiated, code and reason, with a protocol kept as well.
    let mut h = opened_with(Options::DEFAULT, None, "Sec-WebSocket-Protocol: chat\r\n");
    assert_eq!(h.c.close_info(), None);
    h.auto_ack = false;
    h.rx(&sframe(true, OP_CLOSE, &[0x0F, 0xA1, b'b', b'y', b'e']));
    assert_eq!(h.c.close_info(), Some((4001, &b"bye"[..])));
    assert_eq!(h.c.protocol(), Some(&b"chat\0"[..]));
    // Empty close frame: 1005.
    let mut h = opened();
    h.auto_ack = false;
    h.rx(&sframe(true, OP_CLOSE, &[]));
    assert_eq!(h.c.close_info(), Some((1005, &b""[..])));
    // User close answered by the server.
    let mut h = opened();
    h.c.close();
    h.pump();
    h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE8, b'o', b'k']));
    assert_eq!(h.c.close_info(), Some((1000, &b"ok"[..])));
    // Invalid close frame: not recorded.
    let mut h = opened();
    h.auto_ack = false;
    h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE8, 0xFF]));
    assert_eq!(h.finished, None);
    assert_eq!(h.c.close_info(), None);
    // Close frame split across segments (collected in a buffer).
    let mut h = opened();
    h.auto_ack = false;
    let f = sframe(true, OP_CLOSE, &[0x0B, 0xB8, b'a', b'b', b'c', b'd']);
    h.rx(&f[..4]);
    h.rx(&f[4..]);
    assert_eq!(h.c.close_info(), Some((3000, &b"abcd"[..])));
    // Out of memory for the reason: the code alone.
    let mut h = opened();
    h.auto_ack = false;
    stats::fail_nth(1);
    h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE9, b'x']));
    stats::fail_nth(0);
    assert_eq!(h.c.close_info(), Some((1001, &b""[..])));
}

#[test]
fn user_close_with_code_and_reason() {
    let close = |code: u16, reason: &[u8]| {
        let mut h = opened();
        h.c.close_with(code, reason);
        h.pump();
        assert_eq!(h.c.connection_state(), 3, "3 through the closing handshake");
        h.frames()
    };
    let f = |c: u16, r: &[u8]| vec![(true, OP_CLOSE, [&c.to_be_bytes()[..], r].concat())];
    assert_eq!(close(4001, b"why"), f(4001, b"why"));
    assert_eq!(close(1001, b""), f(1001, b""));
    let max = [b'r'; 123];
    assert_eq!(close(3000, &max), f(3000, &max));
    // Not allowed: replaced by 1000 without a reason.
    for (code, reason) in [
        (1005u16, &b"x"[..]),
        (999, b""),
        (1004, b""),
        (5000, b""),
        (1000, &[b'r'; 124][..]),
        (4000, &[0xFF][..]),
    ] {
        assert_eq!(close(code, reason), f(1000, b""), "{code}");
    }
    // Before the handshake: at once, nothing sent, status 0.
    let mut h = H::new();
    h.start();
    h.c.close_with(4000, b"x");
    h.pump();
    assert_eq!(h.finished, Some(status::WS_OK));
    assert_eq!(h.sent.len(), h.req_len);
}

fn streaming() -> H {
    let mut h = H::try_new(Options {
        stream: true,
        max_message: 10,
        ..Options::DEFAULT
    })
    .unwrap();
    h.open();
    h
}

#[test]
fn streaming_delivers_pieces_without_buffering() {
    let mut h = streaming();
    let msg: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    let mut seg = sframe(false, OP_BINARY, &msg[..40_000]);
    seg.extend(sframe(true, OP_PING, b"p"));
    seg.extend(sframe(false, OP_CONTINUATION, &msg[40_000..99_999]));
    seg.extend(sframe(true, OP_CONTINUATION, &msg[99_999..]));
    seg.extend(sframe(true, OP_TEXT, b"next"));
    seg.extend(sframe(false, OP_TEXT, b"x"));
    seg.extend(sframe(true, OP_CONTINUATION, b""));
    let n = stats::total();
    for c in seg.chunks(1460) {
        h.rx(c);
    }
    assert_eq!(stats::total() - n, 1, "only the pong is allocated");
    assert!(h.msgs.is_empty(), "no whole messages in streaming mode");
    assert_eq!(h.finished, None, "max_message does not apply");
    assert_eq!(h.frames(), vec![(true, OP_PONG, b"p".to_vec())]);
    // Pieces: per frame and per segment, opcode on each, fin on the last.
    let first: Vec<_> = h.pieces.iter().take_while(|p| p.0 == OP_BINARY).collect();
    let joined: Vec<u8> = first.iter().flat_map(|p| p.1.clone()).collect();
    assert_eq!(joined, msg);
    assert!(first.len() >= 100_000 / 1460);
    assert!(first.iter().all(|p| p.1.len() <= 1460 && !p.1.is_empty()));
    assert!(first[..first.len() - 1].iter().all(|p| !p.2));
    assert!(first.last().unwrap().2);
    assert_eq!(first.last().unwrap().1, vec![msg[99_999]]);
    let rest: Vec<_> = h.pieces[first.len()..].to_vec();
    assert_eq!(
        rest,
        vec![
            (OP_TEXT, b"next".to_vec(), true),
            (OP_TEXT, b"x".to_vec(), false),
            (OP_TEXT, vec![], true),
        ]
    );
    assert_eq!(h.c.heap_bytes(), 0);
    // After a user close pieces are dropped.
    h.pieces.clear();
    h.c.close();
    h.pump();
    h.rx(&sframe(true, OP_TEXT, b"late"));
    assert!(h.pieces.is_empty());
}

#[test]
fn streaming_validates_utf8_incrementally() {
    // A character split across pieces is fine.
    let mut h = streaming();
    let seg = sframe(true, OP_TEXT, "é€😀".as_bytes());
    for c in seg.chunks(3) {
        h.rx(c);
    }
    let all: Vec<u8> = h.pieces.iter().flat_map(|p| p.1.clone()).collect();
    assert_eq!(all, "é€😀".as_bytes());
    assert_eq!(h.finished, None);
    // Invalid byte: -25 with close 1007, the bad piece is not delivered.
    let mut h = streaming();
    h.rx(&sframe(false, OP_TEXT, b"fine"));
    h.rx(&sframe(true, OP_CONTINUATION, b"\xFF"));
    assert_eq!(h.pieces, vec![(OP_TEXT, b"fine".to_vec(), false)]);
    h.tcp_closed();
    assert_eq!(h.finished, Some(status::WS_ERR_INVALID_UTF8));
    assert_eq!(
        h.frames(),
        vec![(true, OP_CLOSE, 1007u16.to_be_bytes().to_vec())]
    );
    // Ends inside a character: in the last frame, or after an empty one.
    for tail in [
        sframe(true, OP_TEXT, b"ab\xE2\x82"),
        [
            sframe(false, OP_TEXT, b"ab\xE2\x82"),
            sframe(true, OP_CONTINUATION, b""),
        ]
        .concat(),
    ] {
        let mut h = streaming();
        h.rx(&tail);
        h.tcp_closed();
        assert_eq!(h.finished, Some(status::WS_ERR_INVALID_UTF8));
        assert!(h.pieces.iter().all(|p| !p.2), "no fin piece");
    }
    // Binary is not checked.
    let mut h = streaming();
    h.rx(&sframe(true, OP_BINARY, b"\xFF"));
    assert_eq!(h.pieces, vec![(OP_BINARY, vec![0xFF], true)]);
    // Fragmentation rules still apply.
    let mut h = streaming();
    h.rx(&sframe(true, OP_CONTINUATION, b"x"));
    h.tcp_closed();
    assert_eq!(h.finished, Some(status::WS_ERR_FRAGMENTATION));
}

#[test]
fn request_goes_out_after_connect_with_connect_timer() {
    let mut h = H::new();
    assert_eq!(h.c.connection_state(), 1);
    h.c.resolved(true);
    h.pump();
    assert_eq!(h.connect, Some((8080, false)));
    assert_eq!(h.timer, Some(10_000));
    assert_eq!(h.c.connection_state(), 2);
    assert!(h.sent.is_empty());
    h.c.connected();
    h.pump();
    assert_eq!(h.c.connection_state(), 3);
    assert!(h.sent.starts_with(b"GET /chat?x=1 HTTP/1.1\r\n"));
    assert!(h.sent.ends_with(b"\r\n\r\n"));
}

#[test]
fn open_arms_keepalive_and_frees_parser() {
    let mut h = H::new();
    h.start();
    let before = h.c.heap_bytes();
    let r = h.response();
    h.rx(&r);
    assert_eq!(h.opened, 1);
    assert_eq!(h.timer, Some(30_000));
    assert!(h.c.heap_bytes() < before);
    assert_eq!(h.c.heap_bytes(), 0, "idle open connection holds no heap");
}

#[test]
fn response_split_with_first_frame_glued() {
    let mut h = H::new();
    h.start();
    let mut all = h.response();
    all.extend(sframe(true, OP_TEXT, b"hello"));
    all.extend(sframe(true, OP_BINARY, &[1, 2, 3]));
    for chunk in all.chunks(7) {
        h.rx(chunk);
    }
    assert_eq!(h.opened, 1);
    assert_eq!(h.msgs, vec![(1, b"hello".to_vec()), (2, vec![1, 2, 3])]);
}

#[test]
fn in_place_messages_allocate_nothing() {
    let mut h = opened();
    let mut seg = sframe(true, OP_TEXT, b"abc");
    seg.extend(sframe(true, OP_BINARY, b""));
    seg.extend(sframe(true, OP_TEXT, b"last one"));
    let n = stats::total();
    h.rx(&seg);
    assert_eq!(stats::total(), n, "no allocation for in-segment messages");
    assert_eq!(
        h.msgs,
        vec![(1, b"abc".to_vec()), (2, vec![]), (1, b"last one".to_vec())]
    );
}

#[test]
fn whole_message_fast_path_and_its_fallbacks() {
    let mut h = opened();
    let long = vec![b'x'; 300]; // 16-bit length
    let mut seg = sframe(true, OP_TEXT, b"first"); // segment start: frame path
    seg.extend(sframe(true, OP_TEXT, b"fast"));
    seg.extend(sframe(true, OP_BINARY, &long));
    seg.extend(sframe(true, OP_TEXT, "\u{e9}t\u{e9}".as_bytes()));
    seg.extend(sframe(true, OP_PING, b"p")); // control: frame path
    seg.extend(sframe(false, OP_TEXT, b"frag")); // fragment: frame path
    seg.extend(sframe(true, OP_CONTINUATION, b"ment"));
    seg.extend(sframe(true, OP_TEXT, b"end")); // ends the segment: frame path
    let n = stats::total();
    h.rx(&seg);
    // Only the pong's send queue and the fragments' buffer (+ growth).
    assert_eq!(stats::total() - n, 3);
    let want: Vec<(u8, Vec<u8>)> = vec![
        (1, b"first".to_vec()),
        (1, b"fast".to_vec()),
        (2, long.clone()),
        (1, "\u{e9}t\u{e9}".as_bytes().to_vec()),
        (1, b"fragment".to_vec()),
        (1, b"end".to_vec()),
    ];
    assert_eq!(h.msgs, want);
    assert_eq!(h.fast, 3, "fast, the 300 bytes and the UTF-8 one");
    // Invalid UTF-8 and an oversized message fall back and fail as usual.
    let mut bad = sframe(true, OP_TEXT, b"ok");
    bad.extend(sframe(true, OP_TEXT, &[0xC0, 0x80]));
    bad.extend(sframe(true, OP_TEXT, b"never"));
    let (st, _) = status_after(&bad);
    assert_eq!(st, Some(status::WS_ERR_INVALID_UTF8));
    let mut h = H::try_new(Options {
        max_message: 4,
        ..Options::DEFAULT
    })
    .unwrap();
    h.open();
    let mut big = sframe(true, OP_TEXT, b"ok");
    big.extend(sframe(true, OP_TEXT, b"12345"));
    big.extend(sframe(true, OP_TEXT, b"never"));
    h.rx(&big);
    h.tcp_closed();
    assert_eq!(h.finished, Some(status::WS_ERR_MESSAGE_TOO_BIG));
    assert_eq!(h.msgs, vec![(1, b"ok".to_vec())]);
}

#[test]
fn defect_fragmented_message_joined_correctly() {
    let mut h = opened();
    let mut seg = sframe(false, OP_TEXT, b"Hello, ");
    seg.extend(sframe(false, OP_CONTINUATION, b"fragmented "));
    seg.extend(sframe(false, OP_CONTINUATION, b""));
    seg.extend(sframe(true, OP_CONTINUATION, b"world"));
    h.rx(&seg);
    assert_eq!(h.msgs, vec![(1, b"Hello, fragmented world".to_vec())]);
    // Binary, four fragments across segment boundaries.
    let big: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
    let mut seg = sframe(false, OP_BINARY, &big[..100]);
    seg.extend(sframe(false, OP_CONTINUATION, &big[100..400]));
    seg.extend(sframe(false, OP_CONTINUATION, &big[400..999]));
    seg.extend(sframe(true, OP_CONTINUATION, &big[999..]));
    for c in seg.chunks(33) {
        h.rx(c);
    }
    assert_eq!(h.msgs.len(), 2);
    assert_eq!(h.msgs[1].0, 2);
    assert_eq!(h.msgs[1].1.len(), 1000);
    assert_eq!(h.msgs[1].1, big);
}

#[test]
fn defect_control_frame_between_fragments() {
    let mut h = opened();
    let mut seg = sframe(false, OP_TEXT, b"one ");
    seg.extend(sframe(true, OP_PING, b"are you there"));
    seg.extend(sframe(false, OP_CONTINUATION, b"two "));
    seg.extend(sframe(true, OP_PONG, b"x"));
    seg.extend(sframe(true, OP_CONTINUATION, b"three"));
    for c in seg.chunks(5) {
        h.rx(c);
    }
    assert_eq!(h.msgs, vec![(1, b"one two three".to_vec())]);
    assert_eq!(h.frames(), vec![(true, OP_PONG, b"are you there".to_vec())]);
}

#[test]
fn defect_receive_not_quadratic() {
    // One 64 KiB frame in 1000 segments: one allocation of exactly
    // size + 1, each byte copied once (no regrowth).
    let mut h = opened();
    let msg: Vec<u8> = (0..65_536u32).map(|i| i as u8).collect();
    let seg = sframe(true, OP_BINARY, &msg);
    let n = stats::total();
    let copied = stats::copied();
    for c in seg.chunks(seg.len() / 1000 + 1) {
        h.rx(c);
    }
    assert_eq!(stats::total() - n, 1);
    // Each payload byte copied once, plus the NUL.
    assert!(stats::copied() - copied <= msg.len() + 1);
    assert_eq!(h.msgs, vec![(2, msg.clone())]);
    // Fed as fragments of `part` bytes in segments of `seg` bytes:
    // returns the allocations it took.
    let mut fragments = |part: usize, seg: usize| {
        let parts: Vec<&[u8]> = msg.chunks(part).collect();
        let mut stream = Vec::new();
        for (i, p) in parts.iter().enumerate() {
            let op = if i == 0 { OP_BINARY } else { OP_CONTINUATION };
            stream.extend(sframe(i + 1 == parts.len(), op, p));
        }
        let n = stats::total();
        for c in stream.chunks(seg) {
            h.rx(c);
        }
        assert_eq!(h.msgs.last(), Some(&(2, msg.clone())));
        stats::total() - n
    };
    // 16 fragments across many segments: at most one (re)allocation each.
    let allocs = fragments(4096, 1400);
    assert!(allocs <= 16, "{allocs} allocations for 16 fragments");
    // 4096 fragments of 16 bytes: reallocations grow geometrically, so
    // their number is logarithmic, not one per fragment (each realloc
    // may copy the whole buffer on allocators that cannot grow in place).
    let allocs = fragments(16, 1460);
    assert!(allocs <= 32, "{allocs} allocations for 4096 fragments");
}

#[test]
fn defect_no_frame_before_handshake_done() {
    let mut h = H::new();
    h.start();
    assert_eq!(h.c.send(OP_TEXT, b"early"), Ok(()));
    h.pump();
    assert_eq!(
        h.sent.len(),
        h.req_len,
        "nothing but the request before the 101"
    );
    let r = h.response();
    h.rx(&r[..10]);
    assert_eq!(h.sent.len(), h.req_len);
    h.rx(&r[10..]);
    assert_eq!(h.frames(), vec![(true, OP_TEXT, b"early".to_vec())]);
}

/// `ws_send_long` on the harness: a frame sent directly gets "port"
/// result `r` (0 = accepted, recorded as sent); returns its length, or
/// 0 if it was queued instead.
fn direct(h: &mut H, op: u8, payload: &[u8], r: i32) -> Result<usize, Status> {
    let mut got = Vec::new();
    let mut at = 0;
    let op = UserOpcode::new(op).ok_or(status::WS_ERR_BAD_OPCODE)?;
    h.c.send_via(op, payload, |f| {
        got = f.to_vec();
        at = f.as_ptr() as usize;
        r
    })?;
    if r == 0 && !got.is_empty() {
        h.sent.extend_from_slice(&got);
        h.chunks.push(got.len());
        h.flight.push_back((at, got.clone()));
        h.inflight += 1;
    }
    Ok(got.len())
}

#[test]
fn small_sends_go_to_the_port_at_once_and_keep_order() {
    let mut h = opened();
    h.auto_ack = false;
    assert_eq!(direct(&mut h, OP_TEXT, b"hello", 0), Ok(11));
    // The bytes handed to the port stay the queue's until the sent event.
    assert_eq!(h.c.heap_bytes(), 11);
    assert!(h.c.sending());
    h.ack();
    assert_eq!(h.c.heap_bytes(), 11, "kept, empty, for the next send");
    assert!(!h.c.sending());
    assert_eq!(direct(&mut h, OP_PING, b"", 0), Ok(6));
    assert_eq!(h.c.heap_bytes(), 11, "the ping reused it");
    // A frame behind one in flight waits for its sent event (the bytes
    // in flight do not move), then goes joined with what followed.
    assert_eq!(direct(&mut h, OP_BINARY, &[1; 122], 0), Ok(0));
    assert_eq!(h.c.heap_bytes(), 11 + 128);
    assert_eq!(direct(&mut h, OP_BINARY, &[2; 123], 0), Ok(0));
    assert_eq!(direct(&mut h, OP_TEXT, b"queued", 0), Ok(0));
    let chunks = h.chunks.len();
    h.ack();
    assert_eq!(h.chunks.len(), chunks + 1, "one chunk for the three");
    h.ack();
    assert_eq!(direct(&mut h, OP_TEXT, b"later", 0), Ok(11));
    // Behind a frame in flight: queued (the port is not even asked), sent
    // after its sent event.
    assert_eq!(direct(&mut h, OP_TEXT, b"refused", PORT_BUSY), Ok(0));
    assert_eq!(direct(&mut h, OP_TEXT, b"after", 0), Ok(0));
    h.pump();
    h.ack();
    let f = h.frames();
    let payloads: Vec<&[u8]> = f.iter().map(|(_, _, p)| p.as_slice()).collect();
    assert_eq!(
        payloads,
        vec![
            &b"hello"[..],
            b"",
            &[1; 122],
            &[2; 123],
            b"queued",
            b"later",
            b"refused",
            b"after"
        ]
    );
    assert_eq!(f[1].1, OP_PING);
    assert!(f.iter().all(|(fin, _, _)| *fin));
    assert_eq!(h.c.heap_bytes(), 24, "the last chunk until its sent event");
    h.ack();
    let kept = h.c.heap_bytes();
    assert!(kept <= KEEP_OUT, "{kept} B kept when drained");
    // A segment arriving frees it (here an empty pong).
    h.rx(&[0x8A, 0]);
    assert_eq!(h.c.heap_bytes(), 0, "queue freed when a segment arrives");
    // Opcode checks as `send`; before the handshake finished the frame
    // is held in the queue.
    assert_eq!(direct(&mut h, 3, b"", 0), Err(status::WS_ERR_BAD_OPCODE));
    assert_eq!(
        direct(&mut h, OP_PING, &[0; 126], 0),
        Err(status::WS_ERR_BAD_OPCODE)
    );
    let mut h2 = H::new();
    h2.start();
    assert_eq!(direct(&mut h2, OP_TEXT, b"early", 0), Ok(0));
    // A port error ends the connection (err - 100); the port may still
    // read the refused chunk, so it counts as in flight.
    assert_eq!(direct(&mut h, OP_TEXT, b"boom", -9), Ok(10));
    assert!(h.c.sending());
    h.pump();
    assert_eq!(h.finished, Some(Status::espconn(-9)));
}

/// The send buffer a small send leaves is kept, empty, for the next one:
/// reused while nothing comes back, never touched while a chunk in it is
/// in flight, freed when a segment arrives (on an idle connection the
/// keep-alive ping reuses it and its pong frees it); a buffer above
/// `KEEP_OUT` goes at its sent event.
#[test]
fn small_send_buffer_kept_until_a_segment_arrives() {
    let mut h = opened();
    h.auto_ack = false;
    assert_eq!(direct(&mut h, OP_TEXT, b"abc", 0), Ok(9));
    let at = h.flight[0].0;
    h.ack();
    assert_eq!(h.c.heap_bytes(), 9, "kept after its sent event");
    let allocs = stats::total();
    assert_eq!(direct(&mut h, OP_TEXT, b"de", 0), Ok(8));
    assert_eq!(h.flight[0].0, at, "the kept buffer is reused");
    assert_eq!(stats::total(), allocs, "without an allocation");
    // In flight: the next small send queues behind it (the ack checks the
    // bytes in flight stayed put), and a segment does not free it.
    assert_eq!(direct(&mut h, OP_TEXT, b"fghi", 0), Ok(0));
    h.rx(&[0x8A, 0]);
    assert!(h.c.sending());
    assert!(
        h.c.holds(at, 8).is_some(),
        "the chunk in flight is still there"
    );
    h.ack();
    h.ack();
    let f = h.frames();
    let tail: Vec<&[u8]> = f[f.len() - 3..].iter().map(|x| x.2.as_slice()).collect();
    assert_eq!(tail, vec![&b"abc"[..], b"de", b"fghi"]);
    let kept = h.c.heap_bytes();
    assert!(kept > 0 && kept <= KEEP_OUT);
    // Idle: the keep-alive ping goes out of the kept buffer, the pong
    // frees it.
    h.auto_ack = true;
    let allocs = stats::total();
    assert!(h.c.timer());
    h.pump();
    assert_eq!(h.frames().last().map(|x| x.1), Some(OP_PING));
    assert_eq!(h.c.heap_bytes(), kept);
    assert_eq!(stats::total(), allocs, "the ping needed no allocation");
    h.rx(&[0x8A, 0]);
    assert_eq!(h.c.heap_bytes(), 0, "freed by a segment");
    // The largest direct frame's buffer is kept too.
    h.auto_ack = false;
    assert_eq!(direct(&mut h, OP_BINARY, &[7; 122], 0), Ok(128));
    h.ack();
    assert_eq!(h.c.heap_bytes(), KEEP_OUT);
    h.rx(&[0x8A, 0]);
    assert_eq!(h.c.heap_bytes(), 0);
    // A buffer grown past KEEP_OUT goes at its sent event.
    assert_eq!(direct(&mut h, OP_TEXT, b"x", 0), Ok(7));
    h.ack();
    h.auto_ack = true;
    h.c.send(OP_BINARY, &[1; 200]).unwrap();
    h.pump();
    assert_eq!(h.c.heap_bytes(), 0, "a big buffer is not kept");
    assert_eq!(h.finished, None);
}

#[test]
fn defect_send_queue_respects_busy() {
    let mut h = opened_busy(b"first");
    let big = vec![0x5Au8; 70_000];
    h.c.send(OP_BINARY, &big).unwrap();
    h.c.send(OP_TEXT, b"third").unwrap();
    h.pump();
    let before = h.sent.len();
    h.busy = false;
    h.pump(); // nothing moves until a sent event
    assert_eq!(h.sent.len(), before);
    h.ack();
    h.ack();
    h.ack();
    let f = h.frames();
    assert_eq!(f.len(), 3);
    assert_eq!(f[0].2, b"first");
    assert_eq!(f[1].2, big);
    assert_eq!(f[2].2, b"third");
    assert!(h.chunks.iter().all(|&c| c <= MAX_CHUNK));
}

#[test]
fn ping_flood_against_a_peer_that_does_not_read_keeps_pongs_bounded() {
    use super::PONG_QUEUE_MAX;
    let mut h = opened_busy(b"x");
    let live = stats::live_bytes();
    // The waiting pongs (at most PONG_QUEUE_MAX + 125 bytes) in a buffer
    // with the send queue's growth slack (at most half again).
    let bound = (PONG_QUEUE_MAX + 125) * 3 / 2;
    for i in 0..1000u32 {
        h.rx(&sframe(true, OP_PING, &[i as u8; 125]));
        assert!(stats::live_bytes() - live <= bound, "ping {i}: queue grows");
    }
    // The peer reads again: the first pings each got their pong while they
    // fit in PONG_QUEUE_MAX, then one pong answering the most recent ping
    // replaced the last of them; the next ping is answered with its own
    // payload.
    h.busy = false;
    h.ack();
    h.ack();
    h.rx(&sframe(true, OP_PING, b"later"));
    h.ack();
    let f = h.frames();
    let fit = PONG_QUEUE_MAX / 131; // 125-byte payload: 131-byte frame
    assert_eq!(f.len(), 1 + fit + 1);
    for (i, fr) in f[1..fit].iter().enumerate() {
        assert_eq!(*fr, (true, OP_PONG, vec![i as u8; 125]), "pong {i}");
    }
    assert_eq!(f[fit], (true, OP_PONG, vec![(999 % 256) as u8; 125]));
    assert_eq!(f[fit + 1], (true, OP_PONG, b"later".to_vec()));
}

#[test]
fn ping_burst_while_the_port_is_busy_gets_every_pong_in_order() {
    // Autobahn 2.10/2.11: ten pings in a row while the port has a chunk in
    // flight; each gets its pong, in order.
    let mut h = opened_busy(b"x");
    let mut seg = Vec::new();
    for i in 0..10 {
        seg.extend(sframe(true, OP_PING, format!("payload-{i}").as_bytes()));
    }
    h.rx(&seg);
    for i in 10..20 {
        h.rx(&sframe(true, OP_PING, format!("payload-{i}").as_bytes()));
    }
    h.busy = false;
    h.ack();
    h.ack();
    let f = h.frames();
    assert_eq!(f.len(), 21);
    for (i, fr) in f[1..].iter().enumerate() {
        assert_eq!(*fr, (true, OP_PONG, format!("payload-{i}").into_bytes()));
    }
}

#[test]
fn pongs_behind_a_data_frame_over_the_bound_get_none() {
    use super::PONG_QUEUE_MAX;
    let mut h = opened_busy(b"x");
    let fit = PONG_QUEUE_MAX / 131;
    for i in 0..fit {
        h.rx(&sframe(true, OP_PING, &[i as u8; 125]));
    }
    h.c.send(OP_TEXT, b"data").unwrap();
    // Over the bound and the last pong is not the last frame: no pong.
    h.rx(&sframe(true, OP_PING, &[0xEE; 125]));
    h.busy = false;
    h.ack();
    h.ack();
    let f = h.frames();
    assert_eq!(f.len(), 1 + fit + 1);
    assert_eq!(f[fit + 1], (true, OP_TEXT, b"data".to_vec()));
    assert!(f.iter().all(|fr| fr.2 != vec![0xEE; 125]));
}

#[test]
fn defect_close_reason_parsed_correctly() {
    let mut h = opened();
    h.rx(&sframe(true, OP_CLOSE, &[0x0F, 0xA0, b'b', b'y', b'e']));
    assert_eq!(h.frames(), vec![(true, OP_CLOSE, vec![0x0F, 0xA0])]);
    assert_eq!(h.finished, Some(status::WS_ERR_SERVER_CLOSED));
    let mut h = opened();
    h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE8]));
    assert_eq!(h.frames(), vec![(true, OP_CLOSE, vec![0x03, 0xE8])]);
    assert_eq!(h.finished, Some(status::WS_ERR_SERVER_CLOSED));
}

#[test]
fn server_close_waits_for_reply_sent() {
    let mut h = opened();
    h.auto_ack = false;
    h.rx(&sframe(true, OP_CLOSE, &[]));
    assert_eq!(h.frames(), vec![(true, OP_CLOSE, vec![])]);
    assert_eq!(h.finished, None);
    assert_eq!(h.c.connection_state(), 3);
    assert_eq!(h.timer, Some(5_000));
    h.ack();
    assert_eq!(h.finished, Some(status::WS_ERR_SERVER_CLOSED));
    assert_eq!(h.c.connection_state(), 4);
}

#[test]
fn defect_user_close_reports_zero() {
    let mut h = opened();
    h.c.close();
    h.pump();
    assert_eq!(
        h.frames(),
        vec![(true, OP_CLOSE, 1000u16.to_be_bytes().to_vec())]
    );
    assert_eq!(h.c.connection_state(), 3);
    assert_eq!(h.timer, Some(5_000));
    h.c.close(); // twice is fine
    h.rx(&sframe(true, OP_TEXT, b"dropped"));
    assert!(h.msgs.is_empty());
    h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE8]));
    assert_eq!(h.finished, None, "waits for the TCP close");
    h.c.disconnected(0);
    h.pump();
    assert_eq!(h.finished, Some(status::WS_OK));
    // Server never answers: the close timer ends it with 0.
    let mut h = opened();
    h.c.close();
    h.pump();
    h.timer_fires();
    assert_eq!(h.finished, Some(status::WS_OK));
    // Close before the handshake finished: at once, 0, nothing sent.
    let mut h = H::new();
    h.start();
    h.c.close();
    h.pump();
    assert_eq!(h.finished, Some(status::WS_OK));
    assert_eq!(h.sent.len(), h.req_len);
    let mut h = H::new();
    h.c.close();
    h.pump();
    assert_eq!(h.finished, Some(status::WS_OK));
}

#[test]
fn defect_64k_send_not_truncated() {
    let mut h = opened();
    let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
    h.c.send(OP_BINARY, &data).unwrap();
    h.pump();
    assert_eq!(h.sent[h.req_len + 1], 0x80 | 127, "64-bit length");
    assert_eq!(h.frames(), vec![(true, OP_BINARY, data)]);
    assert_eq!(h.chunks[1..].to_vec(), vec![65_535, 100_014 - 65_535]);
    assert_eq!(h.c.heap_bytes(), 0, "queue freed when drained");
}

type Frames = Vec<(bool, u8, Vec<u8>)>;

/// The status once the server, having read our close frame, closes TCP.
fn status_after(seg: &[u8]) -> (Option<Status>, Frames) {
    let mut h = opened();
    h.rx(seg);
    assert_eq!(
        h.finished, None,
        "waits for the server after its close frame"
    );
    h.tcp_closed();
    (h.finished, h.frames())
}

#[test]
fn protocol_errors_close_with_the_right_code() {
    let close = |c: u16| vec![(true, OP_CLOSE, c.to_be_bytes().to_vec())];
    let cases: Vec<(Vec<u8>, Status, u16)> = vec![
        (
            sframe(true, OP_CONTINUATION, b"x"),
            status::WS_ERR_FRAGMENTATION,
            1002,
        ),
        (
            [sframe(false, OP_TEXT, b"a"), sframe(true, OP_TEXT, b"b")].concat(),
            status::WS_ERR_FRAGMENTATION,
            1002,
        ),
        (
            vec![0x81, 0x81, 1, 2, 3, 4, b'x'],
            status::WS_ERR_MASKED_FRAME,
            1002,
        ),
        (vec![0xC1, 0x01, b'x'], status::WS_ERR_RESERVED_BITS, 1002),
        (vec![0x83, 0x00], status::WS_ERR_RESERVED_OPCODE, 1002),
        (
            sframe(false, OP_PING, b""),
            status::WS_ERR_BAD_CONTROL_FRAME,
            1002,
        ),
        (
            sframe(true, OP_PING, &[0; 126]),
            status::WS_ERR_BAD_CONTROL_FRAME,
            1002,
        ),
        (
            sframe(true, OP_CLOSE, &[3]),
            status::WS_ERR_BAD_CLOSE_PAYLOAD,
            1002,
        ),
        (
            sframe(true, OP_CLOSE, &[0x03, 0xEE]),
            status::WS_ERR_BAD_CLOSE_PAYLOAD,
            1002,
        ),
        (
            sframe(true, OP_CLOSE, &[0x03, 0xE8, 0xC0]),
            status::WS_ERR_BAD_CLOSE_PAYLOAD,
            1007,
        ),
        (
            sframe(true, OP_TEXT, &[0xFF]),
            status::WS_ERR_INVALID_UTF8,
            1007,
        ),
        (
            [
                sframe(false, OP_TEXT, b"ok"),
                sframe(true, OP_CONTINUATION, &[0xE2, 0x82]),
            ]
            .concat(),
            status::WS_ERR_INVALID_UTF8,
            1007,
        ),
    ];
    for (seg, st, code) in cases {
        let (fin, frames) = status_after(&seg);
        assert_eq!(fin, Some(st), "segment {seg:02x?}");
        assert_eq!(frames, close(code), "segment {seg:02x?}");
    }
    // Too big: judged on the declared length, before allocating.
    let mut h = H::try_new(Options {
        max_message: 100,
        ..Options::DEFAULT
    })
    .unwrap();
    h.open();
    h.rx(&sframe(true, OP_BINARY, &[0; 100]));
    assert_eq!(h.msgs.len(), 1);
    let n = stats::total();
    h.rx(&[0x82, 126, 0x00, 101]);
    assert_eq!(stats::total(), n + 1, "only the close frame is allocated");
    assert!(stats::live_bytes() < 100);
    assert_eq!(h.frames(), close(1009));
    // The rest of the oversized message is read and discarded, allocating
    // nothing, until the server closes TCP.
    let n = stats::total();
    h.rx(&[0; 101]);
    assert_eq!(stats::total(), n, "discarded bytes allocate nothing");
    assert_eq!(h.finished, None);
    h.c.disconnected(0);
    h.pump();
    assert_eq!(h.finished, Some(status::WS_ERR_MESSAGE_TOO_BIG));
    // Fragments adding up to more than the limit.
    let mut h = H::try_new(Options {
        max_message: 100,
        ..Options::DEFAULT
    })
    .unwrap();
    h.open();
    h.rx(&[
        sframe(false, OP_BINARY, &[0; 60]),
        sframe(true, OP_CONTINUATION, &[0; 41]),
    ]
    .concat());
    h.timer_fires();
    assert_eq!(h.finished, Some(status::WS_ERR_MESSAGE_TOO_BIG));
}

#[test]
fn protocol_error_close_bounded_by_timer() {
    let mut h = opened();
    h.auto_ack = false;
    h.rx(&[0x83, 0x00]);
    assert_eq!(h.finished, None);
    h.rx(&sframe(true, OP_TEXT, b"ignored"));
    assert!(h.msgs.is_empty());
    h.timer_fires();
    assert_eq!(h.finished, Some(status::WS_ERR_RESERVED_OPCODE));
}

#[test]
fn handshake_failures() {
    let mut h = H::new();
    h.start();
    h.rx(b"HTTP/1.1 200 OK\r\n\r\n");
    assert_eq!(h.finished, Some(status::WS_ERR_NOT_SWITCHING));
    let mut h = H::new();
    h.start();
    h.rx(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n");
    assert_eq!(h.finished, Some(status::WS_ERR_BAD_ACCEPT));
    let mut h = H::new();
    h.start();
    h.rx(b"HTTP/1.1 101 Switching Protocols\r\n");
    let junk = vec![b'a'; 9000];
    h.rx(&junk);
    assert_eq!(h.finished, Some(status::WS_ERR_BAD_HANDSHAKE));
    assert_eq!(h.opened, 0);
}

#[test]
fn timeouts_and_disconnects() {
    // DNS failure.
    let mut h = H::new();
    h.c.resolved(false);
    h.pump();
    assert_eq!(h.finished, Some(status::WS_ERR_DNS));
    // Connect timeout while connecting, and during the handshake.
    let mut h = H::new();
    h.c.resolved(true);
    h.pump();
    h.timer_fires();
    assert_eq!(h.finished, Some(status::WS_ERR_CONNECT_TIMEOUT));
    let mut h = H::new();
    h.start();
    h.timer_fires();
    assert_eq!(h.finished, Some(status::WS_ERR_CONNECT_TIMEOUT));
    // Port errors.
    let mut h = H::new();
    h.c.resolved(true);
    h.c.port_error(-9);
    h.pump();
    assert_eq!(h.finished, Some(Status::espconn(-9)));
    let mut h = opened();
    h.c.disconnected(0);
    h.pump();
    assert_eq!(h.finished, Some(status::WS_ERR_TCP_CLOSED));
    let mut h = opened();
    h.c.disconnected(-8);
    h.pump();
    assert_eq!(h.finished, Some(Status::espconn(-8)));
    let mut h = opened();
    h.send_error = Some(-1);
    h.c.send(OP_TEXT, b"x").unwrap();
    h.pump();
    assert_eq!(h.finished, Some(Status::espconn(-1)));
    // Server closes TCP after its close frame and our reply.
    let mut h = opened();
    h.auto_ack = false;
    h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE8]));
    h.c.disconnected(0);
    h.pump();
    assert_eq!(h.finished, Some(status::WS_ERR_SERVER_CLOSED));
}

#[test]
fn keepalive_pings_then_drops_with_minus_19() {
    let mut h = opened();
    h.timer_fires(); // 30 s silence: ping 1
    assert_eq!(h.frames().len(), 1);
    assert_eq!(h.frames()[0].1, OP_PING);
    h.timer_fires(); // 60 s: ping 2
    assert_eq!(h.frames().len(), 2);
    assert_eq!(h.finished, None);
    h.timer_fires(); // 90 s: 2 unanswered pings -> drop
    assert_eq!(h.finished, Some(status::WS_ERR_PING_TIMEOUT));
    // Every received segment restarts the timer and clears the
    // unanswered pings: two pings per silence, never a drop.
    let mut h = opened();
    for _ in 0..10 {
        h.timer = None;
        h.rx(&sframe(true, OP_PONG, b""));
        assert_eq!(h.timer, Some(30_000), "a segment restarts the timer");
        h.timer_fires(); // 30 s after the pong: ping
        h.timer_fires(); // 60 s: second ping, still within pong_timeout
    }
    assert_eq!(h.finished, None);
    assert_eq!(h.frames().len(), 20);
    assert!(h.frames().iter().all(|f| f.1 == OP_PING));
    // Disabled.
    let mut h = H::try_new(Options {
        ping_interval_ms: 0,
        ..Options::DEFAULT
    })
    .unwrap();
    h.open();
    for _ in 0..10 {
        h.timer_fires();
    }
    assert_eq!(h.finished, None);
}

#[test]
fn user_send_rules() {
    let mut h = H::new();
    assert_eq!(h.c.send(OP_TEXT, b"x"), Err(status::WS_ERR_NOT_CONNECTED));
    h.open();
    assert_eq!(h.c.send(3, b"x"), Err(status::WS_ERR_BAD_OPCODE));
    assert_eq!(h.c.send(OP_CLOSE, b""), Err(status::WS_ERR_BAD_OPCODE));
    assert_eq!(h.c.send(OP_PING, &[0; 126]), Err(status::WS_ERR_BAD_OPCODE));
    assert_eq!(h.c.send(OP_PING, b"p"), Ok(()));
    h.c.close();
    assert_eq!(h.c.send(OP_TEXT, b"x"), Err(status::WS_ERR_NOT_CONNECTED));
}

#[test]
fn bad_extra_header_is_minus_28() {
    let url = crate::url::parse(b"ws://h/").unwrap();
    let hs = [Header {
        name: b"X-Bad",
        value: b"a\r\nb",
    }];
    let r = Client::new(
        &url,
        hs.iter().copied(),
        None,
        Options::DEFAULT,
        &[0; 16],
        [0; 16],
        crate::testkit::sha1,
    );
    assert_eq!(r.err(), Some(status::WS_ERR_BAD_HEADER));
}

/// Runs a scenario touching every allocation site; returns the final
/// status (None if it completed without one).
fn scenario() -> Result<Option<Status>, Status> {
    let mut h = H::try_new(Options::DEFAULT)?;
    h.start();
    let mut s = h.response();
    s.extend(sframe(false, OP_TEXT, b"frag-1 "));
    s.extend(sframe(true, OP_PING, b"ping"));
    s.extend(sframe(true, OP_CONTINUATION, b"frag-2"));
    s.extend(sframe(true, OP_PING, b"split ping payload"));
    s.extend(sframe(true, OP_BINARY, &[9; 300]));
    for c in s.chunks(9) {
        h.rx(c);
        if h.finished.is_some() {
            return Ok(h.finished);
        }
    }
    if h.c.send(OP_TEXT, b"reply").is_err() {
        h.pump();
        return Ok(h.finished);
    }
    h.pump();
    if h.finished.is_none() {
        assert_eq!(h.msgs.len(), 2);
    }
    Ok(h.finished)
}

#[test]
fn allocation_failure_at_each_site() {
    let mut seen = std::collections::BTreeSet::new();
    let mut k = 1;
    loop {
        assert_eq!(stats::live(), 0);
        stats::fail_nth(k);
        let r = scenario();
        stats::fail_nth(0);
        assert_eq!(stats::live(), 0, "leak after failing allocation {k}");
        match r {
            Err(e) => {
                assert_eq!(e, status::WS_ERR_NO_MEMORY_HANDSHAKE);
                seen.insert(e.code());
            }
            Ok(Some(st)) => {
                assert!(
                    [
                        status::WS_ERR_NO_MEMORY_HANDSHAKE,
                        status::WS_ERR_NO_MEMORY_MESSAGE,
                        status::WS_ERR_NO_MEMORY_CONTROL,
                        status::WS_ERR_NO_MEMORY_SEND
                    ]
                    .contains(&st),
                    "allocation {k}: status {st:?}"
                );
                seen.insert(st.code());
            }
            Ok(None) => break, // the Nth allocation was never reached
        }
        // A new connection works after the failure.
        assert_eq!(scenario(), Ok(None));
        k += 1;
        assert!(k < 100);
    }
    for st in [-8, -9, -10, -16] {
        assert!(seen.contains(&st), "status {st} never produced: {seen:?}");
    }
}

/// A valid server stream: response + frames; returns the messages.
fn valid_stream(req: &[u8], msgs: &[(u8, Vec<u8>)], frag: usize) -> Vec<u8> {
    let mut s = response_for(req);
    for (op, m) in msgs {
        let parts: Vec<&[u8]> = if m.is_empty() {
            vec![&m[..]]
        } else {
            m.chunks(frag.max(1)).collect()
        };
        for (i, p) in parts.iter().enumerate() {
            let op = if i == 0 { *op } else { OP_CONTINUATION };
            s.extend(sframe(i + 1 == parts.len(), op, p));
            if i % 2 == 1 {
                s.extend(sframe(true, OP_PING, b"pp"));
            }
        }
    }
    s
}

/// Up to five messages: opcode 1 (text) or 2 (binary), up to 299 bytes each.
fn message_specs() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    proptest::collection::vec(
        (1u8..=2, proptest::collection::vec(any::<u8>(), 0..300)),
        1..6,
    )
}

/// Where a stream is cut into segments.
fn cut_points() -> impl Strategy<Value = Vec<usize>> {
    proptest::collection::vec(1usize..200, 0..40)
}

/// `specs` with each text message's bytes made valid text by `text`.
fn with_text(specs: Vec<(u8, Vec<u8>)>, text: impl Fn(&[u8]) -> Vec<u8>) -> Vec<(u8, Vec<u8>)> {
    specs
        .into_iter()
        .map(|(op, m)| if op == 1 { (1, text(&m)) } else { (2, m) })
        .collect()
}

/// Starts `h`'s handshake and feeds it the server's answer followed by
/// `msgs` (fragments of `frag` bytes), in segments cut at `cuts`.
fn feed_valid_stream(h: &mut H, msgs: &[(u8, Vec<u8>)], frag: usize, cuts: &[usize]) {
    h.start();
    let s = valid_stream(&h.sent[..h.req_len], msgs, frag);
    h.rx_cut(&s, cuts);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
    #[test]
    fn any_segmentation_yields_the_same_messages(
        msgs in message_specs(),
        frag in 1usize..100,
        cuts in cut_points(),
    ) {
        let msgs = with_text(msgs, |m| m.iter().map(|b| b'a' + b % 26).collect());
        let mut h = H::new();
        feed_valid_stream(&mut h, &msgs, frag, &cuts);
        prop_assert_eq!(h.finished, None);
        prop_assert_eq!(&h.msgs, &msgs);
    }

    #[test]
    fn streamed_pieces_join_to_the_messages(
        msgs in message_specs(),
        frag in 1usize..100,
        cuts in cut_points(),
    ) {
        let msgs = with_text(msgs, |m| String::from_utf8_lossy(m).into_owned().into_bytes());
        let mut h = H::try_new(Options { stream: true, max_message: 1, ..Options::DEFAULT }).unwrap();
        feed_valid_stream(&mut h, &msgs, frag, &cuts);
        prop_assert_eq!(h.finished, None);
        let mut got: Vec<(u8, Vec<u8>)> = Vec::new();
        let mut open = false;
        for (op, b, fin) in &h.pieces {
            if !open {
                got.push((*op, Vec::new()));
            }
            let last = got.last_mut().unwrap();
            prop_assert_eq!(last.0, *op);
            last.1.extend_from_slice(b);
            open = !fin;
        }
        prop_assert!(!open);
        prop_assert_eq!(&got, &msgs);
        // Nothing buffered but the send buffer a pong of ours may have
        // left, kept for the next send.
        prop_assert_eq!(h.c.heap_bytes(), h.c.queue.kept(), "nothing buffered");
    }

    #[test]
    fn arbitrary_bytes_after_handshake_never_panic(
        segs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..400), 0..20),
    ) {
        {
            let mut h = H::try_new(Options { max_message: 4096, ..Options::DEFAULT }).unwrap();
            h.open();
            for s in &segs {
                h.rx(s);
                prop_assert!(stats::live_bytes() < 4096 + 1024, "{} bytes", stats::live_bytes());
                if h.finished.is_some() { break; }
            }
        }
        prop_assert_eq!(stats::live(), 0);
    }
}

/// The closing state: one `Phase::Closing { status, wait }` per path, and
/// what ends it.
#[test]
fn closing_state_per_path() {
    use super::Wait;
    let closing = |status, wait| Phase::Closing { status, wait };
    // The user closes; the server answers; TCP closes.
    let mut h = opened();
    h.auto_ack = false;
    h.c.close();
    h.pump();
    assert_eq!(h.c.phase(), closing(status::WS_OK, Wait::ForServer));
    h.rx(&sframe(true, OP_TEXT, b"dropped"));
    assert!(h.msgs.is_empty());
    h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE8]));
    assert_eq!(h.c.phase(), closing(status::WS_OK, Wait::ForTcp));
    h.ack();
    assert_eq!(h.finished, None, "waits for TCP, not for the sent event");
    h.c.disconnected(0);
    h.pump();
    assert_eq!(h.c.phase(), Phase::Done(status::WS_OK));
    // The user closes; the server breaks the protocol: stop reading, keep 0.
    let mut h = opened();
    h.c.close();
    h.pump();
    h.rx(&[0x83, 0x00]);
    assert_eq!(h.c.phase(), closing(status::WS_OK, Wait::ForTcp));
    h.timer_fires();
    assert_eq!(h.finished, Some(status::WS_OK));
    // The server closes: answered, over once the answer is sent.
    let mut h = opened();
    h.auto_ack = false;
    h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE8]));
    assert_eq!(
        h.c.phase(),
        closing(status::WS_ERR_SERVER_CLOSED, Wait::ForSent)
    );
    h.ack();
    assert_eq!(h.finished, Some(status::WS_ERR_SERVER_CLOSED));
    // A protocol error while open: close 1002, then discard until the
    // server closes TCP (so it reads our code instead of a reset).
    let mut h = opened();
    h.auto_ack = false;
    h.rx(&[0x83, 0x00]);
    assert_eq!(
        h.c.phase(),
        closing(status::WS_ERR_RESERVED_OPCODE, Wait::ForTcp)
    );
    assert_eq!(h.frames(), vec![(true, OP_CLOSE, vec![0x03, 0xEA])]);
    h.ack();
    assert_eq!(h.finished, None, "sent, still waiting for the server");
    h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xEA]));
    h.rx(&sframe(true, OP_TEXT, b"discarded"));
    assert!(h.msgs.is_empty());
    h.c.disconnected(0);
    h.pump();
    assert_eq!(h.finished, Some(status::WS_ERR_RESERVED_OPCODE));
    // The first final status sticks.
    let mut h = opened();
    h.c.disconnected(-9);
    h.c.timer();
    h.c.disconnected(0);
    h.pump();
    assert_eq!(h.finished, Some(Status::espconn(-9)));
}

#[test]
fn keepalive_ping_count_saturates_as_late() {
    // 1 ms pings against a timeout no count of them reaches in 32 bits:
    // the 16-bit count of unanswered pings saturates, and a saturated
    // count is past any timeout (-19 after 65535 unanswered pings).
    let mut h = H::try_new(Options {
        ping_interval_ms: 1,
        pong_timeout_ms: u32::MAX,
        ..Options::DEFAULT
    })
    .unwrap();
    h.open();
    for _ in 0..u16::MAX {
        h.timer_fires();
    }
    assert_eq!(h.finished, None);
    h.timer_fires();
    assert_eq!(h.finished, Some(status::WS_ERR_PING_TIMEOUT));
}

/// After a protocol error with the framing intact, frames are skipped
/// unread until the server's close frame, whose header ends the
/// connection (the server has read our close); after a framing error only
/// TCP (or the close timer) ends it.
#[test]
fn protocol_error_waits_for_the_servers_close_frame_or_tcp() {
    let close = |c: u16| vec![(true, OP_CLOSE, c.to_be_bytes().to_vec())];
    let too_big = || {
        let mut h = H::try_new(Options {
            max_message: 100,
            ..Options::DEFAULT
        })
        .unwrap();
        h.open();
        h.rx(&[0x82, 126, 0x00, 200]);
        assert_eq!(h.frames(), close(1009));
        h
    };
    // The oversized message's rest (over two segments), pings and data
    // frames (one split from its payload) are skipped: nothing answered,
    // nothing delivered; the close frame's header ends it.
    let mut h = too_big();
    let n = stats::total();
    h.rx(&[0; 150]);
    let t = sframe(true, OP_TEXT, b"text");
    h.rx(&[[0; 50].as_slice(), &sframe(true, OP_PING, b"p"), &t[..2]].concat());
    h.rx(&[&t[2..], &sframe(true, OP_BINARY, &[9; 300])[..]].concat());
    assert_eq!(stats::total(), n, "skipping allocates nothing");
    assert_eq!(h.finished, None);
    h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xF1])[..2]);
    assert_eq!(h.finished, Some(status::WS_ERR_MESSAGE_TOO_BIG));
    assert!(h.msgs.is_empty());
    assert_eq!(h.frames(), close(1009), "no pong, nothing after our close");
    // Our close frame not sent yet when the server's arrives: over once
    // it has gone out.
    let mut h = opened();
    h.auto_ack = false;
    h.c.send(OP_TEXT, b"busy").unwrap();
    h.pump();
    h.rx(&[sframe(true, OP_TEXT, &[0xFF]), sframe(true, OP_CLOSE, &[])].concat());
    assert_eq!(h.finished, None, "our close frame is still queued");
    h.ack();
    h.pump();
    h.ack();
    h.pump();
    assert_eq!(h.finished, Some(status::WS_ERR_INVALID_UTF8));
    assert_eq!(h.frames().last(), Some(&(true, OP_CLOSE, vec![0x03, 0xEF])));
    // Invalid UTF-8: the same.
    let mut h = opened();
    h.rx(&sframe(true, OP_TEXT, &[0xC3, 0x28]));
    assert_eq!(h.finished, None);
    h.rx(&sframe(true, OP_CLOSE, &[]));
    assert_eq!(h.finished, Some(status::WS_ERR_INVALID_UTF8));
    // A frame whose header breaks the framing (masked): the decoder is
    // lost, so a close frame after it means nothing; TCP ends it.
    let mut h = opened();
    h.rx(&[0x81, 0x81, 1, 2, 3, 4, b'x' ^ 1]);
    h.rx(&sframe(true, OP_CLOSE, &[0x03, 0xE8]));
    assert_eq!(
        h.finished, None,
        "a close frame after a framing error is not trusted"
    );
    h.tcp_closed();
    assert_eq!(h.finished, Some(status::WS_ERR_MASKED_FRAME));
    // A close header split across segments is not followed: TCP ends it.
    let mut h = opened();
    h.rx(&sframe(true, OP_TEXT, &[0xFF]));
    let c = sframe(true, OP_CLOSE, &[]);
    h.rx(&c[..1]);
    h.rx(&c[1..]);
    assert_eq!(h.finished, None);
    h.tcp_closed();
    assert_eq!(h.finished, Some(status::WS_ERR_INVALID_UTF8));
    // Skipped frames are not checked, only measured: a masked one (its
    // mask counted) and a 64-bit length are stepped over; then the timer.
    let mut h = too_big();
    let mut long = vec![0x82, 127, 0, 0, 0, 0, 0, 0, 0x01, 0x00];
    long.extend_from_slice(&[7; 256]);
    h.rx(&[[0; 200].as_slice(), &[0x81, 0x81, 1, 2, 3, 4, 0], &long].concat());
    assert_eq!(h.finished, None);
    h.rx(&sframe(true, OP_CLOSE, &[]));
    assert_eq!(h.finished, Some(status::WS_ERR_MESSAGE_TOO_BIG));
    let mut h = too_big();
    h.timer_fires();
    assert_eq!(h.finished, Some(status::WS_ERR_MESSAGE_TOO_BIG));
}
