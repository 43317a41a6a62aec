#!/usr/bin/env bash
# tests/layout/run.sh [BUILD_DIR] -- `make layout-test`: the C header and the
# Rust library agree on the memory layout of the C API, on every target.
#
#  1. C pins: tests/layout/layout_check.c (_Static_assert on sizeof, _Alignof,
#     offsetof, and _Generic on the type of every field, callback typedef and
#     function) compiled against include/websocketclient.h by every C compiler
#     of the project: host gcc (LP64), gcc -m32 (i686), arm-none-eabi-gcc
#     (Cortex-M4), riscv64-unknown-elf-gcc -march=rv32imc, xtensa-lx106-elf-gcc
#     (the ESP8266).
#  2. Rust against the header: the tests/layout crate (bindgen in its build.rs,
#     see there) is checked with `cargo check --target T` for x86_64, i686 and
#     thumbv7em; it compiles only if every struct, field, typedef and function
#     of the header matches the library's definition for T.
#  3. Self-test: mutants that must make 1. and 2. fail, each with its own
#     expected message: header mutants (two fields swapped, a field type
#     changed, a callback parameter changed, a field added, a function
#     parameter changed) for both checks, and library mutants (two Rust fields
#     swapped, a Rust callback type changed, the status type losing
#     #[repr(transparent)], ws_info losing #[repr(C)]; the committed header
#     kept) for 2.
#     A mutant that passes, or fails for another reason, fails the test.
# Nothing outside BUILD_DIR/layout is written (the library's build script
# writes its header to BUILD_DIR/layout/websocketclient.gen.h, not include/).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(mkdir -p "${1:-$root/build}" && cd "${1:-$root/build}" && pwd)/layout
cargo=${CARGO:-cargo}
mkdir -p "$build"
cd "$root"

header=include/websocketclient.h
targets=(x86_64-unknown-linux-gnu i686-unknown-linux-gnu thumbv7em-none-eabi)
ccs=(
  "gcc"
  "gcc -m32"
  "arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb"
  "riscv64-unknown-elf-gcc --specs=picolibc.specs -march=rv32imc -mabi=ilp32 -ffreestanding"
  "xtensa-lx106-elf-gcc -mlongcalls"
)
fail() { echo "layout-test: FAIL: $*"; exit 1; }

# c_check INCLUDE_DIR CC... : compile layout_check.c, diagnostics to stdout.
c_check() {
  local inc=$1; shift
  "$@" -std=c11 -Wall -Wextra -Werror -pedantic -I"$inc" -c tests/layout/layout_check.c \
    -o "$build/layout_check.o" 2>&1
}

# rust_check TARGET [ENV=VALUE...] : cargo check of the layout crate. On
# failure, also names each failing check (rustc may quote a long generated
# line only in part): "failing check: <start of the generated line>".
rust_check() {
  local t=$1 st=0 out; shift
  out=$(env WS_HEADER_OUT="$build/websocketclient.gen.h" CARGO_TARGET_DIR="$build/target" "$@" \
    "$cargo" check -q --color never --manifest-path "${LAYOUT_MANIFEST:-tests/layout/Cargo.toml}" \
    --target "$t" 2>&1) || st=$?
  printf '%s\n' "$out"
  if [ "$st" != 0 ]; then
    sed -n 's/^ *--> \(.*layout_checks\.rs\):\([0-9]*\):.*/\1 \2/p' <<<"$out" | sort -u |
      while read -r file line; do
        echo "failing check: $(sed -n "${line}p" "$file" | cut -c1-100)"
      done
  fi
  return "$st"
}

echo "== layout: C pins of $header"
for cc in "${ccs[@]}"; do
  out=$(c_check include $cc) || { echo "$out"; fail "$cc: layout_check.c"; }
  echo "layout C ($cc): OK"
done

echo "== layout: bindgen header vs Rust definitions"
for t in "${targets[@]}"; do
  sum="$build/summary-$t.txt"
  rm -f "$sum"
  out=$(rust_check "$t" LAYOUT_SUMMARY="$sum") || { echo "$out"; fail "$t: header and Rust disagree"; }
  [ -s "$sum" ] || fail "$t: the build script wrote no summary"
  grep -E ': (struct|checked) ' "$sum" | sed 's/^/layout /'
done

echo "== layout: self-test (every mutant must be caught)"
mut="$build/mutants"
rm -rf "$mut" && mkdir -p "$mut"
n_caught=0

# expect_fail WHAT EXPECTED LOG COMMAND...: COMMAND must fail, and its output
# (kept in LOG) must contain EXPECTED.
expect_fail() {
  local what=$1 want=$2 log=$3 st=0
  shift 3
  "$@" > "$log" 2>&1 || st=$?
  [ "$st" != 0 ] || fail "mutant '$what' was not caught"
  grep -qF -- "$want" "$log" || { cat "$log"; fail "mutant '$what' failed without '$want'"; }
  echo "layout self-test: $what: caught ($want)"
  n_caught=$((n_caught + 1))
}

