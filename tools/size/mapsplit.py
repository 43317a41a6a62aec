#!/usr/bin/env python3
"""Splits the allocated bytes of a linked image by input file, from GNU ld's
map file (-Map) and the image's section flags.
usage: mapsplit.py <image.elf> <map> <label>=<path> ...
A <path> is an object file or an archive (its members count for it). Prints
one line per label in the order given,
   part <label> text=<n> rodata=<n> data=<n> bss=<n>
then `part other ...` (anything not named: linker padding, stubs) and
`part total ...`, whose text+rodata+data+bss equals the image's (checked)."""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from elfsize import sections, SHF_ALLOC, SHF_EXECINSTR, SHF_WRITE, SHT_NOBITS  # noqa: E402


def kind_of(typ, flags):
    if not flags & SHF_ALLOC:
        return None
    if typ == SHT_NOBITS:
        return "bss"
    if flags & SHF_EXECINSTR:
        return "text"
    if flags & SHF_WRITE:
        return "data"
    return "rodata"


def main():
    elf, mapfile = sys.argv[1], sys.argv[2]
    labels = []
    for arg in sys.argv[3:]:
        label, path = arg.split("=", 1)
        labels.append((label, os.path.realpath(path)))
    out_kind = {}
    totals = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    for name, typ, flags, size in sections(elf):
        k = kind_of(typ, flags)
        out_kind[name] = k
        if k:
            totals[k] += size
    parts = {label: dict.fromkeys(totals, 0) for label, _ in labels}
    parts["other"] = dict.fromkeys(totals, 0)

    def owner(path):
        path = path.strip()
        m = re.match(r"^(.*?\.a)\((.*)\)$", path)
        real = os.path.realpath(m.group(1) if m else path)
        for label, p in labels:
            if real == p:
                return label
        return "other"

    text = open(mapfile).read()
    start = text.find("Linker script and memory map")
    if start < 0:
        raise SystemExit(f"{mapfile}: no memory map")
    lines = text[start:].splitlines()
    cur = None      # current output section's kind
    pending = None  # an input section name on a line of its own
    hexnum = r"0x[0-9a-fA-F]+"
    for line in lines:
        m = re.match(r"^(\S+)(?:\s+(" + hexnum + r")\s+(" + hexnum + r"))?", line)
        if m and not line.startswith(" "):
            cur = out_kind.get(m.group(1))
            pending = None
            continue
        if cur is None:
            continue
        m = re.match(r"^ (\S+)\s+(" + hexnum + r")\s+(" + hexnum + r")\s+(\S.*)$", line)
        if m:
            name, size, path = m.group(1), int(m.group(3), 16), m.group(4)
        else:
            m = re.match(r"^\s+(" + hexnum + r")\s+(" + hexnum + r")\s+(\S.*)$", line)
            if m and pending:
                name, size, path = pending, int(m.group(2), 16), m.group(3)
            else:
                m2 = re.match(r"^ (\S+)\s*$", line)
                pending = m2.group(1) if m2 else None
                m3 = re.match(r"^ \*fill\*\s+(" + hexnum + r")\s+(" + hexnum + r")", line)
                if m3:
                    parts["other"][cur] += int(m3.group(2), 16)
                continue
        pending = None
        if name == "*fill*":
            parts["other"][cur] += size
            continue
        parts[owner(path)][cur] += size
    summed = {k: sum(p[k] for p in parts.values()) for k in totals}
    for label in [label for label, _ in labels] + ["other"]:
        p = parts[label]
        print(f"part {label} text={p['text']} rodata={p['rodata']} data={p['data']} bss={p['bss']}")
    print(f"part total text={totals['text']} rodata={totals['rodata']} data={totals['data']} bss={totals['bss']}")
    if summed != totals:
        print(f"mapsplit: parts {summed} do not add up to the image {totals}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
