#!/usr/bin/env python3
"""Byte and half-word loads from .rodata in an Xtensa (LX106) object or
archive, per function (issue 12, target 3).

On the ESP8266 .rodata is linked into flash (.irom0.text); an l8ui, l16ui or
l16si there traps into the SDK's load/store exception handler (hundreds of
cycles). This script reads `objdump -d -r -t` of the input and flags the
narrow loads it can PROVE address .rodata:

 * a register holds a .rodata address after `l32r aR, <literal>` whose
   literal carries an R_XTENSA_32 relocation against a symbol or section
   in a .rodata* section, and after addi/addmi/add/addx2/addx4/addx8/mov/or
   from such a register; any other instruction that writes it ends that,
   and so does a call (a0, a2..a11);
 * this is followed along the function's control flow (branches, jumps,
   fall-through; a forward "must" analysis): a register holds a .rodata
   address before an instruction only if it does so on every path that
   reaches it (a table address loaded on one path and replaced on the path
   a load is reached from does not count);
 * an l8ui/l16ui/l16si whose base register holds one is a flagged load.

A load is "in a loop" when it lies inside the range [target, branch] of a
backward branch or jump of its function. A table address passed in as an
argument, or reaching a block only through an indirect jump (jx), is not
seen. Word loads (l32i) are not flagged: they do not trap.

Functions of the per-byte paths (frame decode, masking, UTF-8, handshake
parsing) are those whose demangled name matches HOT below.

usage: rodata-loads.py <object or archive> [label]
prints a table and a verdict line `rodata-loads <label>: FOUND ...` or
`... none ...`; exits 0 either way (2 if objdump fails)."""
import os
import re
import subprocess
import sys
from collections import defaultdict

OBJDUMP = os.environ.get("XTENSA_OBJDUMP", "xtensa-lx106-elf-objdump")
HOT = re.compile(r"frame|mask|utf8|handshake|ResponseParser|line_end|ws_event_received|decode|"
                 r"parse|header|sha1|base64|receive|Receive|recv", re.I)
NARROW = {"l8ui", "l16ui", "l16si"}
NO_WRITE = re.compile(r"^(s8i|s16i|s32i|s32i\.n|s32e|s32ri|s32c1i|b\w*|j|jx|ret|ret\.n|retw|nop|nop\.n|"
                      r"memw|extw|isync|dsync|esync|rsync|loop\w*|wsr\.?\w*|wur\.?\w*|ssl|ssr|ssa8l|"
                      r"ssa8b|ssai|ill|break|simcall|call0|callx0|wdtlb|witlb|iitlb|idtlb)$")
INSN = re.compile(r"^\s*([0-9a-f]+):\s+[0-9a-f]+\s+(\S+)\s*(.*)$")
RELOC = re.compile(r"^\s+([0-9a-f]+): (R_XTENSA_\w+)\s+(.*)$")
LABEL = re.compile(r"^([0-9a-f]+) <(.*)>:$")
SECTION = re.compile(r"^Disassembly of section (.*):$")


