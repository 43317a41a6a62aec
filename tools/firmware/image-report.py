#!/usr/bin/env python3
"""Checks and size report for a linked NodeMCU image (part of make firmware-check).

  image-report.py check   MAPFILE OBJDUMP_T_FILE [NAME...]
                                                    -> checks of our module, exit 1 on failure
                                                       (NAME...: symbols that must be there;
                                                       default: the module's entry, its library
                                                       calls, the port)
  image-report.py table   LABEL ORIG_SIZE_A OURS_SIZE_A ORIG_MAP OURS_MAP
                                                    -> side-by-side section sizes

MAPFILE is the linker map the firmware's link writes (app/mapfile),
OBJDUMP_T_FILE the output of `xtensa-lx106-elf-objdump -t eagle.app.v6.out`,
*_SIZE_A the output of `xtensa-lx106-elf-size -A -d` of the two images.

"The module" is every input section that comes from the app/websocket
library (websocket/.output/.../libwebsocket.a: for us the Rust core and the
espconn port, for the tree's original the old C client) or from
libmodules.a(websocket.o) (the Lua module). The same rule measures both.
"""
import re
import sys

IRAM = (0x40100000, 0x40110000)   # iram1_0_seg + iram0_0_seg of ld/nodemcu.ld
DRAM = (0x3FFE8000, 0x40000000)
IROM = (0x40200000, 0x40300000)

OUT_RE = re.compile(r"^(\S+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)")
OUT_NAME_RE = re.compile(r"^(\.\S+)$")
IN_RE = re.compile(r"^ (\S+)\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")
IN_NAME_RE = re.compile(r"^ (\S+)$")
CONT_RE = re.compile(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)\s+(\S.*)$")


def ours(path):
    p = path.replace("\\", "/")
    return "websocket/.output/" in p or p.endswith("libmodules.a(websocket.o)")


def parse_map(path):
    """[(output section, output address, input section, size, file)] of the
    memory map part of a GNU ld map file."""
    lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if l.startswith("Linker script and memory map"))
    except StopIteration:
        sys.exit(f"image-report: {path} is not a GNU ld map file")
    out, out_addr, pending_in, pending_out = None, 0, None, None
    rows = []
    for line in lines[start + 1:]:
        if pending_out is not None:
            m = re.match(r"^\s+0x([0-9a-fA-F]+)\s+0x([0-9a-fA-F]+)", line)
            if m:
                out, out_addr = pending_out, int(m.group(1), 16)
            pending_out = None
            continue
        if pending_in is not None:
            m = CONT_RE.match(line)
            if m and out is not None:
                rows.append((out, out_addr, pending_in, int(m.group(2), 16), m.group(3).strip()))
            pending_in = None
            if m:
                continue
        if line and not line[0].isspace():
            m = OUT_RE.match(line)
            if m:
                out, out_addr = m.group(1), int(m.group(2), 16)
                continue
            m = OUT_NAME_RE.match(line)
            if m:
                pending_out = m.group(1)
                continue
            out = None          # LOAD, OUTPUT, /DISCARD/ ...
            continue
        m = IN_RE.match(line)
        if m and out is not None:
            rows.append((out, out_addr, m.group(1), int(m.group(3), 16), m.group(4).strip()))
            continue
        m = IN_NAME_RE.match(line)
        if m and not m.group(1).startswith("*") and m.group(1) != "*fill*":
            pending_in = m.group(1)
    return rows


def module_share(rows):
    """{output section: bytes} of the module's input sections, plus their regions."""
    share, where = {}, {}
    for out, addr, _sec, size, path in rows:
        # only what is loaded or allocated on the chip (not .comment, debug info)
        if size and ours(path) and region(addr) != "?":
            share[out] = share.get(out, 0) + size
            where[out] = addr
    return share, where


def region(addr):
    for name, (lo, hi) in (("IRAM", IRAM), ("DRAM", DRAM), ("flash", IROM)):
        if lo <= addr < hi:
            return name
    return "?"


FULL_IMAGE_NEEDS = (
    # The module's entry and the library calls it makes, the events the port
    # feeds in, and the whole port (the library calls every ws_port_*).
    "luaopen_websocket", "ws_connect_with", "ws_send_long", "ws_close_with", "ws_release",
    "ws_event_received", "ws_event_sent", "ws_event_timer",
    "ws_port_resolve", "ws_port_connect", "ws_port_send", "ws_port_close",
    "ws_port_timer_arm", "ws_port_timer_disarm", "ws_port_random", "ws_port_sha1")


