#!/usr/bin/env bash
# Usage: tools/xtensa/layout-check.sh <proxy datalayout> <xtensa datalayout>
# rustc laid out every Rust type for the proxy target; the retargeted IR is
# only right if LLVM gives every scalar type the same size and ABI alignment
# under the Xtensa layout. LLVM itself is asked (opt folds size/offset
# probes under each layout); both must also be little-endian.
set -euo pipefail
OPT=${OPT:-opt-22}
playout=$1 xlayout=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
probe() { # <datalayout> -> "size_T=N align_T=N ..."
  { echo "target datalayout = \"$1\""
    for t in i1 i8 i16 i32 i64 i128 ptr float double; do
      echo "define i32 @size_$t() { ret i32 ptrtoint (ptr getelementptr ($t, ptr null, i32 1) to i32) }"
      echo "define i32 @align_$t() { ret i32 ptrtoint (ptr getelementptr ({i8, $t}, ptr null, i32 0, i32 1) to i32) }"
    done; } > "$tmp/probe.ll"
  "$OPT" -passes=instcombine -S "$tmp/probe.ll" -o - |
    awk '/^define/ { sub(/.*@/, ""); sub(/\(.*/, ""); n = $0 } /ret i32/ { print n "=" $3 }' | tr '\n' ' '
}
pl=$(probe "$playout"); xl=$(probe "$xlayout")
[ "$(wc -w <<<"$pl")" = 18 ] && [ "$(wc -w <<<"$xl")" = 18 ] ||
  { echo "layout-check: FAIL: the probe gave no answer: $pl / $xl" >&2; exit 1; }
if [ "$pl" != "$xl" ]; then
  echo "layout-check: FAIL: the proxy's type layout differs from xtensa's:" >&2
  echo "  proxy  ($playout): $pl" >&2
  echo "  xtensa ($xlayout): $xl" >&2
  exit 1
fi
grep -q '^e-' <<<"$playout" && grep -q '^e-' <<<"$xlayout" ||
  { echo "layout-check: FAIL: not both little-endian ($playout / $xlayout)" >&2; exit 1; }
echo "layout-check: same size and ABI alignment for i1..i128, ptr, float, double"
