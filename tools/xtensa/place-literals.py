#!/usr/bin/env python3
"""Put each function's literal pool into the function's own section.

usage: place-literals.py <in.s> <out.s>
       place-literals.py --check-only <in.s>   (only the check below)

llc-22's Xtensa printer emits a function's constant pool (`.literal_position`
and its `.literal` lines) BEFORE the `.section` directives that switch to the
function's section, so with `as --text-section-literals` the literals of
function N land at the end of function N-1's section. L32R then reaches into
a neighbour's section: --gc-sections keeps every predecessor of a used
function (nothing is ever removed), and a linker script that orders sections
differently would put a literal after its use. GCC emits the pool after the
section switch; this moves each pool block behind the run of `.section`
lines that follows it, which is the same thing. build.sh then checks, from
the object's relocations, that every L32R stays inside its own section.
"""
import re
import sys

check_only = sys.argv[1] == "--check-only"
src, dst = sys.argv[2:3] * 2 if check_only else sys.argv[1:3]
lines = open(src).read().split("\n")
pool = re.compile(r"\s*\.literal(_position)?\b")
section = re.compile(r"\s*\.section\s")
out, i, moved = [], 0, 0
while i < len(lines):
    if pool.match(lines[i]) and not check_only:
        j = i
        while j < len(lines) and pool.match(lines[j]):
            j += 1
        k = j
        while k < len(lines) and section.match(lines[k]):
            k += 1
        if k > j:
            out += lines[j:k] + lines[i:j]
            moved += 1
        else:
            out += lines[i:j]
        i = k
    else:
        out.append(lines[i])
        i += 1
# Check: every literal label is defined (.literal) in the section whose code
# loads it (l32r), and before that load.
cur, defined, bad = ".text", {}, []
for no, line in enumerate(out, 1):
    m = re.match(r"\s*\.section\s+\"?([^\",]+)", line)
    if m:
        cur = m.group(1)
        continue
    m = re.match(r"\s*\.literal\s+([\w.$]+)\s*,", line)
    if m:
        defined[m.group(1)] = cur
        continue
    m = re.match(r"\s*l32r\s+\w+,\s*([\w.$]+)", line)
    if m and defined.get(m.group(1)) != cur:
        bad.append(f"line {no}: l32r of {m.group(1)} in {cur}, literal "
                   f"{'in ' + defined[m.group(1)] if m.group(1) in defined else 'not defined before'}")
if bad:
    print("place-literals: FAIL: literals outside the section that loads them:", file=sys.stderr)
    for b in bad[:10]:
        print("  " + b, file=sys.stderr)
    sys.exit(1)
if not check_only:
    open(dst, "w").write("\n".join(out))
n_l32r = sum(1 for l in out if re.match(r"\s*l32r\s", l))
print(f"place-literals: {moved} literal pools moved into their function's section; "
      f"{n_l32r} l32r, each loading a literal of its own section placed before it")