def check(map_path, syms_path, needs=FULL_IMAGE_NEEDS):
    rows = parse_map(map_path)
    share, where = module_share(rows)
    bad = []
    if not share.get(".irom0.text"):
        bad.append("no input section of the module is in .irom0.text (map not understood, or the module was not linked)")
    for out, size in sorted(share.items()):
        if region(where[out]) == "IRAM":
            bad.append(f"{size} B of the module in {out} (IRAM)")
            for o, _a, sec, sz, path in rows:
                if o == out and sz and ours(path):
                    bad.append(f"    {sec} ({sz} B) from {path}")
    print("  the module's share per output section: " +
          ", ".join(f"{o} ({region(where[o])}) {s} B" for o, s in sorted(share.items())))
    ram = {o: s for o, s in share.items() if region(where[o]) == "DRAM"}
    print("  added to RAM by the module: " + (", ".join(f"{o} {s} B" for o, s in sorted(ram.items())) or "nothing"))

    syms = []
    sym_re = re.compile(r"^([0-9a-fA-F]{8})\s(.{7})\s(\S+)\s+([0-9a-fA-F]{8})\s+(?:\.hidden\s+)?(\S+)$")
    for line in open(syms_path, encoding="utf-8", errors="replace"):
        m = sym_re.match(line.rstrip("\n"))
        if not m:
            continue
        name, sec, flags = m.group(5), m.group(3), m.group(2)
        if sec == "*UND*":      # not defined here (a full image has none: checked separately)
            continue
        if (name.startswith("ws_") or name == "luaopen_websocket") and flags[6] != "f":
            syms.append((name, sec, int(m.group(1), 16)))
    names = {n for n, _s, _a in syms}
    for need in needs:
        if need not in names:
            bad.append(f"symbol {need} is not in the image")
    outside = [(n, s) for n, s, _a in syms if s != ".irom0.text"]
    for n, s in outside:
        bad.append(f"symbol {n} is in {s}, not .irom0.text")
    print(f"  ws_* / luaopen_websocket symbols: {len(syms)}, in .irom0.text: {len(syms) - len(outside)}")
    if bad:
        for b in bad:
            print("  FAIL: " + b)
        return 1
    return 0


def size_a(path):
    sizes = {}
    for line in open(path, encoding="utf-8"):
        parts = line.split()
        if len(parts) >= 3 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def table(label, orig_size, ours_size, orig_map, ours_map):
    a, b = size_a(orig_size), size_a(ours_size)
    ma, _ = module_share(parse_map(orig_map))
    mb, _ = module_share(parse_map(ours_map))
    secs = [s for s in (".data", ".rodata", ".bss", ".text", ".lit4", ".pre_init_ram", ".irom0.text") if s in a or s in b]
    print(f"  {label}: image sections (bytes), tree's original module vs ours")
    print(f"    {'section':<14}{'original':>10}{'ours':>10}{'delta':>9}   {'orig. module':>12}{'our module':>11}")
    for s in secs:
        x, y = a.get(s, 0), b.get(s, 0)
        print(f"    {s:<14}{x:>10}{y:>10}{y - x:>+9}   {ma.get(s, 0):>12}{mb.get(s, 0):>11}")
    ram = lambda d: sum(d.get(s, 0) for s in (".data", ".rodata", ".bss"))
    flash = lambda d: sum(d.get(s, 0) for s in (".irom0.text", ".data", ".rodata", ".text", ".lit4", ".pre_init_ram"))
    print(f"    {'RAM total':<14}{ram(a):>10}{ram(b):>10}{ram(b) - ram(a):>+9}   (.data+.rodata+.bss)")
    print(f"    {'flash total':<14}{flash(a):>10}{flash(b):>10}{flash(b) - flash(a):>+9}   (all loaded sections)")
    return 0


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "check":
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4:] or FULL_IMAGE_NEEDS))
    if len(sys.argv) == 7 and sys.argv[1] == "table":
        sys.exit(table(*sys.argv[2:]))
    sys.exit(__doc__)
