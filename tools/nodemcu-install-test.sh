#!/usr/bin/env bash
# Test of tools/nodemcu-install.sh (make nodemcu-install-test, part of make test).
#
#   tools/nodemcu-install-test.sh BUILD_DIR HOST_ARCHIVE [NODEMCU_TREE]
#
# On copies of nodemcu-glue/firmware/test-fixture (the layout of NodeMCU's
# release branch: websocket built through OPT_MKTARGETS) and of two older
# layouts derived from it (websocket listed literally; websocket absent):
#   - every installed file, the forwarder header and the module switch;
#   - app/Makefile is left byte-for-byte alone whenever the tree already
#     builds websocket, and the evaluated SUBDIRS / image components then name
#     websocket exactly once with the switch on and not at all with
#     --no-enable; a tree without websocket gets the marked block, once;
#   - a second run changes nothing and says "up to date";
#   - the ELF machine check: the host archive is refused (tree untouched)
#     unless --force, an Xtensa archive is accepted;
#   - the installed app/websocket/Makefile builds the merged archive (host
#     gcc, fake SDK headers) holding both the port and the Rust core.
# With NODEMCU_TREE (a real nodemcu-firmware checkout, never modified) the
# same install, switch, Makefile and idempotence checks run on a copy of it.
set -euo pipefail

build=${1:?build dir}; host_archive=${2:?host archive}; nodemcu=${3:-}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
fixture=nodemcu-glue/firmware/test-fixture
install=tools/nodemcu-install.sh
t="$build/nodemcu-install-test"
rm -rf "$t"; mkdir -p "$t"
checks=0

fail() { echo "nodemcu-install-test: FAIL: $*"; exit 1; }
ok() { checks=$((checks + 1)); }
snap() { (cd "$1" && find . -type f ! -path '*/.output/*' -print0 | sort -z | xargs -0 sha256sum); }

# mkvars TREE [make args...]: SUBDIRS and the image components as app/Makefile
# evaluates them (the firmware's own make, nothing built).
mkvars() {
  local tree=$1; shift
  make --no-print-directory -s -C "$tree/app" "$@" \
    --eval 'nodemcu-install-test-vars: ; @echo "SUBDIRS: $(SUBDIRS)"; echo "COMPONENTS: $(COMPONENTS_eagle.app.v6)"' \
    nodemcu-install-test-vars 2>"$t/mkvars.err" | grep -E '^(SUBDIRS|COMPONENTS): ' \
    || { cat "$t/mkvars.err"; fail "cannot evaluate $tree/app/Makefile"; }
}
# count_ws VARS: "<websocket in SUBDIRS> <websocket/libwebsocket.a in components>"
count_ws() {
  local s c
  s=$(sed -n 's/^SUBDIRS: //p' <<<"$1" | tr -s ' \t' '\n' | grep -cx websocket || true)
  c=$(sed -n 's/^COMPONENTS: //p' <<<"$1" | tr -s ' \t' '\n' | grep -cx 'websocket/libwebsocket\.a' || true)
  echo "$s $c"
}

# An Xtensa (EM_XTENSA = 94) archive for the machine check: one small object
# from the real cross compiler.
xt="$t/xtensa"; mkdir -p "$xt"
echo 'int ws_machine_probe(int x) { return x + 1; }' >"$xt/probe.c"
xtensa-lx106-elf-gcc -c -O2 -mlongcalls "$xt/probe.c" -o "$xt/probe.o"
rm -f "$xt/libwebsocket.a"; xtensa-lx106-elf-ar rcs "$xt/libwebsocket.a" "$xt/probe.o"

# check_installed TREE ARCHIVE: the files the installer owns.
check_installed() {
  local a="$1/app"
  cmp -s include/websocketclient.h "$a/websocket/websocketclient.h" || fail "$1: header"
  cmp -s "$2" "$a/websocket/rust/libwebsocket.a" || fail "$1: archive"
  cmp -s nodemcu-glue/ws_port_espconn.c "$a/websocket/ws_port_espconn.c" || fail "$1: port"
  cmp -s nodemcu-glue/websocket.c "$a/modules/websocket.c" || fail "$1: module"
  cmp -s nodemcu-glue/firmware/app-websocket-Makefile "$a/websocket/Makefile" || fail "$1: app/websocket/Makefile"
  grep -q '^#include "../../websocket/websocketclient.h"' "$a/include/websocket/websocketclient.h" || fail "$1: forwarder"
  ok
}

# check_again TREE ARGS...: a second run with the same arguments changes nothing.
check_again() {
  local tree=$1; shift
  snap "$tree" >"$t/snap.before"
  "$install" "$@" "$tree" >"$t/again.log" 2>&1
  snap "$tree" >"$t/snap.after"
  cmp -s "$t/snap.before" "$t/snap.after" || fail "$tree: second run changed files"
  grep -q 'up to date' "$t/again.log" || fail "$tree: second run reported changes: $(cat "$t/again.log")"
  ok
}

