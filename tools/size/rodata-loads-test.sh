#!/usr/bin/env bash
# Checks tools/size/rodata-loads.py on a probe compiled by xtensa-lx106-elf-gcc
# with the firmware's flags (tools/size/test/rodata_probe.c): the byte-table
# lookup in a loop must be FOUND, and only it; the caller's bytes, a word
# table and a single lookup outside a loop must not be flagged; nor must a
# load reached only on a path where the register no longer holds the table
# address (tools/size/test/rodata_probe_paths.S).
# usage: rodata-loads-test.sh <out dir>
set -euo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
xtensa-lx106-elf-gcc -O2 -mlongcalls -mtext-section-literals -ffunction-sections -fdata-sections \
  -fno-jump-tables -c "$here/test/rodata_probe.c" -o "$out/rodata_probe.o"
xtensa-lx106-elf-gcc -mlongcalls -mtext-section-literals -c "$here/test/rodata_probe_paths.S" \
  -o "$out/rodata_probe_paths.o"
rm -f "$out/probe.a"
xtensa-lx106-elf-ar rcs "$out/probe.a" "$out/rodata_probe.o" "$out/rodata_probe_paths.o"
res=$(python3 "$here/rodata-loads.py" "$out/probe.a" probe)
fail=0
row() { grep -E " $1\$| $1 \[" <<<"$res" || true; }
check() { # <function> <expected ro> <expected ro in loop>
  local r; r=$(row "$1")
  set -- "$1" "$2" "$3" $r
  if [ "${7:-x}" = "$2" ] && [ "${8:-x}" = "$3" ]; then :; else
    echo "rodata-loads self-test FAIL: $1 should have ro=$2, ro in loop=$3: ${r:-no row}"; fail=1; fi
}
check probe_decode_table 1 1
check probe_decode_plain 0 0
check probe_decode_words 0 0
check probe_decode_once 1 0
check probe_decode_restored 0 0
grep -q "^rodata-loads probe: FOUND 1 .*probe_decode_table$" <<<"$res" || {
  echo "rodata-loads self-test FAIL: verdict"; fail=1; }
if [ $fail = 0 ]; then echo "rodata-loads self-test: PASS (table lookup in a loop found; plain, word-table, single and other-path lookups not flagged)"
else echo "$res"; exit 1; fi
