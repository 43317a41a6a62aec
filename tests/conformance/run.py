#!/usr/bin/env python3
"""Run the Autobahn fuzzing server against a WebSocket client under test.

    run.py --engine wstest|kosoku --out DIR [--cases '1.*,2.*'] [--agent A]
           [--timeout S] [--tls] -- CLIENT COMMAND ... ({url} and {agent} substituted)

1. picks a free TCP port on 127.0.0.1 and starts the fuzzing server there
   (wstest through wstest_local.py, which binds loopback only; or kosoku),
2. waits until the port accepts connections and asks it for the case count,
3. runs the client command (bounded by --timeout),
4. asks the server to write its reports (harmless if the client already did,
   and it saves the partial results of a client that died half-way),
5. stops the server and runs report.py on DIR/reports/index.json, expecting
   exactly the announced number of cases for the agent.

With --tls the server speaks wss://: a throw-away self-signed certificate
for 127.0.0.1 is made with `openssl req -x509` in DIR/tls/ (wiped with DIR),
wstest gets it as the spec's "key"/"cert", kosoku (no TLS of its own) sits
behind tls_proxy.py, and the client gets the certificate's path in
$WS_TLS_CA (client.lua then makes the runner verify the server with it).

The exit status is report.py's (non-zero on any FAILED/missing case), or 2
when the harness itself could not run.
"""

import argparse
import base64
import json
import os
import shlex
import signal
import socket
import ssl
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port, proc, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return buf


def make_cert(tls_dir):
    """Throw-away self-signed RSA certificate for 127.0.0.1 (never committed)."""
    os.makedirs(tls_dir)
    key = os.path.join(tls_dir, "key.pem")
    cert = os.path.join(tls_dir, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   timeout=60)
    return key, cert


