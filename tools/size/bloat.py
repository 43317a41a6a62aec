#!/usr/bin/env python3
"""cargo-bloat-style breakdown of a linked image from `llvm-nm -S -C` output on
stdin: the top symbols by size and the totals per Rust module.
usage: llvm-nm -S -C --size-sort image.elf | bloat.py <target> [top]"""
import re
import sys
from collections import defaultdict


def module_of(name):
    # websocket::frame::Decoder::next::h0123 -> websocket::frame
    name = re.sub(r"::h[0-9a-f]{16}$", "", name)
    name = re.sub(r"^<(.*?)( as .*)?>", r"\1", name)
    parts = [p for p in name.split("::") if p]
    if len(parts) >= 2 and parts[0] in ("websocket", "core", "alloc", "compiler_builtins", "heapless", "sha1_smol", "base64"):
        return "::".join(parts[:2])
    if name.startswith(("mem", "__aeabi_mem")):
        return "mem* (compiler_builtins, or the platform's in the variant)"
    if name.startswith(("ws_port_", "_start", "malloc", "realloc", "free", "on_", "sink", "port_result", "heap_top", "rx")):
        return "image stub (not the library)"
    if name.startswith("ws_"):
        return "websocket C API entry (with inlined callees): " + name.split("(")[0]
    return "other"


def main():
    target = sys.argv[1]
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    syms = []
    for line in sys.stdin:
        m = re.match(r"^([0-9a-fA-F]+) ([0-9a-fA-F]+) ([tTrRdDbB]) (.*)$", line.rstrip("\n"))
        if not m:
            continue
        size = int(m.group(2), 16)
        if size:
            syms.append((size, m.group(3), m.group(4)))
    syms.sort(reverse=True)
    code = sum(s for s, k, _ in syms if k in "tTrR")
    print(f"bloat {target}: top {top} symbols (text+rodata of all symbols: {code} B)")
    for size, kind, name in syms[:top]:
        short = re.sub(r"::h[0-9a-f]{16}$", "", name)
        print(f"  {size:6d} {kind} {short[:110]}")
    mods = defaultdict(int)
    for size, kind, name in syms:
        if kind in "tTrR":
            mods[module_of(name)] += size
    print(f"bloat {target}: per module (text+rodata)")
    for mod, size in sorted(mods.items(), key=lambda x: -x[1])[:15]:
        print(f"  {size:6d} {mod}")


if __name__ == "__main__":
    main()
