#!/usr/bin/env bash
# The whole-feature lines of `make size` (tools/size/feature.sh): ours on
# thumbv7em and xtensa-lx106, the old client + old module beside them when
# its sources are given, and the 12 KiB budget check of issue 12 for
# thumbv7em. The budget is printed, not enforced: OVER exits 0.
# usage: feature-report.sh <out dir> <thumbv7em archive> <lx106 archive> [<old source dir>]
set -euo pipefail
out=$1
arm_lib=$2
lx_lib=$3
old=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
budget=12288
mkdir -p "$out"
for arch in thumbv7em xtensa-lx106; do
  lib=$arm_lib; [ "$arch" = thumbv7em ] || lib=$lx_lib
  "$here/feature.sh" "$arch" "$out/$arch-new" new "$lib" | tee "$out/$arch-new.txt"
  if [ -n "$old" ]; then
    "$here/feature.sh" "$arch" "$out/$arch-old" old "$old" | tee "$out/$arch-old.txt"
  else
    echo "feature $arch old: skipped (NODEMCU not set)" | tee "$out/$arch-old.txt"
  fi
done
n() { sed -n 's/.*text+rodata=\([0-9]*\) B.*/\1/p' "$1"; }
printf 'feature side by side (text+rodata, B)   %-10s %-10s %s\n' "old" "now" "now/old"
for arch in thumbv7em xtensa-lx106; do
  o=$(n "$out/$arch-old.txt"); w=$(n "$out/$arch-new.txt")
  ratio=-; [ -n "$o" ] && ratio=$(awk -v a="$w" -v b="$o" 'BEGIN { printf "%.2f", a / b }')
  printf 'feature side by side %-18s %-10s %-10s %s\n' "$arch" "${o:-skipped}" "$w" "$ratio"
done
w=$(n "$out/thumbv7em-new.txt")
if [ "$w" -le "$budget" ]; then v=OK; else v="OVER by $((w - budget)) B"; fi
echo "size budget thumbv7em feature (library + port + Lua module): text+rodata=$w B, target <= $budget (12 KiB): $v (printed, not enforced)"
