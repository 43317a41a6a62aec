#!/usr/bin/env python3
"""Scenario driver for the firmware's original websocket module on libwebsocket.

  build/venv/bin/python tests/oldmodule/run.py [--asan] [-k SUBSTRING ...] [-v]

Runs every scenario script of tests/oldmodule/ under
build/oldmodule/nodemcu-lua51 and -lua53 (the host runner linked with the
original app/modules/websocket.c; see mk/oldmodule.mk), and the old-API C
program build/oldmodule/old_api, against real peers on 127.0.0.1: the
websockets echo server and the scripted raw peer of tests/peers/ (the same
peers, and the helpers, of tests/e2e/run.py). --asan uses build/oldmodule/asan/.
Prints one line per run and "N passed, N failed"; exit status 1 if anything
failed. Logs: build/oldmodule[/asan]/logs/.
"""
import argparse
import importlib.util
import os
import re
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.join(ROOT, "tests", "oldmodule")
PY = sys.executable

# The peers, their verdicts and one run of a program are tests/e2e/run.py's
# (Peer, check_peer, run_one, free_port): the same conventions, one copy.
_spec = importlib.util.spec_from_file_location("e2e_run", os.path.join(ROOT, "tests", "e2e", "run.py"))
e2e = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(e2e)

# name, versions, extra env, timeout (s), extra regexes the output must match
SCENARIOS = [
    ("doc_example", ("51", "53"), {}, 30, []),
    ("reuse", ("51", "53"), {}, 30, []),
    ("close_connect", ("51", "53"), {}, 30, []),
    ("server_close", ("51", "53"), {}, 30, []),
    ("config_headers", ("51", "53"), {}, 30, []),
    ("errors", ("51", "53"), {"FAKE_SDK_DNS_HOSTS_ONLY": "1"}, 30, []),
    ("send_length", ("51", "53"), {}, 30, []),
    ("gc", ("51", "53"), {}, 30, []),
    # Lua 5.1's os.exit cannot close the state with a connection open
    ("gc_exit", ("53",), {}, 30, [r"^PASS gc_exit\b[^\n]*\nGCCLOSE 1 -100$"]),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--asan", action="store_true")
    ap.add_argument("-k", action="append", default=[], help="run only runs whose id contains this")
    ap.add_argument("-v", action="store_true", help="print every run's output")
    a = ap.parse_args()

    build = os.path.join(ROOT, "build", "oldmodule", *(["asan"] if a.asan else []))
    logdir = os.path.join(build, "logs")
    os.makedirs(logdir, exist_ok=True)
    fd, report_path = tempfile.mkstemp(prefix="peer-verdicts.", suffix=".jsonl", dir=logdir)
    os.close(fd)

    base_env = {k: v for k, v in os.environ.items() if not k.startswith("FAKE_SDK_")}
    base_env["WS_TESTLIB"] = os.path.join(ROOT, "tests", "lua", "testlib.lua")
    base_env["WS_EXAMPLES"] = os.path.join(ROOT, "examples")
    tag = "oldmodule-asan" if a.asan else "oldmodule"
    passed = failed = 0
    peers = []
    t_start = time.time()
    try:
        peers.append(e2e.Peer("echo_server", [PY, "tests/peers/echo_server.py"], logdir))
        peers.append(e2e.Peer("raw_server", [PY, "tests/peers/raw_server.py", "--report", report_path], logdir))
        echo, raw_port = f"ws://127.0.0.1:{peers[0].port}", peers[1].port
        base_env["WS_ECHO"] = echo
        base_env["WS_REFUSED"] = f"ws://127.0.0.1:{e2e.free_port()}/"

        jobs = []
        for name, versions, env, timeout, extra in SCENARIOS:
            for v in versions:
                argv = [os.path.join(build, "nodemcu-lua" + v), os.path.join(HERE, name + ".lua")]
                jobs.append((f"{name}.lua{v}", argv, env, timeout, [r"^PASS " + name + r"\b"] + extra))
        jobs.append(("old_api", [os.path.join(build, "old_api"), echo + "/", f"ws://127.0.0.1:{raw_port}/t/old_api"],
                     {}, 30, [r"^PASS old_api$"]))
        if a.k:
            jobs = [j for j in jobs if any(k in j[0] for k in a.k)]

        for tid, argv, env, timeout, expects in jobs:
            if not os.path.exists(argv[0]):
                print(f"FAIL {tag} {tid}: {os.path.relpath(argv[0], ROOT)} not built", flush=True)
                failed += 1
                continue
            e = dict(base_env, WS_RAW=f"ws://127.0.0.1:{raw_port}/t/{tid}", **env)
            if a.asan:
                e["ASAN_OPTIONS"] = "detect_leaks=1:abort_on_error=1"
                e["UBSAN_OPTIONS"] = "halt_on_error=1:print_stacktrace=1"
            problems, dt, out, _ = e2e.run_one(tid, argv, e, timeout * (3 if a.asan else 1), logdir,
                                               report_path, a.asan, expects[0])
            for rx in expects[1:]:
                if not re.search(rx, out, re.M):
                    problems.append(f"no match for {rx!r}")
            if e2e.report(tid, problems, dt, out, tail_lines=25, tag=tag):
                passed += 1
            else:
                failed += 1
            if a.v:
                print(out)
    finally:
        for p in peers:
            p.stop()
        os.replace(report_path, os.path.join(logdir, "peer-verdicts.jsonl"))
    print(f"{tag}: {passed} passed, {failed} failed ({time.time() - t_start:.1f}s)", flush=True)
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
