#!/usr/bin/env bash
# Runs cg_bench under callgrind for every workload and prints instructions
# per message (callgrind's "totals" of the toggled region / messages).
# usage: run.sh <cg_bench binary> <output dir>
set -euo pipefail
bin=$1
out=$2
mkdir -p "$out"
status=0
for w in ${CG_WORKLOADS:-recv_16B_x100k recv_65531B recv_64KiB recv_64KiB_16frag send_16B send_1000B}; do
  f="$out/$w.callgrind"
  if ! res=$(valgrind --tool=callgrind --callgrind-out-file="$f" --toggle-collect=run_workload \
      "$bin" "$w" 2>"$out/$w.log"); then
    echo "callgrind $w: FAILED (see $out/$w.log)"; cat "$out/$w.log" | tail -5; status=1; continue
  fi
  msgs=$(sed -n 's/^messages=\([0-9]*\).*/\1/p' <<<"$res")
  bytes=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' <<<"$res")
  total=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$f" | head -1)
  if [[ -z "$total" || -z "$msgs" || "$msgs" == 0 ]]; then
    echo "callgrind $w: could not read totals"; status=1; continue
  fi
  awk -v w="$w" -v t="$total" -v m="$msgs" -v b="$bytes" 'BEGIN {
    printf "callgrind %-18s instructions/message=%.1f instructions/byte=%.2f (Ir %d for %d messages)\n", w, t/m, t/b, t, m }'
done
exit $status
