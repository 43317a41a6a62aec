#!/usr/bin/env python3
"""The table of issue 12 (old C client vs now) from the files the bench and
size parts wrote: cg-compare.sh's callgrind counts, heap32-run.sh's output
and feature.sh's parts. A figure whose file is missing says how to get it.
usage: issue12-table.py <cgout dir> <heap32 result.txt> <size feature dir>"""
import os
import re
import sys


def read(path):
    try:
        return open(path).read()
    except OSError:
        return None


def cg(text, w):
    if text is None:
        return None
    m = re.search(r"^callgrind " + re.escape(w) + r" +instructions/message=([0-9.]+)", text, re.M)
    return float(m.group(1)) if m else None


def fmt(v):
    return "-" if v is None else f"{v:,.0f}".replace(",", " ")


def parts(d):
    text = read(os.path.join(d, "parts.txt"))
    if text is None:
        return None
    out = {}
    for m in re.finditer(r"^part (\S+) text=(\d+) rodata=(\d+)", text, re.M):
        out[m.group(1)] = int(m.group(2)) + int(m.group(3))
    return out


def main():
    cgdir, heapfile, featdir = sys.argv[1:4]
    new, old = read(os.path.join(cgdir, "new.txt")), read(os.path.join(cgdir, "old.txt"))
    status = {}
    for line in (read(os.path.join(cgdir, "old_status.txt")) or "").splitlines():
        w, _, why = line.partition(" ")
        status[w] = why
    rows = []
    for label, w in (("instructions, receive 16-byte text, 1460-byte segments", "recv_16B_x100k"),
                     ("instructions, receive 16-byte text, one frame per segment", "recv_16B_x100k_framed"),
                     ("instructions, receive 65 531-byte binary", "recv_65531B"),
                     ("instructions, receive 65 536-byte binary", "recv_64KiB"),
                     ("instructions, receive 64 KiB in 16 fragments", "recv_64KiB_16frag"),
                     ("instructions, send 16 B", "send_16B"),
                     ("instructions, send 1000 B", "send_1000B")):
        if not status:
            o_s = "skipped (NODEMCU not set)"
        elif status.get(w) == "ok":
            o_s = fmt(cg(old, w))
        else:
            o_s = "n/a: " + status.get(w, "not run")
        rows.append((label, o_s, fmt(cg(new, w)), ""))
    heap = read(heapfile)
    if heap:
        n = re.search(r"now: total=(-?\d+) .*= (-?\d+); Lua: .*= (-?\d+)\)", heap)
        o = re.search(r"old: total=(-?\d+) .*= (-?\d+); Lua: .*= (-?\d+)\)", heap)
        ns = f"{n.group(1)} ({n.group(2)} malloc + {n.group(3)} Lua)" if n else "-"
        os_ = f"{o.group(1)} ({o.group(2)} malloc + {o.group(3)} Lua)" if o else "skipped (NODEMCU not set)"
        rows.append(("heap per idle open connection, i686 runner (whole)", os_, ns, "target: now <= old"))
    else:
        rows.append(("heap per idle open connection, i686 runner (whole)", "-", "-", "make bench-oldclient"))
    for arch in ("thumbv7em", "xtensa-lx106"):
        pn, po = parts(os.path.join(featdir, arch + "-new")), parts(os.path.join(featdir, arch + "-old"))
        if pn is None:
            rows.append((f"flash, {arch}", "-", "-", "make bench-flash / make size"))
            continue
        old_client = fmt(po["client"]) if po else "skipped"
        old_mod = fmt(po["module"]) if po else "skipped"
        old_all = fmt(po["total"]) if po else "skipped"
        def rom_sha1(side):
            standins = read(os.path.join(featdir, f"{arch}-{side}", "standins.txt")) or ""
            return " (+ ROM SHA-1)" if re.search(r"^SHA1Init$", standins, re.M) else ""
        rows.append((f"flash, {arch}: client (+ port)", old_client + (rom_sha1("old") if po else ""),
                     f"{fmt(pn['library'])} + {fmt(pn['port'])}" + rom_sha1("new"), ""))
        rows.append((f"flash, {arch}: Lua module", old_mod, fmt(pn["module"]), ""))
        rows.append((f"flash, {arch}: whole feature (text+rodata)", old_all, fmt(pn["total"]),
                     "target <= 12 288" if arch == "thumbv7em" else "side by side"))
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows + [("", "old C", "", "")])
    w2 = max(len(r[2]) for r in rows + [("", "", "now", "")])
    print("== issue 12: old C client vs now ==")
    print(f"| {'':{w0}} | {'old C':>{w1}} | {'now':>{w2}} | note")
    for label, o, n, note in rows:
        print(f"| {label:{w0}} | {o:>{w1}} | {n:>{w2}} | {note}")


if __name__ == "__main__":
    main()
