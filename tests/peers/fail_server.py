#!/usr/bin/env python3
"""A server of a third-party WebSocket library that records the close code
the client sent after failing the connection (issue 14, item 5).

Usage: fail_server.py --impl websockets|aiohttp [--host 127.0.0.1] [--port 0] [--report FILE]
The first line on stdout is the listening port number.

Paths:
  /t/<id>/big/<n>   send one binary message of <n> bytes (larger than the
                    client's max_message), then wait for the connection to
                    end and append a verdict line {"id": <id>, "scenario":
                    "failclose-<impl>", "ok": code == 1009, "detail": ...}
                    to --report, <code> being the close code the library
                    received from the client (1006: none, TCP dropped).
  /t/<id>/status/<code>  refuse the handshake with HTTP <code> (no verdict)

Each implementation keeps its own defaults (reading, writing, closing):
the point is to see the client's behaviour through real servers.
"""
import argparse
import asyncio
import json
import sys

REPORT = None
IMPL = None


def log(*a):
    print(f"fail_server[{IMPL}]:", *a, file=sys.stderr, flush=True)


def report(tid, code, detail):
    ok = code == 1009
    log("verdict", tid, "ok" if ok else "FAIL", code, detail)
    if REPORT:
        with open(REPORT, "a") as f:
            f.write(json.dumps({"id": tid, "scenario": f"failclose-{IMPL}", "ok": ok,
                                "detail": f"server received close code {code} ({detail})"}) + "\n")


def parse(path):
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    if len(parts) == 4 and parts[0] == "t" and parts[2] in ("big", "status") and parts[3].isdigit():
        return parts[1], parts[2], int(parts[3])
    return None, None, None


async def run_websockets(host, port):
    from websockets.asyncio.server import serve
    from websockets.datastructures import Headers
    from websockets.exceptions import ConnectionClosed
    from websockets.http11 import Response

    def process_request(conn, request):
        tid, what, n = parse(request.path)
        if what == "status":
            return Response(n, "Refused", Headers([("Content-Length", "0")]), b"")
        return None

    async def handler(conn):
        tid, what, n = parse(conn.request.path)
        if what != "big":
            await conn.close(1008, "unknown path")
            return
        try:
            await conn.send(bytes(n))
        except ConnectionClosed:
            pass
        await conn.wait_closed()
        rcvd = conn.protocol.close_rcvd
        code = rcvd.code if rcvd is not None else 1006
        report(tid, code, f"websockets close_rcvd={rcvd}")

    async with serve(handler, host, port, max_size=None, process_request=process_request,
                     ping_interval=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.Future()


async def run_aiohttp(host, port):
    from aiohttp import web

    async def handle(request):
        tid, what, n = parse(request.path)
        if what == "status":
            return web.Response(status=n, text="")
        if what != "big":
            raise web.HTTPNotFound()
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        try:
            await ws.send_bytes(bytes(n))
        except (ConnectionError, RuntimeError) as e:
            log("send:", repr(e))
        async for _ in ws:
            pass
        report(tid, ws.close_code, f"aiohttp close_code={ws.close_code}")
        return ws

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    print(site._server.sockets[0].getsockname()[1], flush=True)
    await asyncio.Future()


def main():
    global REPORT, IMPL
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", choices=("websockets", "aiohttp"), required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--report")
    a = ap.parse_args()
    REPORT, IMPL = a.report, a.impl
    run = run_websockets if a.impl == "websockets" else run_aiohttp
    try:
        asyncio.run(run(a.host, a.port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
