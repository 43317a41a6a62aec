#!/usr/bin/env bash
# Runs bare-metal test programs on emulated CPUs and checks their verdict.
#   tests/emu/run.sh CPU:ELF[:LABEL] ...
# CPU is cortex-m4, rv32imc or lx106. Each program is run under its QEMU
# machine with `timeout`; it must print a "<n> passed, <n> failed" line and
# exit with status 0, with n passed > 0 and n failed = 0. Every run is
# reported (CPU, machine, counts, wall time); the exit status is non-zero if
# any run failed, timed out or printed no verdict.
set -uo pipefail
timeout_s=${EMU_TIMEOUT:-120}

qemu_cmd() { # cpu elf
  case "$1" in
    cortex-m4) echo "qemu-system-arm -M mps2-an386 -cpu cortex-m4 -nographic -monitor none -serial none" \
                    "-semihosting-config enable=on,target=native -kernel $2" ;;
    rv32imc) echo "qemu-system-riscv32 -M virt -cpu rv32 -m 64M -bios none -nographic -monitor none" \
                  "-serial none -semihosting-config enable=on,target=native -kernel $2" ;;
    lx106) echo "qemu-system-xtensa -M sim -cpu lx106 -nographic -monitor none -semihosting -kernel $2" ;;
    *) return 1 ;;
  esac
}

status=0
for spec in "$@"; do
  IFS=: read -r cpu elf label <<<"$spec"
  label=${label:-$(basename "$elf" .elf)}
  if ! cmd=$(qemu_cmd "$cpu" "$elf"); then
    echo "emu-test $cpu: unknown CPU"; status=1; continue
  fi
  machine=$(cut -d' ' -f1-3 <<<"$cmd")
  log="${elf%.elf}.log"
  t0=$(date +%s.%N)
  # shellcheck disable=SC2086  # cmd is a word list built above
  timeout "$timeout_s" $cmd </dev/null >"$log" 2>&1
  rc=$?
  t=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  verdict=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | tail -1)
  where="emu-test $cpu ($machine) $label"
  if [ "$rc" = 124 ]; then
    echo "$where: TIMEOUT after ${timeout_s} s (${verdict:-no verdict}; log $log)"; status=1; continue
  fi
  if [ -z "$verdict" ]; then
    echo "$where: FAILED, no verdict line, exit status $rc [${t} s]"; tail -5 "$log" | sed 's/^/  /'
    status=1; continue
  fi
  read -r npass _ nfail _ <<<"${verdict//,/}"
  if [ "$rc" != 0 ] || [ "$nfail" != 0 ] || [ "$npass" = 0 ]; then
    echo "$where: FAILED: $verdict, exit status $rc [${t} s]"
    grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$log" | head -20 | sed 's/^/  /'
    status=1; continue
  fi
  echo "$where: $verdict [${t} s]"
done
exit $status
