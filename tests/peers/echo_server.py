#!/usr/bin/env python3
"""Echo peer built on the third-party `websockets` asyncio server.

Usage: echo_server.py [--host 127.0.0.1] [--port 0] [--tls-cert PEM --tls-key PEM]
The first line on stdout is the listening port number (useful with --port 0).
With --tls-cert/--tls-key it serves wss:// (TLS) instead of ws://.

Paths:
  /               echo every text and binary message back unchanged
  /close/<code>   echo the first message, then close with <code> (reason "bye")
  /silent         accept the handshake, then stop reading: pings are never
                  answered and nothing is ever sent
  /refuse/<code>  refuse the handshake with HTTP status <code> (e.g. 403)
  /auth/<user>/<password>  (percent-encoded) echo as /, but only with
                  `Authorization: Basic <base64 of user:password>`; else
                  refuse with 401 and WWW-Authenticate
Subprotocols: the first one the client offers among SUBPROTOCOLS is chosen;
none otherwise (the handshake never fails over it, so the default "chat"
offer gets no protocol back).
"""
import argparse
import asyncio
import base64
import ssl
import sys
import urllib.parse

from websockets.asyncio.server import serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Response


SUBPROTOCOLS = ("echo.v2", "json.v1")


def log(*a):
    print("echo_server:", *a, file=sys.stderr, flush=True)


def select_subprotocol(conn, offered):
    for p in offered:
        if p in SUBPROTOCOLS:
            return p
    return None


def process_request(conn, request):
    parts = [p for p in request.path.split("?", 1)[0].split("/") if p]
    if len(parts) == 2 and parts[0] == "refuse" and parts[1].isdigit():
        return Response(int(parts[1]), "Refused", Headers([("Content-Length", "0")]), b"")
    if len(parts) == 3 and parts[0] == "auth":
        plain = urllib.parse.unquote(parts[1]) + ":" + urllib.parse.unquote(parts[2])
        want = "Basic " + base64.b64encode(plain.encode()).decode()
        got = request.headers.get("Authorization")
        if got != want:
            log("auth: refused, got", repr(got))
            return Response(401, "Unauthorized", Headers([("Content-Length", "0"),
                            ("WWW-Authenticate", 'Basic realm="test"')]), b"")
    return None


async def handler(conn):
    path = conn.request.path.split("?", 1)[0]
    parts = [p for p in path.split("/") if p]
    try:
        if parts[:1] == ["silent"]:
            # Stop reading from the socket: the library can no longer see
            # (and so never answers) pings; we send nothing either.
            conn.transport.pause_reading()
            await asyncio.sleep(60)
            conn.transport.abort()
            return
        if len(parts) == 2 and parts[0] == "close":
            code = int(parts[1])
            msg = await conn.recv()
            await conn.send(msg)
            await conn.close(code, "bye")
            log("closed with", code, "client replied", conn.protocol.close_rcvd)
            return
        async for msg in conn:
            await conn.send(msg)
    except ConnectionClosed:
        pass


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    a = ap.parse_args()
    tls = None
    if a.tls_cert:
        tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls.load_cert_chain(a.tls_cert, a.tls_key)
    async with serve(
        handler,
        a.host,
        a.port,
        max_size=2 * 1024 * 1024,
        ping_interval=None,
        compression=None,
        close_timeout=2,
        ssl=tls,
        select_subprotocol=select_subprotocol,
        process_request=process_request,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
