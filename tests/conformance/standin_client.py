#!/usr/bin/env python3
"""Reference testee for the conformance harness itself.

It speaks the same fuzzing-server URL protocol as client.lua (getCaseCount,
runCase?case=N&agent=A with a 1-based N, updateReports?agent=A) but uses the
`websockets` library, so the harness (server start, report parsing, allow
list) can be checked independently of our engine:

    build/venv/bin/python tests/conformance/standin_client.py ws://127.0.0.1:9001 py-ref

With --mangle it echoes every message with one byte changed (or an extra
byte when empty): a deliberately broken testee, which the harness must fail.
"""

import sys
import time
import urllib.parse

from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import connect

CASE_TIMEOUT = 60.0  # seconds per case, like client.lua's guard


def one_message(url):
    with connect(url, max_size=None, open_timeout=10) as ws:
        try:
            return ws.recv(timeout=10)
        except (ConnectionClosed, TimeoutError):
            return None


def mangle(msg):
    if isinstance(msg, str):
        return msg[:-1] + ("a" if msg[-1:] != "a" else "b") if msg else "x"
    return msg[:-1] + bytes([(msg[-1] ^ 1)]) if msg else b"x"


def run_case(url, change):
    # No compression: the engine under test does not offer permessage-deflate.
    with connect(url, max_size=None, compression=None, open_timeout=10,
                 close_timeout=5, ping_interval=None) as ws:
        deadline = time.monotonic() + CASE_TIMEOUT
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return "guard timeout"
            try:
                msg = ws.recv(timeout=left)
            except ConnectionClosed as exc:
                return "closed %s" % (exc.rcvd.code if exc.rcvd else "-")
            except TimeoutError:
                return "guard timeout"
            ws.send(change(msg))  # str -> text frame, bytes -> binary frame


def main():
    argv = sys.argv[1:]
    change = (lambda m: m)
    if argv[:1] == ["--mangle"]:
        argv, change = argv[1:], mangle
    base = (argv[0] if argv else "ws://127.0.0.1:9001").rstrip("/")
    agent = argv[1] if len(argv) > 1 else "standin"
    q_agent = urllib.parse.quote(agent)
    count = int(one_message(base + "/getCaseCount"))
    print("%d cases" % count, flush=True)
    for n in range(1, count + 1):
        try:
            outcome = run_case("%s/runCase?case=%d&agent=%s" % (base, n, q_agent), change)
        except (OSError, InvalidHandshake, ConnectionClosed) as exc:
            outcome = "error %r" % exc
        if outcome != "closed 1000":
            print("case %d: %s" % (n, outcome), flush=True)
    one_message("%s/updateReports?agent=%s" % (base, q_agent))
    print("reports updated", flush=True)


if __name__ == "__main__":
    main()