# --- 1. release layout (OPT_MKTARGETS), module switched on -----------------
fw="$t/fw"; cp -R "$fixture" "$fw"
[ "$(count_ws "$(mkvars "$fw")")" = "0 0" ] || fail "fixture builds websocket before the install"
snap "$fw" >"$t/snap.0"
if "$install" --archive "$host_archive" "$fw" >"$t/refused.log" 2>&1; then
  fail "host archive accepted without --force"
fi
grep -q 'not Xtensa (94)' "$t/refused.log" || fail "refusal does not name the machine: $(cat "$t/refused.log")"
snap "$fw" >"$t/snap.1"
cmp -s "$t/snap.0" "$t/snap.1" || fail "a refused install changed the tree"
ok
"$install" --force --archive "$host_archive" "$fw" >"$t/run1.log" 2>&1
check_installed "$fw" "$host_archive"
cmp -s "$fixture/app/Makefile" "$fw/app/Makefile" || fail "release layout: app/Makefile was modified"
grep -q '^#define LUA_USE_MODULES_WEBSOCKET' "$fw/app/include/user_modules.h" || fail "module switch not enabled"
[ "$(count_ws "$(mkvars "$fw")")" = "1 1" ] || fail "release layout, switch on: websocket not built exactly once: $(mkvars "$fw")"
[ "$(count_ws "$(mkvars "$fw" LUA=53)")" = "1 1" ] || fail "release layout, LUA=53: websocket not built exactly once"
ok
check_again "$fw" --force --archive "$host_archive"

# The Xtensa archive is accepted without --force (and replaces the host one).
"$install" --archive "$xt/libwebsocket.a" "$fw" >"$t/xt.log" 2>&1 || fail "Xtensa archive refused: $(cat "$t/xt.log")"
cmp -s "$xt/libwebsocket.a" "$fw/app/websocket/rust/libwebsocket.a" || fail "Xtensa archive not installed"
check_again "$fw" --archive "$xt/libwebsocket.a"

# --- 2. release layout, --no-enable: the switch stays off, nothing forces the module
ne="$t/noenable"; cp -R "$fixture" "$ne"
"$install" --no-enable --archive "$xt/libwebsocket.a" "$ne" >/dev/null
check_installed "$ne" "$xt/libwebsocket.a"
cmp -s "$fixture/app/Makefile" "$ne/app/Makefile" || fail "--no-enable: app/Makefile was modified"
cmp -s "$fixture/app/include/user_modules.h" "$ne/app/include/user_modules.h" || fail "--no-enable: user_modules.h changed"
[ "$(count_ws "$(mkvars "$ne")")" = "0 0" ] || fail "--no-enable: websocket is built although its switch is off"
ok
check_again "$ne" --no-enable --archive "$xt/libwebsocket.a"

# --- 3. older layout: websocket listed literally ----------------------------
lit="$t/literal"; cp -R "$fixture" "$lit"
sed -i -e 's/^\(OPT_MKTARGETS := .*\) websocket$/\1/' \
       -e 's/^\tmodules \t\\$/\tmodules \t\\\n\twebsocket \t\\/' \
       -e 's/^\tmodules\/libmodules\.a\t\\$/\tmodules\/libmodules.a\t\\\n\twebsocket\/libwebsocket.a\t\\/' \
       "$lit/app/Makefile"
grep -q 'OPT_MKTARGETS.*websocket' "$lit/app/Makefile" && fail "literal variant still uses OPT_MKTARGETS"
[ "$(count_ws "$(mkvars "$lit")")" = "1 1" ] || fail "literal variant does not list websocket: $(mkvars "$lit")"
cp "$lit/app/Makefile" "$t/literal.Makefile"
"$install" --archive "$xt/libwebsocket.a" "$lit" >/dev/null
cmp -s "$t/literal.Makefile" "$lit/app/Makefile" || fail "literal layout: app/Makefile was modified"
[ "$(count_ws "$(mkvars "$lit")")" = "1 1" ] || fail "literal layout: websocket not built exactly once"
ok
check_again "$lit" --archive "$xt/libwebsocket.a"

