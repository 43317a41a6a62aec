#!/usr/bin/env bash
# Usage: tools/xtensa/refusal-test.sh <work dir of tools/xtensa/build.sh>
# The LX106 build must refuse, with its message, each way the route could
# give a wrong archive. Fed deliberately broken inputs (a tool of another
# LLVM major, IR with atomics / a proxy intrinsic / inline asm / an
# exported fastcc function, llc's misplaced literal pools, a proxy data
# layout that differs, an undefined
# symbol outside the list, IR that breaks the C boundary), each
# step must fail; the untouched inputs must pass.
set -euo pipefail
work=${1:?usage: $0 <work dir>}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fails=0
expect_refusal() { # <name> <pattern in the output> <command...>
  local name=$1 pat=$2; shift 2
  if "$@" > "$tmp/out" 2>&1; then
    echo "xtensa-refusal: FAIL: $name was accepted"; fails=$((fails + 1))
  elif ! grep -qE "$pat" "$tmp/out"; then
    echo "xtensa-refusal: FAIL: $name failed without the expected message /$pat/:"
    sed 's/^/  /' "$tmp/out" | head -5; fails=$((fails + 1))
  else
    echo "xtensa-refusal: ok: $name refused: $(grep -m1 -E "$pat" "$tmp/out" | sed 's/^ *//' | cut -c1-110)"
  fi
}
# 1. An llc/opt of another LLVM major than rustc's (a wrapper that reports
#    version 21, standing for a Debian llvm that no longer matches rustc).
for t in llc opt; do
  printf '#!/bin/sh\nif [ "$1" = --version ]; then echo "  LLVM version 21.1.0"; exit 0; fi\nexec %s-22 "$@"\n' "$t" > "$tmp/$t-21"
  chmod +x "$tmp/$t-21"
done
expect_refusal "an llc of LLVM 21" "rustc is built on LLVM [0-9]+ but" \
  env LLC="$tmp/llc-21" OPT="$tmp/opt-21" "$here/build.sh" "$tmp/never/libwebsocket.a"
[ ! -e "$tmp/never/libwebsocket.a" ] || { echo "xtensa-refusal: FAIL: an archive was written"; fails=$((fails + 1)); }
# 2. IR the retargeting does not carry over.
layout=$(sed -n 's/^target datalayout = "\(.*\)"$/\1/p' "$work/xtensa.ll")
retarget() { python3 "$here/retarget.py" "$1" "$tmp/out.ll" "$layout" riscv32; }
python3 "$here/retarget.py" "$work/proxy.ll" "$tmp/ok.ll" "$layout" riscv32 > /dev/null ||
  { echo "xtensa-refusal: FAIL: the unmodified proxy IR is refused"; fails=$((fails + 1)); }
mutate() { # <name> <line to add to the first function body of ws_event_timer>
  awk -v add="$2" '{ print } /^define .*@ws_event_timer\(/ { getline; print; print "  " add }' \
    "$work/proxy.ll" > "$tmp/$1.ll"
  grep -qF "$2" "$tmp/$1.ll" || { echo "xtensa-refusal: FAIL: could not mutate for $1"; fails=$((fails + 1)); }
}
mutate atomic '%mut.a = atomicrmw add ptr %ws, i32 1 seq_cst, align 4'
expect_refusal "an atomicrmw" "atomic operation" retarget "$tmp/atomic.ll"
mutate fence 'fence seq_cst'
expect_refusal "a fence" "atomic operation" retarget "$tmp/fence.ll"
mutate asm 'call void asm sideeffect "nop", ""()'
expect_refusal "inline assembly" "inline assembly" retarget "$tmp/asm.ll"
mutate intr '%mut.i = call i32 @llvm.riscv.orc.b.i32(i32 0)'
echo 'declare i32 @llvm.riscv.orc.b.i32(i32)' >> "$tmp/intr.ll"
expect_refusal "a riscv intrinsic" "llvm.riscv.orc.b.i32 is not in the list" retarget "$tmp/intr.ll"
sed 's/^define dso_local void @ws_event_timer(/define dso_local fastcc void @ws_event_timer(/' \
  "$work/proxy.ll" > "$tmp/cc.ll"
