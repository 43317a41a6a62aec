#!/usr/bin/env python3
"""Checks the test peers themselves with an independent client (the
`websockets` library) so a broken peer cannot make the e2e suite lie.
Usage: selftest.py ECHO_PORT RAW_PORT"""
import asyncio
import sys

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

fails = 0


def check(cond, what):
    global fails
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        fails += 1


async def main(ep, rp):
    e, r = f"ws://127.0.0.1:{ep}", f"ws://127.0.0.1:{rp}/t/selftest"
    async with connect(e + "/", max_size=None) as c:
        big = bytes(range(256)) * 4000
        await c.send("héllo")
        check(await c.recv() == "héllo", "echo text")
        await c.send(big)
        check(await c.recv() == big, "echo 1 MiB binary")
    async with connect(e + "/close/4000") as c:
        await c.send("x")
        check(await c.recv() == "x", "close/4000 echoes first")
        try:
            await c.recv()
        except ConnectionClosed as ex:
            check(ex.rcvd.code == 4000, "close/4000 code")
    async with connect(e + "/silent", ping_interval=None, close_timeout=0.5) as c:
        w = await c.ping(b"are you there")
        try:
            await asyncio.wait_for(w, 0.5)
            check(False, "silent never pongs")
        except asyncio.TimeoutError:
            check(True, "silent never pongs")
    for scn, exc in (("badstatus", InvalidStatus), ("badaccept", InvalidHandshake)):
        try:
            async with connect(f"{r}/{scn}", open_timeout=2):
                check(False, scn)
        except exc:
            check(True, scn)
    async with connect(r + "/split") as c:
        check(await c.recv() == "glued", "split: glued first frame")
        await c.send("again")
        check(await c.recv() == "again", "split: echo after")
    async with connect(r + "/fragping") as c:
        check(await c.recv() == "frag1-frag2-end", "fragping: joined message")
        check(await c.recv() == "pong-ok", "fragping: pongs checked")
    async with connect(r + "/close-4001") as c:
        try:
            await c.recv()
        except ConnectionClosed as ex:
            check(ex.rcvd.code == 4001, "close-4001 code")
    async with connect(r + "/toobig-3000", max_size=1000) as c:
        try:
            await c.recv()
        except ConnectionClosed as ex:
            check(ex.sent is not None and ex.sent.code == 1009, "toobig: client sent 1009")


asyncio.run(main(sys.argv[1], sys.argv[2]))
print(f"{fails} failed")
sys.exit(1 if fails else 0)
