#!/usr/bin/env bash
# Instructions per message of cg_bench's workloads on the LX106, from CCOUNT
# under `qemu-system-xtensa -icount shift=0` (see lx106_bench.c).
#   run-lx106.sh ELF_DIR HOST_CALLGRIND_DIR WORKLOAD...
# ELF_DIR holds cg_bench-lx106-<workload>.elf. Each program measures how many
# CCOUNT ticks a loop of known instruction count takes, then the workload;
# instructions = workload ticks * loop instructions / loop ticks. With the
# host's callgrind output of the same workload in HOST_CALLGRIND_DIR
# (`make bench-callgrind`), its count per message is printed alongside.
set -euo pipefail
dir=$1 host=$2; shift 2
timeout_s=${EMU_TIMEOUT:-300}
status=0
for w in "$@"; do
  elf="$dir/cg_bench-lx106-$w.elf" log="$dir/cg_bench-lx106-$w.log"
  if ! timeout "$timeout_s" qemu-system-xtensa -M sim -cpu lx106 -nographic -monitor none -semihosting \
      -icount shift=0 -kernel "$elf" </dev/null >"$log" 2>&1; then
    echo "lx106     $w: FAILED (exit status or timeout; see $log)"; tail -5 "$log"; status=1; continue
  fi
  msgs=$(sed -n 's/^messages=\([0-9]*\).*/\1/p' "$log")
  bytes=$(sed -n 's/.*bytes=\([0-9]*\).*/\1/p' "$log" | head -1)
  read -r region calib cinstr < <(sed -n \
    's/^region_ccount=\([0-9]*\) calib_ccount=\([0-9]*\) calib_instructions=\([0-9]*\)$/\1 \2 \3/p' "$log")
  if [[ -z "${msgs:-}" || "$msgs" == 0 || -z "${region:-}" || -z "${calib:-}" || "$calib" == 0 ]]; then
    echo "lx106     $w: could not read the counts (see $log)"; status=1; continue
  fi
  hostir=""
  if [ -f "$host/$w.callgrind" ]; then
    hostir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$host/$w.callgrind" | head -1)
  fi
  awk -v w="$w" -v r="$region" -v c="$calib" -v ci="$cinstr" -v m="$msgs" -v b="$bytes" -v h="$hostir" 'BEGIN {
    i = r * ci / c
    # one CCOUNT tick is ci/c instructions: the resolution of the count
    line = sprintf("lx106     %-18s instructions/message=%.1f (+-%.1f) instructions/byte=%.2f (%.0f for %d messages; CCOUNT %d, %.4f per instruction)",
                   w, i / m, ci / c / m, i / b, i, m, r, c / ci)
    if (h != "") line = line sprintf("  host x86-64 callgrind: %.1f/message, LX106/host %.2f", h / m, i / h)
    print line }'
done
exit $status
