#!/usr/bin/env python3
"""Turn llc's indirect calls through a literal into direct `call0`.

usage: direct-calls.py <in.s> <out.s>

llc-22 for xtensa emits every call as `l32r aR, .LCPIn` (load the callee's
address from a literal) ... `callx0 aR`. GCC instead emits `call0 f` and
lets the assembler's --longcalls turn it into a literal load that the
linker relaxes back into a plain `call0` whenever the callee is within
reach (as in NodeMCU's -mlongcalls builds). That saves the literal and the
load for every near call.

A call is rewritten only when the value in aR can only have come from that
l32r and nothing else can see it:
  - the l32r is in the same basic block as the callx0 (no label or
    directive between them) and no instruction between them mentions aR;
  - aR is caller-saved under the call0 ABI (a2..a11): the call clobbers it,
    so no later instruction may read the loaded address;
  - the literal holds a symbol (not a number);
  - within the rest of the block aR is written before any read (llc runs
    with -enable-ipra=false, so it always treats a2..a11 as clobbered by a
    call; this checks it).
Then the l32r is deleted, the callx0 becomes `call0 <symbol>`, and a literal
no longer referenced anywhere is deleted. Everything else is left as llc
wrote it.
"""
import re
import sys

src, dst = sys.argv[1:3]
lines = open(src).read().split("\n")
literal = re.compile(r"\s*\.literal\s+(\.LCPI\w+),\s*([A-Za-z_.$][\w.$]*)\s*$")
values = {m.group(1): m.group(2) for m in map(literal.match, lines) if m}


def code(line):
    return line.split("#", 1)[0].strip()


drop, rewritten, kept_live = set(), 0, 0
for i, line in enumerate(lines):
    m = re.match(r"(\s*)callx0\s+a(\d+)\s*$", line)
    if not m or not 2 <= int(m.group(2)) <= 11:
        continue
    reg = "a" + m.group(2)
    j, load = i - 1, None
    while j >= 0:
        s = code(lines[j])
        if not s:
            j -= 1
            continue
        if s.endswith(":") or s.startswith("."):
            break  # a label or directive: another basic block may flow in
        ops = [o for o in re.split(r"[\s,]+", s) if o]
        if ops[0] == "l32r" and ops[1] == reg:
            load = j if ops[2] in values else None
            break
        if reg in ops[1:]:
            break
        j -= 1
    if load is None:
        continue
    # Belt and braces: in the rest of the block, aR must be written before
    # it is read (the call clobbers it; llc runs with -enable-ipra=false so
    # it cannot know otherwise).
    k, read_after = i + 1, False
    while k < len(lines):
        s = code(lines[k])
        if not s:
            k += 1
            continue
        if s.endswith(":") or s.startswith("."):
            break
        ops = [o for o in re.split(r"[\s,]+", s) if o]
        if reg in ops[1:]:
            # Instructions whose first register operand is read, not (only) written:
            # stores, branches, indirect jumps/calls, special-register writes,
            # shift-amount setters, conditional moves (keep the old value).
            writes_first = not re.fullmatch(
                r"s8i|s16i|s32i(\.n)?|s32c1i|b\w*|callx\d+|jx|wsr|wur|xsr|ret(\.n)?|ssr|ssl|ssa8[lb]"
                r"|mov(eqz|nez|ltz|gez)(\.n)?|movt|movf|loop\w*", ops[0])
            read_after = ops[1:].count(reg) > 1 or not (writes_first and ops[1] == reg)
            break
        k += 1
    if read_after:
        kept_live += 1
        continue
    label = [o for o in re.split(r"[\s,]+", code(lines[load])) if o][2]
    drop.add(load)
    lines[i] = f"{m.group(1)}call0\t{values[label]}"
    rewritten += 1
out = [l for k, l in enumerate(lines) if k not in drop]
still = set(re.findall(r"\.LCPI\w+", "\n".join(l for l in out if not literal.match(l)
                                                  and not re.match(r"\s*\.literal\s", l))))
dropped_literals = 0
final = []
for l in out:
    m = re.match(r"\s*\.literal\s+(\.LCPI\w+),", l)
    if m and m.group(1) not in still:
        dropped_literals += 1
        continue
    final.append(l)
open(dst, "w").write("\n".join(final))
left = sum(1 for l in final if re.match(r"\s*callx0\s", l))
print(f"direct-calls: {rewritten} calls made direct (call0), {dropped_literals} literals dropped, "
      f"{left} callx0 left as llc wrote them ({kept_live} of them because the register is read after the call)")