# mutate NAME FILE OUT SUBST: OUT is FILE after the perl substitution SUBST;
# a substitution that changes nothing means run.sh is out of date.
mutate() {
  perl -0pe "$4" "$2" > "$3"
  if cmp -s "$2" "$3"; then fail "mutant '$1' does not apply to $2 (update run.sh)"; fi
}

# Mutants, one per line:
#   header|NAME|perl substitution on the header|C message|Rust message
#     (both checks run on the mutated copy of the header; the Rust one for
#     thumbv7em)
#   library|NAME|regex finding the file under src/|perl substitution|Rust message
#     (a copy of the crate with one Rust definition changed, checked for
#     x86_64 against the committed header, the copy's build script writing
#     its header elsewhere: as when a struct changes in src/ without the
#     header being regenerated, or when a callback alias no longer matches
#     cbindgen.toml's hand-written typedef)
mutants=(
  "header|swap ws_options fields|s/ ping_interval_ms;/ TMP;/; s/ pong_timeout_ms;/ ping_interval_ms;/; s/ TMP;/ pong_timeout_ms;/|offsetof(ws_options, ping_interval_ms) changed|ws_options.ping_interval_ms: offset differs"
  "header|int connectionState -> unsigned|s/  int connectionState;/  unsigned connectionState;/|ws_info.connectionState is no longer int|fn ws_info__connectionState"
  "header|callback parameter int -> unsigned|s/\*ws_onFailureCallback\)\(struct ws_info \*ws, int errorCode/*ws_onFailureCallback)(struct ws_info *ws, unsigned errorCode/|ws_onFailureCallback changed|fn typedef__ws_onFailureCallback"
  "header|field added to ws_info|s/(  void \*engine;\n)/\$1  int extra;\n/|sizeof(ws_info) changed|does not have a field named \`extra\`"
  "header|function parameter changed|s/void ws_connect\(struct ws_info \*ws, const char \*url\);/void ws_connect(struct ws_info *ws, char *url);/|ws_connect changed its signature|= ws_connect "
  "library|Rust fields swapped|pub struct ws_options|s/(pub )ping_interval_ms(: u32,.*?pub )pong_timeout_ms(: u32,)/\$1pong_timeout_ms\$2ping_interval_ms\$3/s|ws_options.ping_interval_ms: offset differs"
  "library|Rust callback alias changed|pub type ws_onReceiveCallback|s/(ws_onReceiveCallback\s*=\s*Option<\s*unsafe extern \"C\" fn\([^)]*message: \*)mut/\${1}const/s|fn typedef__ws_onReceiveCallback"
  "library|Rust status type no longer repr(transparent)|pub struct Status\b|s/#\[repr\(transparent\)\]\n((?:#\[[^\n]*\]\n)*pub struct Status\b)/\$1/|fn typedef__ws_status"
  "library|ws_info without #[repr(C)]|pub struct ws_info\b|s/#\[repr\(C\)\]\n((?:#\[[^\n]*\]\n)*pub struct ws_info\b)/\$1/|ws_info.connectionState: offset differs"
)
i=0
for m in "${mutants[@]}"; do
  IFS='|' read -r kind name a b c <<<"$m"
  i=$((i + 1))
  d="$mut/m$i"
  mkdir -p "$d/tests"
  case $kind in
    header)
      mutate "$name" "$header" "$d/websocketclient.h" "$a"
      expect_fail "header: $name (C pins)" "$b" "$d/c.log" c_check "$d" gcc -m32
      expect_fail "header: $name (bindgen, thumbv7em)" "$c" "$d/rust.log" \
        rust_check thumbv7em-none-eabi LAYOUT_HEADER="$d/websocketclient.h" ;;
    library)
      cp -R Cargo.toml Cargo.lock build.rs cbindgen.toml src include "$d/"
      cp -R tests/layout "$d/tests/"
      f=$(grep -rlE "$a" src | head -n1)
      [ -n "$f" ] || fail "mutant '$name': no file under src/ matches '$a' (update run.sh)"
      mutate "$name" "$f" "$d/$f" "$b"
      LAYOUT_MANIFEST="$d/tests/layout/Cargo.toml" expect_fail "library: $name (bindgen, x86_64)" \
        "$c" "$d/rust.log" rust_check x86_64-unknown-linux-gnu LAYOUT_HEADER="$root/$header" ;;
  esac
done

echo "layout-test: passed (${#ccs[@]} C compilers, ${#targets[@]} Rust targets, $n_caught mutants caught)"