def run(args):
    try:
        return subprocess.run([OBJDUMP] + args, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        print(f"rodata-loads: {OBJDUMP} failed: {e}", file=sys.stderr)
        sys.exit(2)


def rodata_symbols(path):
    """Names (demangled, as objdump -C prints relocations) of symbols in .rodata*."""
    syms, sizes = set(), {}
    for line in run(["-t", "-C", path]).splitlines():
        m = re.match(r"^[0-9a-f]+ .{7} (\S+)\s+([0-9a-f]+) (.*)$", line)
        if m and m.group(1).startswith(".rodata"):
            syms.add(m.group(3).strip())
            syms.add(m.group(1))
            sizes[m.group(3).strip()] = int(m.group(2), 16)
    for line in run(["-h", path]).splitlines():
        m = re.match(r"^\s*\d+ (\.rodata\S*)\s+([0-9a-f]+) ", line)
        if m:
            sizes[m.group(1)] = int(m.group(2), 16)
    return syms, sizes


def base_reg(ops):
    return ops[1] if len(ops) > 1 else None


def analyse(path):
    ro, sizes = rodata_symbols(path)
    text = run(["-d", "-r", "-C", path])
    funcs = []  # dicts: name, insns [(addr, mnem, ops)], lit {addr: target}
    cur = None
    last_addr = None
    for line in text.splitlines():
        m = SECTION.match(line)
        if m:
            cur = {"section": m.group(1), "name": None, "insns": [], "lit": {}}
            funcs.append(cur)
            continue
        if cur is None:
            continue
        m = LABEL.match(line)
        if m:
            if not re.search(r"[-+]0x[0-9a-f]+$", m.group(2)):
                if cur["name"] is not None and cur["insns"]:
                    cur = {"section": cur["section"], "name": None, "insns": [], "lit": cur["lit"]}
                    funcs.append(cur)
                cur["name"] = m.group(2)
            continue
        m = RELOC.match(line)
        if m:
            if m.group(2) == "R_XTENSA_32":
                target = re.sub(r"[-+]0x[0-9a-f]+$", "", m.group(3).strip())
                cur["lit"][int(m.group(1), 16)] = target
            continue
        m = INSN.match(line)
        if m:
            ops = [o.strip() for o in re.split(r",\s*", m.group(3).split("\t")[0].strip())] if m.group(3) else []
            cur["insns"].append((int(m.group(1), 16), m.group(2), ops, m.group(3)))
    results = []
    for f in funcs:
        if not f["insns"] or not f["section"].startswith(".text"):
            continue
        name = f["name"] or f["section"]
        loops = []
        for addr, mn, ops, raw in f["insns"]:
            if mn.startswith(("b", "j", "loop")) and mn not in ("break",):
                t = re.search(r"\b([0-9a-f]+) <", raw)
                if t:
                    target = int(t.group(1), 16)
                    if mn.startswith("loop"):
                        loops.append((addr, target))
                    elif target <= addr:
                        loops.append((target, addr))
        inloop = lambda a: any(lo <= a <= hi for lo, hi in loops)
        insns = f["insns"]
        index = {addr: i for i, (addr, _, _, _) in enumerate(insns)}

        def successors(i):
            addr, mn, ops, raw = insns[i]
            nxt = [i + 1] if i + 1 < len(insns) else []
            t = re.search(r"\b([0-9a-f]+) <", raw)
            target = index.get(int(t.group(1), 16)) if t else None
            if mn in ("ret", "ret.n", "retw", "retw.n", "jx", "ill", "break"):
                return []
            if mn == "j":
                return [target] if target is not None else []
            if (mn.startswith("b") or mn.startswith("loop")) and target is not None:
                return nxt + [target]
            return nxt

        def transfer(state, insn):
            """The register state after `insn` (a new dict)."""
            addr, mn, ops, raw = insn
            regs = dict(state)
            dst = ops[0] if ops else None
            if mn == "l32r":
                t = re.match(r"([0-9a-f]+)", ops[1]) if len(ops) > 1 else None
                target = f["lit"].get(int(t.group(1), 16)) if t else None
                if target is not None and (target in ro or target.startswith(".rodata")):
                    regs[dst] = target
                else:
                    regs.pop(dst, None)
            elif mn in ("addi", "addi.n", "addmi", "mov", "mov.n"):
                if base_reg(ops) in regs:
                    regs[dst] = regs[base_reg(ops)]
                else:
                    regs.pop(dst, None)
            elif mn in ("add", "add.n", "addx2", "addx4", "addx8", "or"):
                src = [x for x in ops[1:3] if x in regs]
                if src:
                    regs[dst] = regs[src[0]]
                else:
                    regs.pop(dst, None)
            elif mn in ("call0", "callx0"):
                for r in ["a0"] + [f"a{i}" for i in range(2, 12)]:
                    regs.pop(r, None)
            elif dst and not NO_WRITE.match(mn):
                regs.pop(dst, None)
            return regs

        # Forward must-analysis: the state before each instruction is the
        # meet (same register, same symbol) over its predecessors; None =
        # not reached yet. The entry holds nothing.
        before = [None] * len(insns)
        if insns:
            before[0] = {}
        work = [0] if insns else []
        while work:
            i = work.pop()
            after = transfer(before[i], insns[i])
            for j in successors(i):
                if before[j] is None:
                    new = dict(after)
                else:
                    new = {r: v for r, v in before[j].items() if after.get(r) == v}
                if new != before[j]:
                    before[j] = new
                    work.append(j)
        narrow = narrow_loop = flagged = flagged_loop = 0
        where = []
        for i, (addr, mn, ops, raw) in enumerate(insns):
            if mn in NARROW:
                narrow += 1
                loop = inloop(addr)
                narrow_loop += loop
                regs = before[i] or {}
                if base_reg(ops) in regs:
                    flagged += 1
                    flagged_loop += loop
                    sym = regs[base_reg(ops)]
                    sym = sym[len(".rodata."):] if sym.startswith(".rodata.") else sym
                    where.append(f"{addr:x}{'*' if loop else ''}:{sym[:24]}({sizes.get(regs[base_reg(ops)], '?')} B)")
        results.append({"name": name, "hot": bool(HOT.search(name)), "narrow": narrow,
                        "narrow_loop": narrow_loop, "flagged": flagged, "flagged_loop": flagged_loop,
                        "where": where})
    return results


def main():
    path = sys.argv[1]
    label = sys.argv[2] if len(sys.argv) > 2 else os.path.basename(path)
    res = analyse(path)
    hot = [r for r in res if r["hot"]]
    shown = [r for r in res if r["hot"] or r["flagged"]]
    print(f"rodata-loads {label}: {len(res)} functions, {len(hot)} on per-byte paths (hot); "
          f"narrow = l8ui/l16ui/l16si, ro = base provably in .rodata, * = in a loop")
    print(f"  {'hot':3} {'narrow':>6} {'in loop':>7} {'ro':>3} {'ro in loop':>10}  function [ro load offsets]")
    for r in sorted(shown, key=lambda r: (-r["flagged_loop"], -r["flagged"], not r["hot"], r["name"])):
        print(f"  {'yes' if r['hot'] else 'no':3} {r['narrow']:6d} {r['narrow_loop']:7d} {r['flagged']:3d} "
              f"{r['flagged_loop']:10d}  {r['name'][:90]}" + (f" [{' '.join(r['where'])}]" if r["where"] else ""))
    bad = [r for r in hot if r["flagged_loop"]]
    elsewhere = sum(r["flagged"] for r in res) - sum(r["flagged_loop"] for r in bad)
    if bad:
        n = sum(r["flagged_loop"] for r in bad)
        print(f"rodata-loads {label}: FOUND {n} byte/half-word load(s) from .rodata inside loops of "
              f"{len(bad)} per-byte-path function(s): " + ", ".join(r["name"][:60] for r in bad))
    else:
        print(f"rodata-loads {label}: none (no provable byte/half-word load from .rodata inside a loop "
              f"of the {len(hot)} per-byte-path functions; {elsewhere} elsewhere)")


if __name__ == "__main__":
    main()
