#!/usr/bin/env bash
# Usage: tools/check-no-fmt.sh <libwebsocket.a>
# Fails if any member of the archive other than compiler_builtins' defines or
# references a core::fmt symbol. Panic entry points that remain (bounds and
# length checks the optimiser could not remove) are listed as warnings; with
# the library's own panic handler they never format anything.
#
# Symbols are read with readelf (GNU nm cannot read some rustc objects and an
# older llvm-nm trips over their embedded bitcode). Mangled names are matched:
# both Rust manglings spell the path segments as "4core3fmt".
set -euo pipefail
lib=${1:?usage: $0 <archive>}
[ -f "$lib" ] || { echo "check-no-fmt: $lib not found" >&2; exit 2; }
lib=$(realpath "$lib")
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && ar x "$lib")
demangle() { if command -v c++filt >/dev/null; then c++filt; else cat; fi; }
fmt="" panics="" nobj=0
for o in "$tmp"/*.o; do
  syms=$(readelf -sW "$o" 2>/dev/null | awk 'NF >= 8 && $8 !~ /^[.]/ { print $8 }') || {
    echo "check-no-fmt: readelf cannot read $(basename "$o")" >&2; exit 2; }
  case "$(basename "$o")" in
    compiler_builtins*|[0-9a-f]*-*.o)
      # C parts of compiler-rt / compiler_builtins: only fail on fmt use.
      if grep -q '4core3fmt' <<<"$syms"; then
        fmt+="$(basename "$o"): $(grep '4core3fmt' <<<"$syms" | head -3 | demangle || true)"$'\n'
      fi
      continue ;;
  esac
  nobj=$((nobj + 1))
  fmt+=$(grep '4core3fmt' <<<"$syms" | demangle | sed "s|^|$(basename "$o"): |" || true)
  panics+=$(grep -E 'panic_fmt|panic_bounds_check|panic_const|slice_index_fail|len_mismatch_fail|4core9panicking' <<<"$syms" | demangle || true)$'\n'
done
[ "$nobj" -gt 0 ] || { echo "check-no-fmt: no library object in $lib" >&2; exit 2; }
panics=$(grep -v '^$' <<<"$panics" | sort -u || true)
if [ -n "$panics" ]; then
  echo "check-no-fmt: warning: panic entry points left in $lib:"
  sed 's/^/  /' <<<"$panics"
fi
if [ -n "$(tr -d '\n' <<<"$fmt")" ]; then
  echo "check-no-fmt: FAIL: core::fmt symbols in $lib:"
  { grep -v '^$' <<<"$fmt" | head -20 | sed 's/^/  /'; } || true
  exit 1
fi
echo "check-no-fmt: OK: no core::fmt in $lib"
