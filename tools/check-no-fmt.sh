#!/usr/bin/env bash
# Usage: tools/check-no-fmt.sh <libwebsocket.a>
# Fails if the library's own code (the LTO object that holds ws_connect) pulls
# in core::fmt. Objects of compiler_builtins are ignored as long as they never
# reference core::fmt either. Panic entry points that remain are reported.
set -euo pipefail
lib=${1:?usage: $0 <archive>}
[ -f "$lib" ] || { echo "check-no-fmt: $lib not found" >&2; exit 2; }
NM=nm
for c in llvm-nm "$(ls "$(rustc --print sysroot 2>/dev/null)"/lib/rustlib/*/bin/llvm-nm 2>/dev/null | head -1)"; do
  if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1; then NM=$c; break; fi
done
# All symbols, demangled, with the member they come from.
syms=$("$NM" -C -A "$lib" 2>/dev/null || true)
[ -n "$syms" ] || { echo "check-no-fmt: $NM could not read $lib" >&2; exit 2; }
fmt=$(grep -E 'core::fmt|core[.]{2}fmt|_ZN4core3fmt' <<<"$syms" | grep -v 'compiler_builtins' || true)
cb_fmt=$(grep 'compiler_builtins' <<<"$syms" | grep -E 'core::fmt' || true)
panics=$(grep -E 'panic_fmt|panic_bounds_check|panic_const|slice_(start|end)_index|core::panicking' <<<"$syms" \
  | grep -v 'compiler_builtins' | sed -E 's/^[^ ]*:[^ ]* //' | sort -u || true)
if [ -n "$panics" ]; then
  echo "check-no-fmt: warning: panic entry points referenced in $lib:"
  sed 's/^/  /' <<<"$panics"
fi
if [ -n "$fmt$cb_fmt" ]; then
  echo "check-no-fmt: FAIL: core::fmt symbols in $lib:"
  { echo "$fmt"; echo "$cb_fmt"; } | grep -v '^$' | head -40 | sed 's/^/  /'
  exit 1
fi
echo "check-no-fmt: OK: no core::fmt in $lib"
