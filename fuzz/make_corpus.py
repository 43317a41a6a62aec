#!/usr/bin/env python3
"""Writes the committed seed corpus of the cargo-fuzz targets into
fuzz/corpus/<target>/ (deterministic: same files on every run).

Input layouts (see fuzz/src/lib.rs `split_input` and the targets):
  url                 raw URL bytes
  utf8                split header + bytes
  handshake_request   first line: URL path; further lines: name=value headers,
                      or !list = offered protocols
  handshake_response  split header + response bytes
  frame_decoder       split header + server frame stream
  engine              flags byte + re-entrancy/fail-nth byte + v2 mode byte +
                      mode parameters + split header + server stream
  sequence            a program of operations (fuzz/README.md "Sequence
                      program"); the engine target runs it too
The split header is: 1 byte n (low nibble), then n little-endian u16 cut
positions, then the body.
"""
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")

ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="


def split(body, cuts=()):
    cuts = list(cuts)[:15]
    return bytes([len(cuts)]) + b"".join(struct.pack("<H", c) for c in cuts) + body


def frame(opcode, payload=b"", fin=True, ext=None, rsv=0, mask=None):
    """Server frame; ext forces the length encoding: 0 (7-bit), 2, 8."""
    n = len(payload)
    if ext is None:
        ext = 0 if n < 126 else 2 if n <= 0xFFFF else 8
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    m = 0x80 if mask is not None else 0
    if ext == 0:
        hdr = bytes([b0, m | n])
    elif ext == 2:
        hdr = bytes([b0, m | 126]) + struct.pack(">H", n)
    else:
        hdr = bytes([b0, m | 127]) + struct.pack(">Q", n)
    if mask is not None:
        hdr += bytes(mask)
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return hdr + payload


def close(code=None, reason=b""):
    return frame(8, b"" if code is None else struct.pack(">H", code) + reason)


def response(extra=b"", accept=ACCEPT, eol=b"\r\n", status=b"HTTP/1.1 101 Switching Protocols"):
    lines = [status, b"Upgrade: websocket", b"Connection: Upgrade",
             b"Sec-WebSocket-Accept: " + accept]
    return eol.join(lines) + eol + extra + eol


