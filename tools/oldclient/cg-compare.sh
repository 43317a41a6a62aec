#!/usr/bin/env bash
# Instructions per message of the old C client beside ours, under callgrind,
# same workloads and same harness shape (tools/callgrind/cg_bench.c for ours,
# cg_old.c for the old client; both count the client plus a trivial port or
# espconn and the callbacks, nothing else: tools/callgrind/run.sh).
# usage: cg-compare.sh <cg_bench binary> <cg_old binary or ""> <out dir>
set -euo pipefail
new=$1
old=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
run=$here/../callgrind/run.sh
work="recv_16B_x100k recv_16B_x100k_framed recv_65531B recv_64KiB_16frag send_16B send_1000B"
CG_WORKLOADS="$work" "$run" "$new" "$out/new" > "$out/new.txt" || { cat "$out/new.txt"; exit 1; }
if [ -n "$old" ]; then
  CG_WORKLOADS="recv_16B_x100k_framed recv_65531B send_16B send_1000B" "$run" "$old" "$out/old" > "$out/old.txt" ||
    { cat "$out/old.txt"; exit 1; }
  # The stream the new client gets in 1460-byte segments crashes the old one.
  if ( "$old" recv_16B_x100k > /dev/null 2> "$out/old_recv_16B_x100k.log"; exit $? ) 2> /dev/null; then crash="ran"
  else crash="fails (status $?)"; fi
else
  : > "$out/old.txt"
fi
per() { sed -n "s/^callgrind $2 *instructions\/message=\([0-9.]*\).*/\1/p" "$1"; }
printf '%-44s %14s %14s %8s\n' "oldclient callgrind, instructions/message" old now now/old
for w in $work; do
  n=$(per "$out/new.txt" "$w")
  if [ -z "$old" ]; then o="skipped (NODEMCU not set)"; r=-
  else
    o=$(per "$out/old.txt" "$w")
    case $w in
      recv_16B_x100k) o="n/a: $crash"; r=- ;;
      recv_64KiB_16frag) o="n/a: no correct reassembly"; r=- ;;
      *) r=$(awk -v a="$n" -v b="$o" 'BEGIN { printf "%.2f", a / b }') ;;
    esac
  fi
  printf '%-44s %14s %14s %8s\n' "oldclient callgrind $w" "$o" "$n" "$r"
done
