#!/usr/bin/env python3
"""TLS front for a plain-TCP fuzzing server (kosoku has no TLS built in).

    tls_proxy.py --listen PORT --backend PORT --cert CERT.pem --key KEY.pem

Listens on 127.0.0.1:PORT, completes a TLS handshake with each client, then
opens a TCP connection to 127.0.0.1:BACKEND and copies bytes both ways
unchanged, as they arrive (no buffering beyond one read). When either side
ends (EOF, reset, TLS error) the other side is closed as well, so a close of
the TCP connection by the server reaches the client and the other way round.
Used by `run.py --tls --engine kosoku`; wstest does TLS itself.
"""

import argparse
import asyncio
import signal
import ssl
import sys


async def pump(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def handle(backend_port, client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", backend_port)
    except OSError as exc:
        print("tls_proxy: backend connect failed: %s" % exc, file=sys.stderr, flush=True)
        client_writer.close()
        return
    up = asyncio.ensure_future(pump(client_reader, server_writer))
    down = asyncio.ensure_future(pump(server_reader, client_writer))
    # whichever direction ends first closes its destination; the other one
    # then sees EOF or an error on its source and closes the other end
    await asyncio.wait([up, down], return_when=asyncio.FIRST_COMPLETED)
    client_writer.close()
    server_writer.close()
    await asyncio.gather(up, down, return_exceptions=True)


async def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--backend", type=int, required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    server = await asyncio.start_server(
        lambda r, w: handle(args.backend, r, w), "127.0.0.1", args.listen, ssl=ctx,
        ssl_handshake_timeout=30)
    stop = asyncio.get_running_loop().create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set_result, None)
    print("tls_proxy: 127.0.0.1:%d (TLS) -> 127.0.0.1:%d" % (args.listen, args.backend),
          flush=True)
    async with server:
        await stop


if __name__ == "__main__":
    asyncio.run(main())
