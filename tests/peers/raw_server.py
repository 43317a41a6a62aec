#!/usr/bin/env python3
"""Raw asyncio TCP peer that misbehaves on purpose (one scenario per path).

Usage: raw_server.py [--host 127.0.0.1] [--port 0] [--report FILE]
The first line on stdout is the listening port number.

Request path: /t/<test-id>/<scenario>[-<arg>]  (or just /<scenario>).
Verdicts about what the client did are appended to --report as JSON lines
{"id": test-id, "scenario": ..., "ok": bool, "detail": ...}.

Scenarios
  badstatus      "HTTP/1.1 200 OK" instead of 101              (client: -17)
  badaccept      101 with a wrong Sec-WebSocket-Accept           (-7)
  hugeheaders    101 whose header block is larger than 8 KiB     (-27)
  badheader      101 with a header line that has no colon        (-27)
  mute           reads the request, never answers                (-18)
  split          101 written in 1..7-byte pieces, the first text
                 frame "glued" in the same write as the response
                 end, then echo
  fragping       text message in three fragments with pings between
                 them; checks the pongs, says "pong-ok"/"pong-bad:.."
                 then echo
  deaf           after 101 reads but never answers, sends nothing (-19)
  close-<code>   sends a close frame with <code>; checks the client
                 echoes the same code                            (-6)
  reset          after 101, TCP reset (SO_LINGER 0)               (-109/-110)
  eof            after 101, TCP FIN without a close frame         (-110)
  masked         masked server frame                  (-20, close 1002)
  rsv            RSV1 set                             (-21, 1002)
  opcode3        reserved opcode 3                    (-22, 1002)
  bigping        ping with a 126-byte payload         (-23, 1002)
  badclosecode   close frame with code 999            (-24, 1002)
  close1byte     close frame with a 1-byte payload    (-24, 1002)
  badutf8        text message that is not UTF-8      (-25, 1007)
  toobig-<n>     binary message of n bytes           (-26 with max_message < n, 1009)
  contnostart    continuation frame with no message   (-15, 1002)
  headers        101, then one text message holding the request head verbatim
  echo           plain echo (text, binary, ping->pong, close)
  proto-<name>   101 choosing protocol <name> (whatever was offered), then echo
  closeempty     101, then a close frame without a code           (-6)

Fault scenarios (tests/lua/fault_*.lua):
  vanish-<where>-<how>  the server disappears; <how> is fin (TCP close) or
                 rst (TCP reset, SO_LINGER 0); <where> is
                   handshake  after half of the 101 response     (-110/-109)
                   header     after 101 + 5 of a 10-byte frame header
                   payload    after 101 + header + 500 of 1000 payload bytes
                   closing    after reading the client's close frame (1000,
                              verdict), without replying      (0/-109)
  flood-<n>      after 101, n text frames "flood <i> " + (i % 61) dots in
                 one write (as fast as TCP takes them), then echo
                 (verdict: all written, and how long the client held it back)
  biglen-<n>     after 101, a binary frame header with the 64-bit length
                 n (decimal, may be >= 2^63), 16 payload bytes; verdict:
                 the client's close code is 1009 (1002 also accepted for
                 a length with the top bit set); answers the close
                 frame and closes TCP                            (-26)
  megaheaders    101 status line, then 1 MiB of header lines      (-27)
  pingflood-<n>  after 101, stops reading and sends n pings (125-byte
                 payload) and then the text "sent <n> pings"; resets TCP
                 3 s later (the client's pongs can never be delivered)
  blackhole      opens a listener whose accept queue is full (SYNs are
                 dropped), sends its port as one text message, then echo;
                 the listener stays for 20 s            (connect: -18)
"""
import argparse
import asyncio
import base64
import hashlib
import json
import os
import socket
import struct
import sys

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
REPORT = None


def log(*a):
    print("raw_server:", *a, file=sys.stderr, flush=True)


def report(tid, scn, ok, detail):
    log("verdict", tid, scn, "ok" if ok else "FAIL", detail)
    if REPORT:
        with open(REPORT, "a") as f:
            f.write(json.dumps({"id": tid, "scenario": scn, "ok": ok, "detail": detail}) + "\n")


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def frame(opcode, payload=b"", fin=True, rsv=0, mask=None):
    if isinstance(payload, str):
        payload = payload.encode()
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    m = 0x80 if mask is not None else 0
    if n < 126:
        hdr = struct.pack("!BB", b0, m | n)
    elif n < 65536:
        hdr = struct.pack("!BBH", b0, m | 126, n)
    else:
        hdr = struct.pack("!BBQ", b0, m | 127, n)
    if mask is not None:
        payload = bytes(c ^ mask[i % 4] for i, c in enumerate(payload))
        hdr += mask
    return hdr + payload