# --- 4. a tree that does not build websocket at all: the marked block ------
bare="$t/bare"; cp -R "$fixture" "$bare"
sed -i 's/^\(OPT_MKTARGETS := .*\) websocket$/\1/' "$bare/app/Makefile"
! grep -v "^#" "$bare/app/Makefile" | grep -q websocket || fail "bare variant still mentions websocket"
"$install" --no-enable --archive "$xt/libwebsocket.a" "$bare" >/dev/null
test "$(grep -c '^# >>> libwebsocket' "$bare/app/Makefile")" = 1 || fail "bare layout: block not inserted once"
grep -q '^//#define LUA_USE_MODULES_WEBSOCKET' "$bare/app/include/user_modules.h" || fail "bare layout: --no-enable touched the switch"
[ "$(count_ws "$(mkvars "$bare")")" = "1 1" ] || fail "bare layout: the block does not build websocket once: $(mkvars "$bare")"
ok
check_again "$bare" --no-enable --archive "$xt/libwebsocket.a"
"$install" --archive "$xt/libwebsocket.a" "$bare" >/dev/null   # now with the switch
test "$(grep -c '^# >>> libwebsocket' "$bare/app/Makefile")" = 1 || fail "bare layout: block inserted twice"
[ "$(count_ws "$(mkvars "$bare")")" = "1 1" ] || fail "bare layout, switch on: websocket not built once"
ok

# --- 5. the installed app/websocket/Makefile merges port + core -------------
"$install" --force --archive "$host_archive" "$fw" >/dev/null 2>&1
make --no-print-directory -s -C "$fw/app/websocket" FIXTURE_CFLAGS="-I$here/nodemcu-glue/host/sdk" \
  >"$t/build.log" 2>&1 || { cat "$t/build.log"; fail "app/websocket build"; }
lib="$fw/app/websocket/.output/eagle/debug/lib/libwebsocket.a"
nm "$lib" >"$t/nm.txt" 2>/dev/null || fail "nm on the merged archive"
grep -q ' T ws_port_resolve$' "$t/nm.txt" || fail "merged archive lacks the port"
grep -q ' T ws_connect$' "$t/nm.txt" || fail "merged archive lacks the core"
ok

# --- 6. a copy of the real tree ---------------------------------------------
real="not run (no NODEMCU tree given)"
if [ -n "$nodemcu" ]; then
  [ -f "$nodemcu/app/Makefile" ] || fail "NODEMCU=$nodemcu is not a nodemcu-firmware tree"
  rt="$t/real"; mkdir -p "$rt"
  # Only what the installer and app/Makefile's evaluation read; the copy is writable.
  cp -R "$nodemcu/Makefile" "$nodemcu/app" "$rt/"; chmod -R u+w "$rt"
  cp "$rt/app/Makefile" "$t/real.Makefile"; cp "$rt/app/include/user_modules.h" "$t/real.user_modules.h"
  rvars=(TOOLCHAIN_ROOT=/usr)   # no toolchain download is attempted by the evaluation
  before=$(count_ws "$(mkvars "$rt" "${rvars[@]}")")
  grep -qE '^[[:space:]]*#define[[:space:]]+LUA_USE_MODULES_WEBSOCKET' "$t/real.user_modules.h" \
    && want_before="1 1" || want_before="0 0"
  [ "$before" = "$want_before" ] || fail "real tree: websocket count before install is $before, expected $want_before"
  cp -R "$rt" "$t/real-noenable"
  "$install" --archive "$xt/libwebsocket.a" "$rt" >"$t/real.log"
  check_installed "$rt" "$xt/libwebsocket.a"
  cmp -s "$t/real.Makefile" "$rt/app/Makefile" || fail "real tree: app/Makefile was modified"
  grep -qE '^[[:space:]]*#define[[:space:]]+LUA_USE_MODULES_WEBSOCKET' "$rt/app/include/user_modules.h" \
    || fail "real tree: module switch not enabled"
  [ "$(count_ws "$(mkvars "$rt" "${rvars[@]}")")" = "1 1" ] || fail "real tree: websocket not built exactly once"
  [ "$(count_ws "$(mkvars "$rt" "${rvars[@]}" LUA=53)")" = "1 1" ] || fail "real tree, LUA=53: websocket not built exactly once"
  ok
  check_again "$rt" --archive "$xt/libwebsocket.a"
  "$install" --no-enable --archive "$xt/libwebsocket.a" "$t/real-noenable" >/dev/null
  cmp -s "$t/real.Makefile" "$t/real-noenable/app/Makefile" || fail "real tree, --no-enable: app/Makefile was modified"
  cmp -s "$t/real.user_modules.h" "$t/real-noenable/app/include/user_modules.h" || fail "real tree, --no-enable: user_modules.h changed"
  [ "$(count_ws "$(mkvars "$t/real-noenable" "${rvars[@]}")")" = "$want_before" ] \
    || fail "real tree, --no-enable: the install changed whether websocket is built"
  ok
  real="passed on a copy of $nodemcu"
fi

echo "nodemcu-install-test: $checks checks passed (fixture: release/literal/bare layouts, machine check, idempotence, merged archive; real tree: $real)"
