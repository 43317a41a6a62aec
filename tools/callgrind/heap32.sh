#!/usr/bin/env bash
# Heap figures of the release archive built for a 32-bit target
# (i686-unknown-linux-gnu: same pointer and usize widths as the ESP8266), from
# cg_bench built with -DCOUNT_HEAP (malloc/realloc/free wrapped). Checks:
#   idle open connection < 200 B (beyond the caller's ws_info),
#   a message within one segment costs no allocation,
#   a 64 KiB message peaks at most its size + 1 + 64 B (joined fragments:
#   size * 3/2 + 1 + 64, the engine's growth rule).
# usage: heap32.sh <cg_bench built with COUNT_HEAP>
set -euo pipefail
bin=$1
fail=0
check() { # ok? text
  if [ "$1" = 1 ]; then echo "heap32 check PASS: $2"; else echo "heap32 check FAIL: $2"; fail=1; fi
}
idle=$("$bin" idle | sed -n 's/^idle_heap=\([0-9]*\).*/\1/p')
check "$([ -n "$idle" ] && [ "$idle" -lt 200 ] && echo 1)" "idle open connection holds ${idle:-?} B of heap on 32-bit (< 200)"
for w in recv_16B_x100k recv_64KiB recv_64KiB_16frag; do
  if ! out=$("$bin" "$w"); then check 0 "$w: engine delivered the wrong data"; continue; fi
  allocs=$(sed -n 's/.*allocs=\([0-9]*\).*/\1/p' <<<"$out")
  peak=$(sed -n 's/.*peak_above_idle=\([0-9]*\).*/\1/p' <<<"$out")
  echo "heap32 $w allocs=$allocs peak_above_idle=$peak B"
  case $w in
    recv_16B_x100k)
      # 1096 of the 100000 18-byte frames straddle a 1460-byte boundary.
      check "$([ "$allocs" -le 1096 ] && [ "$peak" -le 81 ] && echo 1)" \
        "$w: $allocs allocations (<= 1096 straddling messages), peak $peak B (<= 16+1+64)" ;;
    recv_64KiB)
      check "$([ "$peak" -le $((65536 + 1 + 64)) ] && echo 1)" "$w: peak $peak B (<= 65536+1+64)" ;;
    *)
      # Joined fragments: the engine grows by half again (<= 50 % slack).
      check "$([ "$peak" -le $((65536 * 3 / 2 + 1 + 64)) ] && echo 1)" \
        "$w: peak $peak B (<= 65536*3/2+1+64)" ;;
  esac
done
exit $fail
