#!/usr/bin/env bash
# Usage: tools/xtensa/build.sh <out/libwebsocket.a>
# Builds the library for the ESP8266's Xtensa LX106 core from registry
# packages only (stable rustc + Debian llvm-22 + binutils-xtensa-lx106):
#   1. whole-program (post-LTO) LLVM IR for a 32-bit little-endian proxy
#      target without atomics (riscv32imc-unknown-none-elf);
#   2. retarget the IR text to xtensa (tools/xtensa/retarget.py);
#   3. opt --strip-debug, llc -mtriple=xtensa -mcpu=esp8266 to assembly
#      (function/data sections, no jump tables);
#   4. each literal pool moved into its function's section
#      (tools/xtensa/place-literals.py), calls through a literal made
#      direct call0 where provably equivalent (tools/xtensa/direct-calls.py),
#      GNU as (--text-section-literals --longcalls), ar.
# It refuses (exit 1 with a message) whenever the route could produce a
# wrong archive: see docs/xtensa.md. Intermediate files stay next to the
# archive (proxy.ll, xtensa.ll, llc.s, placed.s, websocket.s, websocket.o,
# undefined.txt).
# Overridable: CARGO, RUSTC, LLC, OPT, XTENSA_PREFIX, PROXY_TARGET, PROXY_TRIPLE.
set -euo pipefail
out=${1:?usage: $0 <out/libwebsocket.a>}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
CARGO=${CARGO:-cargo}
LLC=${LLC:-llc-22}
OPT=${OPT:-opt-22}
XP=${XTENSA_PREFIX:-xtensa-lx106-elf-}
PROXY_TARGET=${PROXY_TARGET:-riscv32imc-unknown-none-elf}
PROXY_TRIPLE=${PROXY_TRIPLE:-riscv32}   # the LLVM triple rustc writes for it
die() { echo "xtensa-build: FAIL: $*" >&2; exit 1; }

for t in "$LLC" "$OPT" "${XP}as" "${XP}ar" "${XP}nm" "${XP}readelf" python3 flock; do
  command -v "$t" >/dev/null || die "$t not found (make deps installs llvm-22 and binutils-xtensa-lx106)"
done

# 1. One LLVM major for rustc's IR and the Debian tools that read it. IR
#    text from another major may not parse, or (worse) parse with other
#    meaning; refuse rather than guess.
major() { sed -n 's/.*LLVM version:\{0,1\} \([0-9][0-9]*\)\..*/\1/p' | head -1; }
# The rustc cargo will run: the one of this directory (rustup honours a
# toolchain file or RUSTUP_TOOLCHAIN here), or $RUSTC.
RUSTC=${RUSTC:-rustc}
rustc_vv=$(cd "$root" && "$RUSTC" -vV) || die "$RUSTC -vV failed"
rustc_llvm=$(major <<<"$rustc_vv")
llc_llvm=$("$LLC" --version | major)
opt_llvm=$("$OPT" --version | major)
[ -n "$rustc_llvm" ] && [ -n "$llc_llvm" ] && [ -n "$opt_llvm" ] ||
  die "cannot read the LLVM versions (rustc: '$rustc_llvm', $LLC: '$llc_llvm', $OPT: '$opt_llvm')"
[ "$rustc_llvm" = "$llc_llvm" ] && [ "$rustc_llvm" = "$opt_llvm" ] ||
  die "rustc is built on LLVM $rustc_llvm but $LLC/$OPT are LLVM $llc_llvm/$opt_llvm;" \
      "this route needs the same major (e.g. LLC=llc-$rustc_llvm OPT=opt-$rustc_llvm), or use" \
      "the espup route: make cross XTENSA_TARGET=xtensa-esp8266-none-elf XTENSA_TOOLCHAIN=esp"
cpus=$("$LLC" -mtriple=xtensa -mcpu=help </dev/null 2>&1 || true)
grep -qw esp8266 <<<"$cpus" ||
  die "$LLC has no xtensa target with the esp8266 CPU"

work=$(cd "$(dirname "$out")" 2>/dev/null && pwd || { mkdir -p "$(dirname "$out")" && cd "$(dirname "$out")" && pwd; })
mkdir -p "$work"
# One build at a time per work dir (other make runs may want the archive at
# the same moment); the archive itself is replaced atomically at the end.
exec 9> "$work/.lock"
flock 9

# 2. The post-LTO module of the crate and core for the proxy target (its own
#    cargo target dir: the extra --emit must not flip the fingerprint of the
#    ordinary riscv32 build that `make cross`/`make size` share).
installed=$(rustup target list --installed 2>/dev/null || true)
grep -qx "$PROXY_TARGET" <<<"$installed" ||
  die "rustup target $PROXY_TARGET is not installed (make deps)"
# When cargo finds the crate fresh it does not run rustc, and the proxy.ll of
# the last run (same sources, same target dir) stands; if that file is gone,
# the crate's own artifacts are cleaned so that rustc runs again.
cargo_proxy() { # <subcommand> [args...]: the proxy target's release build in its own dir
  local sub=$1; shift
  (cd "$root" && CARGO_TARGET_DIR="$work/target" "$CARGO" "$sub" -q --release --target "$PROXY_TARGET" "$@")
}
cargo_proxy rustc --lib --crate-type staticlib -- --emit="llvm-ir=$work/proxy.ll,link"
if [ ! -s "$work/proxy.ll" ]; then
  cargo_proxy clean -p websocket
  cargo_proxy rustc --lib --crate-type staticlib -- --emit="llvm-ir=$work/proxy.ll,link"
