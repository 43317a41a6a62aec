#!/usr/bin/env bash
# Instructions per message of the old C client beside ours, under callgrind,
# same workloads and same harness shape (tools/callgrind/cg_bench.c for ours,
# cg_old.c for the old client; both count the client plus a trivial port or
# espconn and the callbacks, nothing else: tools/callgrind/run.sh).
# Each workload is first run on the old client without valgrind: only those
# it gets right (exit 0, messages checked) are counted; for the others the
# failure is reported (wrong data: exit 1; a crash: its signal).
# writes <out>/new.txt, <out>/old.txt, <out>/old_status.txt ("<workload> ok|<why>")
# usage: cg-compare.sh <cg_bench binary> <cg_old binary or ""> <out dir>
set -euo pipefail
new=$1
old=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
run=$here/../callgrind/run.sh
work="recv_16B_x100k recv_16B_x100k_framed recv_65531B recv_64KiB recv_64KiB_16frag send_16B send_1000B"
mkdir -p "$out"
CG_WORKLOADS="$work" "$run" "$new" "$out/new" > "$out/new.txt" || { cat "$out/new.txt"; exit 1; }
: > "$out/old.txt"
: > "$out/old_status.txt"
if [ -n "$old" ]; then
  good=()
  for w in $work; do
    if ( timeout 120 "$old" "$w" > /dev/null 2> "$out/old_$w.log"; exit $? ) 2> /dev/null; then
      echo "$w ok" >> "$out/old_status.txt"; good+=("$w")
    else
      rc=$?
      case $rc in
        1) why="wrong messages delivered" ;;
        124) why="timed out" ;;
        13[0-9]|1[4-5][0-9]) why="crashed ($(kill -l $((rc - 128))))" ;;
        *) why="failed (status $rc)" ;;
      esac
      echo "$w $why" >> "$out/old_status.txt"
    fi
  done
  if [ "${#good[@]}" -gt 0 ]; then
    CG_WORKLOADS="${good[*]}" "$run" "$old" "$out/old" > "$out/old.txt" || { cat "$out/old.txt"; exit 1; }
  fi
fi
per() { sed -n "s/^callgrind $2 *instructions\/message=\([0-9.]*\).*/\1/p" "$1"; }
printf '%-44s %22s %12s %8s\n' "oldclient callgrind, instructions/message" old now now/old
for w in $work; do
  n=$(per "$out/new.txt" "$w")
  r=-
  if [ -z "$old" ]; then o="skipped (NODEMCU not set)"
  else
    o=$(per "$out/old.txt" "$w")
    if [ -n "$o" ]; then r=$(awk -v a="$n" -v b="$o" 'BEGIN { printf "%.2f", a / b }')
    else o=$(sed -n "s/^$w //p" "$out/old_status.txt"); fi
  fi
  printf '%-44s %22s %12s %8s\n' "oldclient callgrind $w" "$o" "$n" "$r"
done