expect_refusal "an exported fastcc function" "calling convention fastcc" retarget "$tmp/cc.ll"
sed 's/^target triple = .*/target triple = "thumbv7em-none-eabi"/' "$work/proxy.ll" > "$tmp/triple.ll"
expect_refusal "IR of another proxy triple" "is not the expected proxy" retarget "$tmp/triple.ll"
# 3. llc's assembly as it comes (each literal pool before the section switch,
#    so in the previous function's section): the placement check refuses it.
expect_refusal "llc's literal pools left in place" "literals outside the section that loads them" \
  python3 "$here/place-literals.py" --check-only "$work/llc.s"
python3 "$here/place-literals.py" --check-only "$work/websocket.s" > /dev/null ||
  { echo "xtensa-refusal: FAIL: the placed assembly fails the check"; fails=$((fails + 1)); }
# 4. An undefined symbol outside the list (here: __muldi3 taken off it).
grep -vx '__muldi3' "$here/allowed-undefined.txt" > "$tmp/allowed.txt"
expect_refusal "an unlisted undefined symbol" "undefined symbols outside.*__muldi3" \
  python3 "$here/abi_check.py" "$work" "$(cd "$here/../.." && pwd)/include/websocketclient.h" "$tmp/allowed.txt"
# 5. A proxy whose data layout gives a type another alignment (i64 on 4 bytes).
expect_refusal "a proxy layout with 4-byte i64" "type layout differs" \
  "$here/layout-check.sh" "e-m:e-p:32:32-i64:32-n32" "$layout"
"$here/layout-check.sh" "$(sed -n 's/^target datalayout = "\(.*\)"$/\1/p' "$work/proxy.ll")" "$layout" > /dev/null ||
  { echo "xtensa-refusal: FAIL: the real proxy layout is refused"; fails=$((fails + 1)); }
# 6. The ABI check itself, on IR that breaks the C boundary.
hdr="$(cd "$here/../.." && pwd)/include/websocketclient.h"
abi_mutant() { # <name> <sed expression on xtensa.ll>
  mkdir -p "$tmp/$1"
  cp "$work/websocket.o" "$work/libwebsocket.a" "$tmp/$1/"
  sed "$2" "$work/xtensa.ll" > "$tmp/$1/xtensa.ll"
  cmp -s "$work/xtensa.ll" "$tmp/$1/xtensa.ll" && { echo "xtensa-refusal: FAIL: could not mutate for $1"; fails=$((fails + 1)); }
  true
}
abi_mutant noext 's/^\(define dso_local void @ws_send(.*\)i16 noundef zeroext/\1i16 noundef/'
expect_refusal "a uint16_t parameter without zeroext" "ws_send param 3: sub-word i16 without" \
  python3 "$here/abi_check.py" "$tmp/noext" "$hdr" "$here/allowed-undefined.txt"
abi_mutant i64 's/^\(define dso_local noundef i32 @ws_send_long(.*\)i32 noundef %length/\1i64 noundef %length/'
expect_refusal "a size_t parameter as i64" "ws_send_long param 3: type i64" \
  python3 "$here/abi_check.py" "$tmp/i64" "$hdr" "$here/allowed-undefined.txt"
abi_mutant sret 's/^define dso_local void @ws_release(ptr noundef %ws)/define dso_local void @ws_release(ptr sret([8 x i8]) %ws)/'
expect_refusal "an sret parameter" "attribute sret|aggregate" \
  python3 "$here/abi_check.py" "$tmp/sret" "$hdr" "$here/allowed-undefined.txt"
[ "$fails" = 0 ] || { echo "xtensa-refusal: $fails FAILED"; exit 1; }
echo "xtensa-refusal: OK (every broken input refused with its message)"