STREAMS = {
    "text": frame(1, b"hello"),
    "binary": frame(2, bytes(range(40))),
    "len16": frame(2, bytes(i & 0xFF for i in range(300))),
    "len16_text": frame(1, b"x" * 200),
    "len16_text_70000": frame(1, b"y" * 1500, ext=8),
    "len64_nonminimal": frame(2, b"sixty-four", ext=8),
    "len16_nonminimal": frame(1, b"abc", ext=2),
    "empty_frames": frame(1) + frame(2) + frame(9) + frame(10),
    "fragmented_ping": frame(1, b"Hel", fin=False) + frame(9, b"ping!") +
        frame(0, b"lo, ", fin=False) + frame(10, b"pong") + frame(0, b"world"),
    "fragmented_binary": frame(2, b"\x00\x01", fin=False) + frame(0, b"", fin=False) +
        frame(0, b"\x02\x03"),
    "utf8_split_fragments": frame(1, "h\u00e9".encode()[:2], fin=False) +
        frame(0, "h\u00e9".encode()[2:] + "\u20ac\U0001F600".encode()),
    "several": frame(1, b"one") + frame(2, b"two") + frame(9, b"") + frame(1, b"three"),
    "close_1000": frame(1, b"bye") + close(1000, b"normal"),
    "close_empty": close(),
    "close_then_data": close(1001) + frame(1, b"after close"),
    "close_4000_reason": close(4000, "r\u00e9ason".encode()),
    # invalid streams
    "bad_masked": frame(1, b"masked", mask=[1, 2, 3, 4]),
    "bad_rsv": frame(1, b"rsv", rsv=4),
    "bad_opcode": frame(3, b"op"),
    "bad_long_ping": frame(9, b"p" * 126, ext=2),
    "bad_fragmented_ping": frame(9, b"p", fin=False),
    "bad_continuation": frame(0, b"orphan"),
    "bad_nested_start": frame(1, b"a", fin=False) + frame(1, b"b"),
    "bad_utf8": frame(1, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"),
    "bad_utf8_fragment": frame(1, b"ok", fin=False) + frame(0, b"\xf4\x90\x80\x80"),
    "bad_close_1byte": frame(8, b"\x03"),
    "bad_close_code": close(1005),
    "bad_close_reason": close(1000, b"\xff"),
    "bad_len64_msb": bytes([0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0]),
    "huge_len64": bytes([0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0]) + b"abc",
    "truncated": frame(2, b"truncated payload")[:9],
}

URLS = [
    b"ws://127.0.0.1:8080/", b"ws://localhost", b"wss://example.com", b"WS://Host:80/a/b?c=d",
    b"wss://h:443/?q=1#frag", b"ws://h?x", b"ws://h#f", b"ws://h:00080/x", b"ws://h:65535",
    b"ws://" + b"a" * 255 + b"/", b"ws://" + b"a" * 256, b"ws://h:0", b"ws://h:65536",
    b"ws://h:", b"ws://:80/", b"ws://", b"http://h/", b"ws://user@h/", b"ws://[::1]:80/",
    b"ws://h/a b", b"ws://h/\r\nX: y", b"wss:/h", b"ws://h:8x/", b"ws://h:99999999999999999999",
]

UTF8 = [
    "plain ascii".encode(), "h\u00e9llo w\u00f6rld \u20ac \U0001F600".encode(),
    b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x9f\x98",
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", b"\xff", b"\xef\xbf\xbf\xf4\x8f\xbf\xbf",
]


def engine_v2(flags, b1, mode, headers, offer, choice, close):
    """The engine input prefix. Byte 2 (mode): bit 0 onFragment streaming,
    bit 1 onClose, bit 2 ws_close_with, bits 3-4 offered protocols (0 NULL,
    1 "", 2 custom, 3 "chat, superchat,x"), bit 5 extraHeaders, bit 6 second
    connection from the final callback, bit 7 the server picks a protocol.
    Then, when set: headers (length byte + lines name=value), custom offer
    (length byte + bytes), the server's choice (1 byte: entry index, 0xFF
    a protocol not offered), the close (code u16 LE, reason length byte
    (0xFF = NULL reason of length 3) + reason)."""
    out = bytes([flags, b1, mode])
    if mode & 0x20:
        out += bytes([len(headers)]) + headers
    if (mode >> 3) & 3 == 2:
        out += bytes([len(offer)]) + offer
    if mode & 0x80:
        out += bytes([choice])
    if mode & 0x04:
        code, reason = close
        out += struct.pack("<H", code)
        out += bytes([0xFF]) if reason is None else bytes([len(reason)]) + reason
    return out


# Sequence programs (fuzz/README.md "Sequence program"): operation bytes
# (bit 7 = second ws_info, bits 0-6 mod 20 = the operation), with the bytes
# the port fakes and the callbacks read in between.
RECONNECT = 0x52          # ws_connect_with, reconnection on (next: settings)
RECONNECT_ONCLOSE = 0x66  # the same with onClose
CONNECTED, ANSWER, FRAME, LOST, TIMER = 0x06, 0x07, 0x08, 0x0A, 0x0B
CLOSE, RELEASE, IDLE = 0x0D, 0x0F, 0x10
DONE, PENDING, FAIL = 0x00, 0x01, 0x06   # ws_port_resolve(host) answers
ACCEPT_WAIT, REFUSE_WAIT = 0x00, 0x03    # ws_port_resolve(NULL) answers


def lost(*nested):
    """TCP lost (-9), the wait accepted, the state-5 callback's two operations."""
    return bytes([LOST, 0x01, ACCEPT_WAIT]) + bytes((list(nested) + [IDLE, IDLE])[:2])


SEQUENCES = {
    # lost, the wait's timer, opened, the server closes, lost again, refused
    "reconnect_cycle": bytes([RECONNECT, 0x00, DONE, CONNECTED]) + lost()
        + bytes([TIMER, DONE, CONNECTED, ANSWER, IDLE, IDLE, FRAME, 0x02, LOST, 0x00,
                 IDLE, IDLE, RECONNECT, 0x04, DONE, CONNECTED, LOST, 0x02, REFUSE_WAIT,
                 IDLE, IDLE]),
    # ws_close from the state-5 callback ends the wait (status 0, nested final)
    "reconnect_close_in_final": bytes([RECONNECT, 0x00, DONE, CONNECTED]) + lost(CLOSE)
        + bytes([IDLE, IDLE]),
    # ws_connect with reconnection from the state-5 callback: its resolve
    # fails, its own wait's callback releases it
    "reconnect_connect_in_final": bytes([RECONNECT, 0x00, DONE, CONNECTED, LOST, 0x01,
                                         ACCEPT_WAIT, RECONNECT, 0x01, FAIL, ACCEPT_WAIT,
                                         RELEASE, IDLE, IDLE]),
    # the timer from inside the state-5 callback (before the arm)
    "reconnect_timer_in_final": bytes([RECONNECT_ONCLOSE, 0x02, DONE, CONNECTED])
        + lost(TIMER, PENDING) + bytes([0x05, 0x01, CONNECTED, ANSWER, IDLE, IDLE]),
    # resolve failures chain waits, each armed: the backoff doubles (1, 2, 4, 8
    # ms steps); then the same from the state-5 callbacks (max below initial)
    "reconnect_backoff_chain": bytes([RECONNECT_ONCLOSE, 0x00, FAIL, ACCEPT_WAIT, IDLE, IDLE]
                                     + [TIMER, FAIL, ACCEPT_WAIT, IDLE, IDLE] * 3
                                     + [RECONNECT_ONCLOSE, 0x0B, FAIL, ACCEPT_WAIT, TIMER,
                                        FAIL, ACCEPT_WAIT, TIMER, FAIL, ACCEPT_WAIT, IDLE,
                                        TIMER, FAIL, ACCEPT_WAIT, IDLE, IDLE]),
    # two waits (steps 1, 2), opened (back to 1), lost: the third wait's step is 1
    "reconnect_backoff_reset": bytes([RECONNECT, 0x00, DONE, CONNECTED]) + lost()
        + bytes([TIMER, FAIL, ACCEPT_WAIT, IDLE, IDLE, TIMER, DONE, CONNECTED, ANSWER,
                 IDLE, IDLE]) + lost(),
    # both ws_infos waiting; each one's callback acts on the other
    "reconnect_two": bytes([RECONNECT, 0x00, DONE, RECONNECT | 0x80, 0x05, DONE,
                            CONNECTED, CONNECTED | 0x80]) + lost(CLOSE | 0x80, IDLE)
        + bytes([LOST | 0x80, 0x01, ACCEPT_WAIT, RELEASE | 0x80, 0x00 | 0x80, DONE,
                 TIMER, DONE]),
    # the second ws_info starts with a stale state 5 (byte 0 = 0x45: bits 0
    # and 2, a no-op); the caller writes 5 over a wait; stray events
    "reconnect_state5_stray": bytes([0x45, RECONNECT, 0x00, DONE, CONNECTED]) + lost()
        + bytes([0x03, 0x05, 0x11, 0x00, 0x12, 0x13, 0x0C, 0x83, 0x05, 0x80, 0x00]),
}


def write(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def main():
    count = 0

    def put(target, name, data):
        nonlocal count
        write(target, name, data)
        count += 1

    for i, u in enumerate(URLS):
        put("url", "url_%02d" % i, u)

    for i, s in enumerate(UTF8):
        put("utf8", "whole_%02d" % i, split(s))
        put("utf8", "split_%02d" % i, split(s, [1, 2, 3, len(s) // 2]))

    requests = {
        "overrides": b"/chat?room=1\nX-Token=abc\nuser-agent=Mine\nHOST=evil\n"
                     b"Sec-WebSocket-Protocol=\nX-Token=dup",
        "bad_name": b"/\nBad Name=x",
        "bad_value": b"?q\nX=a\rb",
        "empty": b"",
        "protocols": b"/p\n!superchat, chat\nX=y",
        "no_protocol": b"/p\n!",
    }
    for name, r in sorted(requests.items()):
        put("handshake_request", name, r)

    good = response()
    variants = {
        "good": good,
        "good_lf": response(eol=b"\n"),
        "good_protocol": response(b"Sec-WebSocket-Protocol: chat\r\nServer: x\r\n"),
        "good_mixed_case": b"HTTP/1.1 101\r\nuPgRaDe: WebSocket \r\nCONNECTION: keep-alive, Upgrade\r\n"
            b"sec-websocket-accept:  " + ACCEPT + b"\t\r\n\r\n",
        "good_with_frame": good + frame(1, b"early"),
        "bad_status": response(status=b"HTTP/1.1 200 OK"),
        "bad_http10": response(status=b"HTTP/1.0 101 Switching"),
        "bad_accept": response(accept=b"A" * 28),
        "bad_no_upgrade": b"HTTP/1.1 101\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + ACCEPT + b"\r\n\r\n",
        "bad_extensions": response(b"Sec-WebSocket-Extensions: permessage-deflate\r\n"),
        "bad_two_protocols": response(b"Sec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b\r\n"),
        "bad_cr": b"HTTP/1.1 101\r\rUpgrade: websocket\r\n\r\n",
        "bad_fold": b"HTTP/1.1 101\r\nUpgrade: websocket\r\n folded\r\n\r\n",
        "bad_nul": b"HTTP/1.1 101 OK\x00\r\n\r\n",
        "long_protocol": response(b"Sec-WebSocket-Protocol: " + b"p" * 64 + b"\r\n"),
        "too_long_protocol": response(b"Sec-WebSocket-Protocol: " + b"p" * 65 + b"\r\n"),
        "oversized": b"HTTP/1.1 101\r\n" + b"X-Pad: " + b"y" * 8200 + b"\r\n\r\n",
        "partial": good[:40],
    }
    for name, r in sorted(variants.items()):
        put("handshake_response", name, split(r))
        n = len(r)
        put("handshake_response", name + "_split", split(r, [1, 12, 13, n // 3, n // 2, n - 3, n - 1]))

    for name, s in sorted(STREAMS.items()):
        put("frame_decoder", name, split(s))
        put("frame_decoder", name + "_split",
            split(s, [1, 2, 3, 4, 9, len(s) // 2, len(s) - 1]))

    # engine: flags | max_message select (bits 0-1), busy port (2), user close
    # mid-stream (3), timer after each segment (4), echo from onReceive (5),
    # response glued to the stream (6), asynchronous resolve (7).
    engine_flags = {
        "text": [0x00, 0x40 | 0x20],
        "binary": [0x04],
        "len16": [0x02, 0x01],
        "len16_text": [0x60],
        "len64_nonminimal": [0x00],
        "len16_text_70000": [0x03],
        "empty_frames": [0x10],
        "fragmented_ping": [0x00, 0x44 | 0x20, 0x10],
        "fragmented_binary": [0x80],
        "utf8_split_fragments": [0x00],
        "several": [0x08, 0x24],
        "close_1000": [0x00, 0x40],
        "close_empty": [0x00],
        "close_then_data": [0x00],
        "close_4000_reason": [0x04],
        "bad_masked": [0x00],
        "bad_rsv": [0x00],
        "bad_opcode": [0x00],
        "bad_long_ping": [0x00],
        "bad_fragmented_ping": [0x00],
        "bad_continuation": [0x00],
        "bad_nested_start": [0x00],
        "bad_utf8": [0x00],
        "bad_utf8_fragment": [0x00],
        "bad_close_1byte": [0x00],
        "bad_close_code": [0x00],
        "bad_close_reason": [0x00],
        "bad_len64_msb": [0x00],
        "huge_len64": [0x00],
        "truncated": [0x08],
    }
    for name, flags in sorted(engine_flags.items()):
        s = STREAMS[name]
        for f in flags:
            cuts = [] if f & 1 else [1, 2, 5, len(s) // 2, len(s) - 1]
            put("engine", "%s_%02x" % (name, f), bytes([f, 0, 0]) + split(s, cuts))

    # out-of-memory paths: make the n-th engine allocation fail
    for name in ("fragmented_ping", "close_1000"):
        s = STREAMS[name]
        for n in (1, 2, 3, 4, 5):
            put("engine", "%s_oom%d" % (name, n), bytes([0x00, n, 0]) + split(s, [3, len(s) // 2]))

    # re-entrancy: ws_release from onReceive (0x80), ws_connect from onFailure (0x40)
    for name in ("several", "close_1000"):
        s = STREAMS[name]
        for mode in (0x80, 0x40):
            put("engine", "%s_reentry%02x" % (name, mode), bytes([0x20, mode, 0]) + split(s, [2]))

    # sequence programs with reconnection, also run by the engine target
    for name, prog in sorted(SEQUENCES.items()):
        put("sequence", name, prog)
        put("engine", "seq_" + name, prog)

    # v2 modes (byte 2): see engine_v2() for the layout.
    def v2(name, label, flags=0, b1=0, mode=0, headers=None, offer=None, choice=None,
           close=None, stream=None, cuts=None):
        s = STREAMS[name] if stream is None else stream
        if cuts is None:
            cuts = [1, 2, 5, len(s) // 2, len(s) - 1]
        put("engine", "v2_%s_%s" % (name, label),
            engine_v2(flags, b1, mode, headers, offer, choice, close) + split(s, cuts))

    # streaming to onFragment (0x01)
    for name in ("text", "fragmented_ping", "utf8_split_fragments", "bad_utf8",
                 "bad_utf8_fragment", "truncated", "several", "huge_len64", "empty_frames"):
        v2(name, "stream", mode=0x01)
    v2("len16_text_70000", "stream_max64", flags=0x01, mode=0x01)
    big = frame(2, bytes(i & 0xFF for i in range(4000)), fin=False) + frame(0, b"t" * 6000)
    v2("len16", "stream_big", flags=0x01, mode=0x03, stream=big, cuts=[3, 2000, 7000])
    v2("several", "stream_release", b1=0x80, mode=0x01)
    # onClose instead of onFailure (0x02), also with streaming
    for name in ("close_1000", "close_empty", "close_4000_reason", "bad_close_reason",
                 "text", "close_then_data"):
        v2(name, "onclose", mode=0x02)
    v2("fragmented_ping", "stream_onclose", mode=0x03)
    v2("close_1000", "stream_onclose", mode=0x03, flags=0x08)
    # ws_close_with (0x04): code, reason (None = NULL with length 3)
    for label, code, reason in (("4000", 4000, b"bye"), ("1005", 1005, b""),
                                ("badutf8", 1000, b"\xff"), ("negative", 0xF001, b""),
                                ("long", 3000, b"r" * 124), ("null", 1001, None)):
        v2("several", "closewith_" + label, mode=0x04, close=(code, reason))
        if label in ("4000", "null"):
            v2("several", "closewith_mid_" + label, flags=0x08, mode=0x06,
               close=(code, reason))
    # offered protocols (bits 3-4) and the server's choice (0x80)
    v2("text", "proto_default", mode=0x80, choice=0)
    v2("text", "proto_none", mode=0x08 | 0x80, choice=0)
    v2("text", "proto_custom", mode=0x10 | 0x80, offer=b"a, b ,chat", choice=1)
    v2("text", "proto_custom_empty", mode=0x10 | 0x80, offer=b" , x", choice=0)
    v2("text", "proto_not_offered", mode=0x18 | 0x80, choice=0xFF)
    v2("close_1000", "proto_onclose", mode=0x18 | 0x80 | 0x02, choice=2)
    # extraHeaders (0x20): lines name=value, no '=' = NULL value
    v2("text", "headers", mode=0x20 | 0x80,
       headers=b"X-Token=abc\nuser-agent=Mine\nSec-WebSocket-Protocol=p1, p2\nNoValue",
       choice=1)
    v2("text", "headers_override", mode=0x20,
       headers=b"HOST=evil\nUpgrade=no\nsec-websocket-key=k\nX=1\nx=2")
    v2("text", "headers_bad_name", mode=0x20, headers=b"Bad Name=x")
    v2("text", "headers_bad_value", mode=0x20, headers=b"X=a\rb")
    # a whole second connection from the final callback (0x40)
    v2("close_1000", "reconnect", mode=0x40)
    v2("text", "reconnect_onclose", mode=0x42)
    v2("fragmented_ping", "reconnect_stream", mode=0x43)
    v2("bad_utf8", "reconnect_headers", mode=0x60 | 0x80, headers=b"X-A=1", choice=0)
    v2("text", "reconnect_bad_header", mode=0x60, headers=b"X=\r")
    # out of memory with the v2 modes
    for n in (1, 2, 3):
        v2("fragmented_ping", "stream_onclose_oom%d" % n, b1=n, mode=0x43)

    print("wrote %d seed files under %s" % (count, OUT))
    # (250 until the sequence programs: 8 seeds, each also for engine)
    if count >= 270:
        sys.exit("corpus too large: keep it under 270 files")


if __name__ == "__main__":
    main()