def fetch_one_message(port, path, timeout=30.0, tls_ca=None):
    """Minimal WebSocket client: open `path`, return the first data frame's
    payload as text (None if the server closes without one). With tls_ca,
    over TLS, verifying the server against that certificate."""
    key = base64.b64encode(os.urandom(16)).decode()
    req = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n" % (path, port, key))
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    if tls_ca:
        ctx = ssl.create_default_context(cafile=tls_ca)
        raw = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    with raw as s:
        s.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += recv_exact(s, 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise ConnectionError("handshake refused: %r" % head[:60])
        while True:
            b0, b1 = recv_exact(s, 2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", recv_exact(s, 2))[0]
            elif n == 127:
                n = struct.unpack("!Q", recv_exact(s, 8))[0]
            payload = recv_exact(s, n)
            opcode = b0 & 0x0F
            if opcode in (1, 2):
                text = payload.decode("utf-8", "replace")
                # masked empty close frame, then drop
                s.sendall(b"\x88\x80" + os.urandom(4))
                return text
            if opcode == 8:
                return None


def stop(proc, grace):
    if proc.poll() is not None:
        return
    try:
        proc.wait(timeout=grace)
        return
    except subprocess.TimeoutExpired:
        pass
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", choices=("wstest", "kosoku"), default="wstest")
    ap.add_argument("--out", required=True, help="work directory (wiped)")
    ap.add_argument("--cases", help="comma-separated case globs (default: the spec's)")
    ap.add_argument("--exclude", help="comma-separated case globs to leave out")
    ap.add_argument("--agent", default="libwebsocket")
    ap.add_argument("--timeout", type=float, default=3600, help="client time limit (s)")
    ap.add_argument("--tls", action="store_true", help="serve wss:// (self-signed certificate)")
    ap.add_argument("--wstest-python",
                    default=os.path.join(ROOT, "build/conformance/wstest-venv/bin/python"))
    ap.add_argument("--kosoku",
                    default=os.path.join(ROOT, "build/venv/bin/kosoku"))
    ap.add_argument("--spec", default=os.path.join(HERE, "fuzzingserver.json"))
    ap.add_argument("--allow", default=os.path.join(HERE, "expected-deviations.txt"))
    ap.add_argument("client", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    client = args.client[1:] if args.client[:1] == ["--"] else args.client
    if not client:
        ap.error("no client command given")

    out = os.path.abspath(args.out)
    reports = os.path.join(out, "reports")
    subprocess.run(["rm", "-rf", out], check=True)
    os.makedirs(reports)

    with open(args.spec) as f:
        spec = json.load(f)
    cases = args.cases.split(",") if args.cases else spec["cases"]
    exclude = list(spec.get("exclude-cases", []))
    if args.exclude:
        exclude += args.exclude.split(",")
    server_log = open(os.path.join(out, "server.log"), "w")
    started = time.monotonic()
    tls_key = tls_cert = None
    if args.tls:
        tls_key, tls_cert = make_cert(os.path.join(out, "tls"))
    proxy = None
    for attempt in range(3):  # the free port may be taken before the server binds it
        port = free_port()
        url = "%s://127.0.0.1:%d" % ("wss" if args.tls else "ws", port)
        # kosoku behind the TLS proxy listens on a port of its own
        server_port = free_port() if args.tls and args.engine == "kosoku" else port
        if args.engine == "wstest":
            spec.update(url=url, outdir=reports, cases=cases)
            if args.tls:
                spec.update(key=tls_key, cert=tls_cert)
            spec["exclude-cases"] = exclude
            spec_path = os.path.join(out, "fuzzingserver.json")
            with open(spec_path, "w") as f:
                json.dump(spec, f, indent=2)
            cmd = [args.wstest_python, os.path.join(HERE, "wstest_local.py"),
                   "-m", "fuzzingserver", "-s", spec_path, "-u", "0"]
        else:
            cmd = [args.kosoku, "-m", "fuzzingserver", "127.0.0.1:%d" % server_port,
                   "-o", reports]
            for c in cases:
                cmd += ["-i", c]
            for c in exclude:
                cmd += ["-x", c]
        print("conformance: %s on %s, cases %s (log %s)" % (
            args.engine, url, ",".join(cases), os.path.relpath(server_log.name, ROOT)),
            flush=True)
        # own process group, so stopping it never touches anything else
        server = subprocess.Popen(cmd, stdout=server_log, stderr=subprocess.STDOUT,
                                  cwd=out, start_new_session=True)
        if server_port != port:
            if not wait_listening(server_port, server, 60):
                stop(server, 0)
                continue
            proxy = subprocess.Popen(
                [sys.executable, os.path.join(HERE, "tls_proxy.py"), "--listen", str(port),
                 "--backend", str(server_port), "--cert", tls_cert, "--key", tls_key],
                stdout=server_log, stderr=subprocess.STDOUT, cwd=out, start_new_session=True)
            if wait_listening(port, proxy, 60):
                break
            stop(proxy, 0)
            proxy = None
            stop(server, 0)
            continue
        if wait_listening(port, server, 60):
            break
        stop(server, 0)
    else:
        server_log.close()
        print("conformance: the fuzzing server did not come up, see %s" % server_log.name)
        return 2
    try:
        count = int(fetch_one_message(port, "/getCaseCount", tls_ca=tls_cert))
        print("conformance: %d cases" % count, flush=True)

        argv = [a.replace("{url}", url).replace("{agent}", args.agent) for a in client]
        print("conformance: client: %s" % " ".join(shlex.quote(a) for a in argv), flush=True)
        client_log = os.path.join(out, "client.log")
        print("conformance: client log %s" % os.path.relpath(client_log, ROOT), flush=True)
        env = dict(os.environ)
        env.pop("WS_TLS_CA", None)
        if tls_cert:
            env["WS_TLS_CA"] = tls_cert
        with open(client_log, "w") as log:
            client_proc = subprocess.Popen(argv, cwd=ROOT, start_new_session=True, env=env,
                                           stdout=log, stderr=subprocess.STDOUT)
        try:
            rc = client_proc.wait(timeout=args.timeout)
            print("conformance: client exited with %d" % rc, flush=True)
        except subprocess.TimeoutExpired:
            print("conformance: client still running after %ds, killed" % args.timeout)
            os.killpg(client_proc.pid, signal.SIGKILL)
            rc = client_proc.wait()
        with open(client_log, errors="replace") as log:
            tail = log.readlines()[-15:]
        if rc != 0:
            print("conformance: last lines of the client log:")
        print("".join("  | " + line for line in (tail if rc != 0 else tail[-1:])), end="")
        if args.engine == "kosoku" and rc == 0:
            # kosoku writes its reports and exits at the client's updateReports
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        if server.poll() is None:
            try:
                fetch_one_message(port, "/updateReports?agent=%s" % args.agent,
                                  tls_ca=tls_cert)
            except OSError as exc:
                print("conformance: updateReports failed: %s" % exc)
    finally:
        stop(server, 30 if args.engine == "kosoku" else 0)
        if proxy is not None:
            stop(proxy, 0)
        server_log.close()
    print("conformance: %.0f s" % (time.monotonic() - started), flush=True)

    index = os.path.join(reports, "index.json")
    if not os.path.exists(index):
        print("conformance: no report written: the client ran no case to its end")
    status = subprocess.call([sys.executable, os.path.join(HERE, "report.py"), index,
                              "--agent", args.agent, "--expect", str(count),
                              "--allow", args.allow])
    if rc != 0:
        # a crash, sanitizer report, stuck case or leak fails the run even
        # when every case it finished was fine
        print("conformance: FAIL: the client exited with status %d (see %s)" % (
            rc, os.path.relpath(client_log, ROOT)))
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