fi
[ -s "$work/proxy.ll" ] || die "rustc wrote no IR to $work/proxy.ll"
# The IR names the rustc that wrote it: it must be the one checked above.
want="rustc version $(sed -n 's/^rustc //p' <<<"$rustc_vv" | head -1)"
grep -qF "!{!\"$want\"}" "$work/proxy.ll" ||
  die "$work/proxy.ll was not written by the rustc checked above ($want):" \
      "$(grep -m1 -o '!{!"rustc version[^"]*"}' "$work/proxy.ll" || echo 'no rustc ident')"

# 3. Xtensa's data layout, from LLVM itself (an empty module gets the
#    target's default), then check that every type the front end laid out
#    for the proxy has the same size and ABI alignment under it.
: > "$work/empty.ll"
xlayout=$("$OPT" -mtriple=xtensa -S "$work/empty.ll" -o - | sed -n 's/^target datalayout = "\(.*\)"$/\1/p')
[ -n "$xlayout" ] || die "$OPT printed no xtensa datalayout"
playout=$(sed -n 's/^target datalayout = "\(.*\)"$/\1/p' "$work/proxy.ll")
OPT="$OPT" "$here/layout-check.sh" "$playout" "$xlayout" || die "data layouts (see above)"

python3 "$here/retarget.py" "$work/proxy.ll" "$work/retargeted.ll" "$xlayout" "$PROXY_TRIPLE" ||
  die "retargeting refused (see above)"
"$OPT" --strip-debug -S "$work/retargeted.ll" -o "$work/xtensa.ll"

# 4. Code generation. GNU as, not llc's object writer (it mis-aligns L32R
#    literal fixups); no jump tables (their .rodata would follow the L32R
#    literal it needs); --longcalls as the firmware's -mlongcalls (flash
#    code at 0x402xxxxx calls ROM and IRAM beyond CALL0's +-512 KiB).
"$LLC" -mtriple=xtensa -mcpu=esp8266 -O2 --function-sections --data-sections -enable-ipra=false \
  --min-jump-table-entries=1000000 -filetype=asm "$work/xtensa.ll" -o "$work/llc.s"
if grep -qE '^\.?LJTI|jump table' "$work/llc.s"; then
  die "llc emitted a jump table (see $work/llc.s)"
fi
python3 "$here/place-literals.py" "$work/llc.s" "$work/placed.s" ||
  die "literal placement (see above)"
python3 "$here/direct-calls.py" "$work/placed.s" "$work/websocket.s"
python3 "$here/place-literals.py" --check-only "$work/websocket.s" > /dev/null ||
  die "literal placement after direct-calls.py (see above)"
"${XP}as" --text-section-literals --longcalls "$work/websocket.s" -o "$work/websocket.o"
# The same, on the object: no L32R/branch relocation of a code section
# points into another code section (each function is its own GC root).
cross=$("${XP}readelf" -rW "$work/websocket.o" | awk '
  /^Relocation section/ { s = $3; gsub(/\047/, "", s); sub(/^\.rela/, "", s) }
  $3 == "R_XTENSA_SLOT0_OP" && s ~ /^\.text/ && $5 ~ /^\.text/ && $5 != s { print s " -> " $5 }')
[ -z "$cross" ] || die "code refers to literals/labels of other sections: $(head -3 <<<"$cross")"
rm -f "$work/libwebsocket.a.tmp"
"${XP}ar" rcD "$work/libwebsocket.a.tmp" "$work/websocket.o"

# 5. What the archive is: ELF machine 94 (EM_XTENSA) for every member, and
#    no undefined symbol outside tools/xtensa/allowed-undefined.txt.
mach=$(od -An -tu2 -j18 -N2 "$work/websocket.o" | tr -d ' ')
[ "$mach" = 94 ] || die "websocket.o has ELF machine $mach, not 94 (Xtensa)"
"${XP}nm" -u "$work/libwebsocket.a.tmp" | awk 'NF == 2 && $1 == "U" { print $2 }' | sort -u > "$work/undefined.txt"
grep -v '^#' "$here/allowed-undefined.txt" | grep -v '^$' | sort -u > "$work/allowed.txt"
extra=$(comm -23 "$work/undefined.txt" "$work/allowed.txt")
echo "xtensa-build: undefined symbols: $(tr '\n' ' ' < "$work/undefined.txt")"
[ -z "$extra" ] || die "undefined symbols outside tools/xtensa/allowed-undefined.txt: $(tr '\n' ' ' <<<"$extra")" \
  "(atomics need __atomic_*, floats need soft-float helpers: neither is expected in this library)"
defined=$("${XP}nm" --defined-only "$work/websocket.o")
grep -q ' T ws_connect$' <<<"$defined" || die "ws_connect is not defined"
mv "$work/libwebsocket.a.tmp" "$out"
echo "xtensa-build: $out (LLVM $rustc_llvm, proxy $PROXY_TARGET, ELF machine 94)"