def close_frame(code, reason=b""):
    return frame(8, struct.pack("!H", code) + reason)


class Violation(Exception):
    pass


async def read_frame(reader):
    """One client frame -> (fin, opcode, payload). Client frames must be masked."""
    b0, b1 = await reader.readexactly(2)
    fin, rsv, op = b0 >> 7, (b0 >> 4) & 7, b0 & 15
    masked, n = b1 >> 7, b1 & 127
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await reader.readexactly(8))
    if not masked:
        raise Violation("client frame not masked")
    if rsv:
        raise Violation("client frame has RSV bits")
    mask = await reader.readexactly(4)
    data = await reader.readexactly(n)
    data = bytes(c ^ mask[i % 4] for i, c in enumerate(data)) if n < 4096 else _unmask_fast(data, mask)
    return bool(fin), op, data


def _unmask_fast(data, mask):
    n = len(data)
    k = int.from_bytes((mask * (n // 4 + 1))[:n], "big")
    return (int.from_bytes(data, "big") ^ k).to_bytes(n, "big")


async def read_request(reader):
    data = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    reader.request_head = data
    lines = data.decode("latin-1").split("\r\n")
    method, path, _ = lines[0].split(" ", 2)
    headers = {}
    for ln in lines[1:]:
        if ":" in ln:
            k, v = ln.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    return path, headers


def response(key, extra=""):
    return (
        "HTTP/1.1 101 Switching Protocols\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"{extra}"
        f"Sec-WebSocket-Accept: {accept_key(key)}\r\n"
        "\r\n"
    ).encode()


async def wait_eof(reader, limit=15):
    """Swallow whatever the client sends until it closes TCP (or limit s)."""
    try:
        while await asyncio.wait_for(reader.read(65536), limit):
            pass
        return True
    except (asyncio.TimeoutError, ConnectionError):
        return False


async def expect_close(reader, want, limit=4):
    """Read client frames until a close frame; return (ok, detail)."""
    try:
        while True:
            fin, op, data = await asyncio.wait_for(read_frame(reader), limit)
            if op == 8:
                if len(data) < 2:
                    return False, f"close frame without code ({data!r})"
                (code,) = struct.unpack("!H", data[:2])
                return code in want, f"client close code {code}, expected {sorted(want)}"
    except Violation as e:
        return False, str(e)
    except asyncio.TimeoutError:
        return False, "no close frame within %ss" % limit
    except (asyncio.IncompleteReadError, ConnectionError):
        return False, "TCP closed without a close frame"


async def serve_echo(reader, writer):
    """Minimal echo after the handshake: join fragments, pong pings, reply close."""
    parts, first_op = [], None
    while True:
        fin, op, data = await read_frame(reader)
        if op == 9:
            writer.write(frame(10, data))
        elif op == 10:
            pass
        elif op == 8:
            writer.write(frame(8, data[:2]))
            await writer.drain()
            return
        elif op in (0, 1, 2):
            if op != 0:
                first_op = op
            parts.append(data)
            if fin:
                writer.write(frame(first_op, b"".join(parts)))
                parts = []
        await writer.drain()


PROTO = {
    # scenario: (bytes after the handshake, acceptable client close codes)
    "masked": (frame(1, "masked!", mask=b"\x11\x22\x33\x44"), {1002}),
    "rsv": (frame(1, "rsv", rsv=4), {1002}),
    "opcode3": (frame(3, "three"), {1002}),
    "bigping": (frame(9, b"p" * 126), {1002}),
    "badclosecode": (close_frame(999), {1002}),
    "close1byte": (frame(8, b"\x03"), {1002}),
    "badutf8": (frame(1, b"ok \xff\xfe not utf-8"), {1007}),
    "contnostart": (frame(0, "orphan"), {1002}),
}


async def scenario(tid, scn, arg, key, reader, writer):
    w = writer.write
    if scn == "badstatus":
        w(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        await wait_eof(reader)
    elif scn == "badaccept":
        w(response(key + "x"))
        await writer.drain()
        await wait_eof(reader)
    elif scn == "hugeheaders":
        filler = "".join(f"X-Filler-{i:03d}: {'f' * 84}\r\n" for i in range(100))
        w(response(key, filler))
        await writer.drain()
        await wait_eof(reader)
    elif scn == "badheader":
        w(response(key, "this line is not a header\r\n"))
        await writer.drain()
        await wait_eof(reader)
    elif scn == "mute":
        await wait_eof(reader)
    elif scn == "split":
        resp = response(key)
        head, tail = resp[:-3], resp[-3:]
        i, step = 0, 1
        while i < len(head):
            w(head[i : i + step])
            await writer.drain()
            await asyncio.sleep(0.004)
            i += step
            step = step % 7 + 1
        w(tail + frame(1, "glued"))
        await writer.drain()
        await serve_echo(reader, writer)
    elif scn == "fragping":
        w(response(key))
        pings = [b"pp-123", b"pp-4567"]
        pieces = [frame(1, "frag1-", fin=False), frame(9, pings[0]),
                  frame(0, "frag2-", fin=False), frame(9, pings[1]), frame(0, "end")]
        for p in pieces:
            w(p)
            await writer.drain()
            await asyncio.sleep(0.02)
        got = []
        try:
            while len(got) < len(pings):
                fin, op, data = await asyncio.wait_for(read_frame(reader), 5)
                if op == 10:
                    got.append(data)
                elif op == 8:
                    break
        except (asyncio.TimeoutError, asyncio.IncompleteReadError, Violation) as e:
            got.append(repr(e).encode())
        ok = got == pings
        report(tid, scn, ok, f"pongs {got!r}, expected {pings!r}")
        w(frame(1, "pong-ok" if ok else "pong-bad: " + repr(got)))
        await writer.drain()
        await serve_echo(reader, writer)
    elif scn == "deaf":
        w(response(key))
        await writer.drain()
        pings = 0
        try:
            while True:
                fin, op, data = await asyncio.wait_for(read_frame(reader), 15)
                if op == 9:
                    pings += 1
                    log("deaf: ignoring ping", data)
        except (asyncio.IncompleteReadError, ConnectionError):
            report(tid, scn, pings >= 1, f"client sent {pings} ping(s) then dropped TCP")
        except (asyncio.TimeoutError, Violation) as e:
            report(tid, scn, False, f"after {pings} ping(s): {e!r}")
    elif scn == "close":
        code = int(arg or 4001)
        w(response(key) + close_frame(code, b"bye"))
        await writer.drain()
        ok, detail = await expect_close(reader, {code})
        report(tid, scn, ok, detail)
    elif scn in ("reset", "eof"):
        w(response(key))
        await writer.drain()
        await asyncio.sleep(0.2)
        if scn == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
        else:
            writer.close()
    elif scn in PROTO or scn == "toobig":
        if scn == "toobig":
            payload, want = frame(2, os.urandom(int(arg or 2000))), {1009}
        else:
            payload, want = PROTO[scn]
        w(response(key) + payload)
        try:
            await writer.drain()
        except ConnectionError:
            # The client may rightly close before it has read a large
            # offending payload (toobig); its close frame is already in the
            # reader's buffer, so judge that.
            pass
        ok, detail = await expect_close(reader, want)
        report(tid, scn, ok, detail)
    elif scn == "headers":
        w(response(key) + frame(1, reader.request_head))
        await writer.drain()
        await serve_echo(reader, writer)
    elif scn == "echo":
        w(response(key))
        await writer.drain()
        await serve_echo(reader, writer)
    elif scn == "proto":
        w(response(key, f"Sec-WebSocket-Protocol: {arg}\r\n"))
        await writer.drain()
        await serve_echo(reader, writer)
    elif scn == "closeempty":
        w(response(key) + frame(8))
        await writer.drain()
        await wait_eof(reader)
    elif scn in FAULTS:
        await FAULTS[scn](tid, scn, arg, key, reader, writer)
    else:
        w(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
        report(tid, scn, False, "unknown scenario")


def vanish_now(writer, how):
    if how == "rst":
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()
    else:
        writer.close()


async def fault_vanish(tid, scn, arg, key, reader, writer):
    where, _, how = arg.partition("-")
    if how not in ("fin", "rst") or where not in ("handshake", "header", "payload", "closing"):
        report(tid, scn, False, f"bad argument {arg!r}")
        return
    resp = response(key)
    if where == "handshake":
        writer.write(resp[: len(resp) // 2])
    elif where == "header":
        writer.write(resp + struct.pack("!BBBBB", 0x82, 127, 0, 0, 0))
    elif where == "payload":
        writer.write(resp + struct.pack("!BBH", 0x82, 126, 1000) + b"p" * 500)
    else:
        writer.write(resp)
        await writer.drain()
        ok, detail = await expect_close(reader, {1000}, limit=8)
        report(tid, scn + "-" + arg, ok, detail)
    await writer.drain()
    # Let the client take in what was sent before the connection goes.
    await asyncio.sleep(0.2)
    log("vanish", tid, arg)
    vanish_now(writer, how)


def flood_message(i):
    return b"flood %d " % i + b"." * (i % 61)


async def fault_flood(tid, scn, arg, key, reader, writer):
    n = int(arg or 20000)
    stream = response(key) + b"".join(frame(1, flood_message(i)) for i in range(1, n + 1))
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    # One write: what the kernel does not take at once waits in the
    # transport's buffer; drain() returns once the client has read enough.
    writer.write(stream)
    await writer.drain()
    dt = loop.time() - t0
    log(f"flood: {n} messages, {len(stream)} bytes, held back by the client for {dt:.2f} s", tid)
    report(tid, scn, True, f"wrote {n} messages ({len(stream)} bytes) in {dt:.2f} s")
    await serve_echo(reader, writer)


async def fault_biglen(tid, scn, arg, key, reader, writer):
    n = int(arg)
    writer.write(response(key) + struct.pack("!BBQ", 0x82, 127, n) + b"z" * 16)
    await writer.drain()
    want = {1002, 1009} if n >> 63 else {1009}
    ok, detail = await expect_close(reader, want)
    report(tid, scn, ok, f"length {n}: {detail}")
    # As a server does: answer the close frame, then close TCP (the client
    # discards until then).
    writer.write(close_frame(1000))
    await writer.drain()


async def fault_megaheaders(tid, scn, arg, key, reader, writer):
    writer.write(b"HTTP/1.1 101 Switching Protocols\r\n")
    line = b"X-Filler: " + b"m" * 1012 + b"\r\n"  # 1024 bytes
    sent = 0
    try:
        for _ in range(1024):
            writer.write(line)
            sent += len(line)
            if sent % 65536 == 0:
                await writer.drain()
        writer.write(b"\r\n")
        await writer.drain()
        log("megaheaders: wrote", sent, "header bytes")
    except ConnectionError as e:
        log("megaheaders: client went away after", sent, "bytes:", repr(e))
        return
    await wait_eof(reader, 10)


BLACKHOLES = []


async def fault_blackhole(tid, scn, arg, key, reader, writer):
    loop = asyncio.get_running_loop()
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)
    port = lsock.getsockname()[1]
    # With listen(0) the accept queue holds one connection; once it is full
    # the kernel drops further SYNs, so a client's connect never completes.
    filler = socket.socket()
    filler.setblocking(False)
    await asyncio.wait_for(loop.sock_connect(filler, ("127.0.0.1", port)), 2)
    probe = socket.socket()
    probe.setblocking(False)
    try:
        await asyncio.wait_for(loop.sock_connect(probe, ("127.0.0.1", port)), 0.3)
        report(tid, scn, False, "accept queue not full: a second connect succeeded")
    except asyncio.TimeoutError:
        pass
    probe.close()
    held = (lsock, filler)
    BLACKHOLES.append(held)
    loop.call_later(20, lambda: (BLACKHOLES.remove(held), lsock.close(), filler.close()))
    writer.write(response(key) + frame(1, str(port)))
    await writer.drain()
    await serve_echo(reader, writer)


async def fault_pingflood(tid, scn, arg, key, reader, writer):
    n = int(arg or 50000)
    # Never read again: the client's pongs pile up wherever it keeps them.
    writer.transport.pause_reading()
    ping = frame(9, b"P" * 125)
    writer.write(response(key) + ping * n + frame(1, "sent %d pings" % n))
    await writer.drain()
    log("pingflood: wrote", n, "pings", tid)
    await asyncio.sleep(3)
    vanish_now(writer, "rst")


FAULTS = {
    "pingflood": fault_pingflood,
    "vanish": fault_vanish,
    "flood": fault_flood,
    "biglen": fault_biglen,
    "megaheaders": fault_megaheaders,
    "blackhole": fault_blackhole,
}


async def handle(reader, writer):
    tid, scn = "-", "?"
    try:
        path, headers = await read_request(reader)
        parts = [p for p in path.split("?", 1)[0].split("/") if p]
        if len(parts) >= 3 and parts[0] == "t":
            tid, name = parts[1], parts[2]
        else:
            name = parts[-1] if parts else "echo"
        scn, _, arg = name.partition("-")
        log("connection", tid, scn, arg)
        await scenario(tid, scn, arg, headers.get("sec-websocket-key", ""), reader, writer)
    except Violation as e:
        report(tid, scn, False, str(e))
    except (asyncio.IncompleteReadError, ConnectionError, asyncio.TimeoutError) as e:
        log("connection ended", tid, scn, repr(e))
    except Exception as e:  # keep serving other tests
        log("error", tid, scn, repr(e))
    finally:
        try:
            writer.close()
        except Exception:
            pass


async def main():
    global REPORT
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--report")
    a = ap.parse_args()
    REPORT = a.report
    server = await asyncio.start_server(handle, a.host, a.port)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
