#!/usr/bin/env bash
# make firmware-check: our module inside a real nodemcu-firmware tree, built
# by the firmware's own Makefiles and flags with the real ESP8266 compiler.
#
#   tools/firmware/firmware-check.sh NODEMCU_TREE BUILD_DIR XTENSA_ARCHIVE
#
# Environment:
#   NODEMCU_SDK=<dir>   an unpacked ESP8266 NonOS SDK (include/ lib/ ld/) to use
#                       when the tree has none at the place its Makefile expects
#                       (the firmware's make downloads it; this check cannot)
#   FIRMWARE_CHECK_LUA  Lua flavours to build (default "51 53")
#   FIRMWARE_CHECK_REQUIRE_SDK=1  an incomplete tree is an error, not a skip
#
# First the archive alone (core_link below; also runs when the tree lacks the
# SDK). Then per Lua flavour, on a copy of the tree under
# BUILD_DIR/firmware-check (the given tree is never modified):
#   1. the tree's original module (app/websocket/websocketclient.c +
#      app/modules/websocket.c) switched on and the image eagle.app.v6.out
#      linked: `make -C app eagle.app.v6.out` with TOOLCHAIN_ROOT=/usr, LUA=..;
#   2. tools/nodemcu-install.sh with XTENSA_ARCHIVE on the same copy, and the
#      same make again: only what the install changed is rebuilt (the port,
#      the Lua module, the merged app/websocket archive) and the image relinked;
#   3. checks on our image: no diagnostic from a file we install, every ws_*
#      and luaopen_websocket symbol in .irom0.text, nothing of ours in IRAM,
#      our share of .data/.rodata/.bss; no undefined symbol (as the firmware's
#      own bin rule requires);
#   4. the image's sections with the original module and with ours, side by side.
# Workarounds for Debian's GCC 12 + picolibc (the firmware expects its own
# 2019 toolchain with newlib) live here only; see "environment" below.
set -euo pipefail

tree=${1:?nodemcu-firmware tree}; build=${2:?build dir}; archive=${3:?xtensa archive}
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
flavours=${FIRMWARE_CHECK_LUA:-51 53}
t0=$(date +%s)

say() { echo "firmware-check: $*"; }
die() { echo "firmware-check: FAIL: $*"; exit 1; }

[ -f "$tree/app/Makefile" ] && [ -f "$tree/Makefile" ] || die "$tree is not a nodemcu-firmware tree (no Makefile, app/Makefile)"
tree="$(cd "$tree" && pwd)"
[ -f "$archive" ] || die "no Xtensa archive at $archive"
mkdir -p "$build"; build="$(cd "$build" && pwd)"; archive="$(cd "$(dirname "$archive")" && pwd)/$(basename "$archive")"

machine=$(python3 - "$archive" <<'PY'
import sys
d = open(sys.argv[1], "rb").read()
i = d.find(b"\x7fELF")
print(int.from_bytes(d[i + 18:i + 20], "little") if i >= 0 else "none")
PY
)
[ "$machine" = 94 ] || die "$archive is not an Xtensa archive (ELF machine $machine)"

# Where the tree's Makefile expects the SDK (sdk/esp_iot_sdk_v<version>).
sdk_rel=$(make --no-print-directory -s -C "$tree" TOOLCHAIN_ROOT=/usr \
  --eval 'firmware-check-sdk: ; @echo "SDK_REL_DIR=$(SDK_REL_DIR)"' firmware-check-sdk 2>/dev/null \
  | sed -n 's/^SDK_REL_DIR=//p')
[ -n "$sdk_rel" ] || die "cannot read SDK_REL_DIR from $tree/Makefile"
sdk_src="${NODEMCU_SDK:-$tree/$sdk_rel}"

# --- completeness: what the compile and the link need and make cannot fetch here
sdk_missing=()
for f in include/osapi.h include/user_interface.h include/espconn.h include/ets_sys.h \
         ld/eagle.rom.addr.v6.ld lib/libmain.a lib/libphy.a lib/libpp.a lib/libnet80211.a \
         lib/libwpa.a lib/libwpa2.a lib/libcrypto.a lib/libwps.a lib/libsmartconfig.a; do
  [ -f "$sdk_src/$f" ] || sdk_missing+=("$f")
done
missing=()
if [ ${#sdk_missing[@]} -gt 0 ]; then
  missing+=("the NonOS SDK at ${sdk_src#"$tree"/} (${#sdk_missing[@]} of its files, e.g. ${sdk_missing[0]}; the firmware's make downloads it, this check cannot: give an unpacked SDK with NODEMCU_SDK=<dir>)")
fi
[ -f "$tree/app/include/user_config.h" ] || missing+=("app/include/user_config.h (a tracked file of the firmware)")
out="$build/firmware-check"

# core_link: what needs neither the SDK nor a compile: the Xtensa archive
# alone, every exported ws_* kept, linked with the tree's ld/nodemcu.ld and
# the firmware's link options. References outside the archive (the port,
# malloc, the ROM) stay unresolved, so this measures placement and size of the
# library only; the full image check below covers the rest.
core_link() {
  local c="$out/core" lib api
  rm -rf "$c"; mkdir -p "$c/ld" "$c/websocket/.output/eagle/debug/lib"
  cp "$tree/ld/nodemcu.ld" "$c/ld/"
  if [ -f "$sdk_src/ld/eagle.rom.addr.v6.ld" ]; then cp "$sdk_src/ld/eagle.rom.addr.v6.ld" "$c/ld/"
  else : >"$c/ld/eagle.rom.addr.v6.ld"; fi      # nodemcu.ld INCLUDEs it; ROM names stay unresolved
  lib=websocket/.output/eagle/debug/lib/libwebsocket.a
  cp "$archive" "$c/$lib"
  api=$(xtensa-lx106-elf-nm -g --defined-only "$c/$lib" | awk '$2 == "T" && $3 ~ /^ws_/ {print $3}' | sort -u)
  [ -n "$api" ] || die "no ws_* function defined in $archive"
  (cd "$c" && xtensa-lx106-elf-gcc -nostdlib -T ld/nodemcu.ld -L ld -Wl,--gc-sections -Wl,-Map=mapfile \
      -Wl,--no-check-sections -Wl,-static -Wl,--unresolved-symbols=ignore-all -Wl,--entry=0 \
      $(printf -- '-u %s ' $api) "$lib" -o core.out) >"$c/link.log" 2>&1 \
    || { cat "$c/link.log"; die "the archive does not link under $tree/ld/nodemcu.ld"; }
  xtensa-lx106-elf-objdump -t "$c/core.out" >"$c/core.syms"
  say "the Xtensa archive alone under the tree's ld/nodemcu.ld ($(echo $api | wc -w) exported ws_* functions kept, --gc-sections):"
  python3 "$here/tools/firmware/image-report.py" check "$c/mapfile" "$c/core.syms" $api \
    || die "the archive's placement under ld/nodemcu.ld"
}

if [ ${#missing[@]} -gt 0 ]; then
  msg="$tree is incomplete, the firmware cannot be compiled or linked: missing $(printf '%s; ' "${missing[@]}" | sed 's/; $//')"
  [ "${FIRMWARE_CHECK_REQUIRE_SDK:-0}" = 1 ] && die "$msg"
  for tool in xtensa-lx106-elf-gcc xtensa-lx106-elf-nm xtensa-lx106-elf-objdump python3; do
    command -v "$tool" >/dev/null || die "$tool not found (make deps installs it)"
  done
  if [ -f "$tree/ld/nodemcu.ld" ]; then core_link; say "the archive alone: passed"; fi
  say "SKIPPED the full firmware build: $msg"
  exit 0
fi

for tool in xtensa-lx106-elf-gcc xtensa-lx106-elf-ar xtensa-lx106-elf-nm xtensa-lx106-elf-objdump xtensa-lx106-elf-size python3; do
  command -v "$tool" >/dev/null || die "$tool not found (make deps installs it)"
done

rm -rf "$out"; mkdir -p "$out/env/lib"
env_dir="$out/env"

# --- environment (Debian GCC 12 + picolibc instead of the firmware's toolchain)
# E1 picolibc's <stdio.h> defines BUFSIZ, which sdk-overrides/include/stdio.h
#    defines again after its #include_next: a forced include reads picolibc's
#    stdio.h first and drops its BUFSIZ, the override then defines its own.
#    picolibc also declares ssize_t only in <sys/types.h> (newlib: via stdio.h).
libc_stdio=$(echo '#include <stdio.h>' | xtensa-lx106-elf-gcc -E -M -x c - | tr ' \\' '\n\n' | grep -m1 '/stdio\.h$')
[ -f "$libc_stdio" ] || die "cannot find the toolchain's stdio.h"
cat >"$env_dir/fwcheck-libc.h" <<EOF
/* generated by tools/firmware/firmware-check.sh: see E1 there */
#ifndef __ASSEMBLER__
#include <sys/types.h>
#include "$libc_stdio"
#undef BUFSIZ
#endif
EOF
# E2 <xtensa/corebits.h>, <xtensa/config/specreg.h>, <xtensa/config/core-isa.h>
#    (app/user, app/esp-gdbstub) come with the firmware's toolchain's HAL;
#    tools/firmware/shim/include has them, after every other directory.
# E3 GCC 12 reports a section attribute conflict in pwm.c, pwm2.c and
#    switec.c (ignoring attribute 'section' ... conflicts with previous) that
#    the firmware's GCC 8 does not: -Wno-error=attributes for those files only
#    (the firmware's per-file COPTS_<name> hook).
# E4 stricmp (app/modules/net.c) is not in picolibc: an extra object.
xtensa-lx106-elf-gcc -O2 -mlongcalls -mtext-section-literals -ffunction-sections -Wall -Werror \
  -c "$here/tools/firmware/shim/stricmp.c" -o "$env_dir/stricmp.o"
# E5 picolibc is not built with -mlongcalls, so its CALL0s cannot reach the
#    ROM's soft-float/division helpers from flash: thunks (rom-thunks.py) in a
#    copy of picolibc's libc.a, found first by the firmware's -lc.
libc_a=$(xtensa-lx106-elf-gcc -print-file-name=libc.a); libm_a=$(xtensa-lx106-elf-gcc -print-file-name=libm.a)
[ -f "$libc_a" ] || die "the toolchain has no libc.a (picolibc-xtensa-lx106-elf)"
# E6 libhal.a comes with the firmware's toolchain, not with Debian's: when
#    no libhal.a can be found, an empty one satisfies -lhal (anything the image
#    really needed from it would then show up as an undefined symbol).
if [ "$(xtensa-lx106-elf-gcc -print-file-name=libhal.a)" = libhal.a ] && [ ! -f "$sdk_src/lib/libhal.a" ]; then
  xtensa-lx106-elf-ar rc "$env_dir/lib/libhal.a"
fi

# prepare_copy DIR: the tree (and SDK) copied, the SDK pruned and buildinfo.h
# written as the firmware's top-level make does before it builds app/.
prepare_copy() {
  local w=$1
  mkdir -p "$w"
  cp -R "$tree/." "$w/"
  if [ ! -d "$w/$sdk_rel" ]; then mkdir -p "$w/$sdk_rel"; cp -R "$sdk_src/." "$w/$sdk_rel/"; fi
  chmod -R u+w "$w"
  # the firmware's sdk_pruned step (its own lwIP, mbedTLS and time replace the SDK's)
  rm -f "$w/$sdk_rel/lib/liblwip.a" "$w/$sdk_rel/lib/libssl.a" "$w/$sdk_rel/lib/libmbedtls.a"
  xtensa-lx106-elf-ar d "$w/$sdk_rel/lib/libmain.a" time.o 2>/dev/null || true
  [ ! -f "$w/$sdk_rel/lib/libc.a" ] || xtensa-lx106-elf-ar d "$w/$sdk_rel/lib/libc.a" lib_a-time.o 2>/dev/null || true
  # the firmware's buildinfo step (its script needs git for the commit fields only)
  (cd "$w" && bash tools/update_buildinfo.sh) >/dev/null 2>&1 || true
  [ -f "$w/app/include/buildinfo.h" ] || die "tools/update_buildinfo.sh wrote no app/include/buildinfo.h"
}

# fw_make DIR LUA LOG: the firmware's own make for the image.
fw_make() {
  local w=$1 lua=$2 log=$3
  (cd "$w/app" && make TOOLCHAIN_ROOT=/usr LUA="$lua" \
      EXTRA_CCFLAGS="-include $env_dir/fwcheck-libc.h -idirafter $here/tools/firmware/shim/include" \
      COPTS_pwm=-Wno-error=attributes COPTS_pwm2=-Wno-error=attributes COPTS_switec=-Wno-error=attributes \
      LDFLAGS="-L$env_dir/lib -L$w/$sdk_rel/lib -L$w/$sdk_rel/ld $env_dir/stricmp.o" \
      eagle.app.v6.out) >"$log" 2>&1
}

# flavour LUA: both builds and the checks for one Lua flavour; its report goes
# to $out/lua$LUA.report, its exit status tells pass/fail.
flavour() {
  local lua=$1 w="$out/lua$1/tree" r="$out/lua$1" img=app/.output/eagle/debug/image/eagle.app.v6.out
  local status=0 ts
  {
    ts=$(date +%s)
    # 1. the original module, switched on as a firmware builder would
    sed -i -E 's@^([[:space:]]*)//[[:space:]]*(#define[[:space:]]+LUA_USE_MODULES_WEBSOCKET\b)@\1\2@' "$w/app/include/user_modules.h"
    grep -qE '^[[:space:]]*#define[[:space:]]+LUA_USE_MODULES_WEBSOCKET\b' "$w/app/include/user_modules.h" \
      || die "cannot switch the websocket module on in app/include/user_modules.h"
    if ! fw_make "$w" "$lua" "$r/orig.log"; then
      echo "  FAIL: the tree with its original module does not build (LUA=$lua); last lines of $r/orig.log:"
      tail -25 "$r/orig.log" | sed 's/^/    /'; exit 1
    fi
    cp "$w/$img" "$r/orig.out"; cp "$w/app/mapfile" "$r/orig.map"
    echo "  original module: built and linked in $(( $(date +%s) - ts )) s"
    # 2. our module on the same copy
    ts=$(date +%s)
    "$here/tools/nodemcu-install.sh" --archive "$archive" "$w" >"$r/install.log" 2>&1 \
      || { cat "$r/install.log"; die "install failed"; }
    if ! fw_make "$w" "$lua" "$r/ours.log"; then
      echo "  FAIL: the tree with our module does not build (LUA=$lua); last lines of $r/ours.log:"
      tail -25 "$r/ours.log" | sed 's/^/    /'; exit 1
    fi
    cp "$w/$img" "$r/ours.out"; cp "$w/app/mapfile" "$r/ours.map"
    echo "  our module: installed, rebuilt and relinked in $(( $(date +%s) - ts )) s"
    # 3. checks
    for f in app/modules/websocket.c app/websocket/ws_port_espconn.c; do
      grep -q "CC $f\$" "$r/ours.log" || { echo "  FAIL: the firmware's make did not compile $f"; status=1; }
    done
    if grep -nE '(websocket\.c|ws_port_espconn\.c|websocketclient\.h):[0-9]+(:[0-9]+)?: (warning|error|note)' "$r/ours.log" >"$r/diag.txt"; then
      echo "  FAIL: diagnostics from our files:"; sed 's/^/    /' "$r/diag.txt"; status=1
    else
      echo "  diagnostics from our files (websocket.c, ws_port_espconn.c, websocketclient.h): none"
    fi
    xtensa-lx106-elf-nm "$r/ours.out" | awk '$1 == "U" {print $2}' >"$r/undefined.txt"
    if [ -s "$r/undefined.txt" ]; then
      echo "  FAIL: undefined symbols in the image: $(tr '\n' ' ' <"$r/undefined.txt")"; status=1
    fi
    xtensa-lx106-elf-objdump -t "$r/ours.out" >"$r/ours.syms"
    python3 "$here/tools/firmware/image-report.py" check "$r/ours.map" "$r/ours.syms" || status=1
    # 4. sizes
    xtensa-lx106-elf-size -A -d "$r/orig.out" >"$r/orig.size"
    xtensa-lx106-elf-size -A -d "$r/ours.out" >"$r/ours.size"
    python3 "$here/tools/firmware/image-report.py" table "Lua ${lua:0:1}.${lua:1:1}" \
      "$r/orig.size" "$r/ours.size" "$r/orig.map" "$r/ours.map"
    exit $status
  } >"$r/report" 2>&1
}

if [ -f "$sdk_src/lib/libc.a" ]; then   # an SDK with its own (long-call) libc needs no thunks
  echo "rom-thunks: none (the SDK's own libc.a is used)" >"$env_dir/rom-thunks.txt"
else
  python3 "$here/tools/firmware/rom-thunks.py" "$sdk_src/ld/eagle.rom.addr.v6.ld" "$env_dir/rom-thunks.S" "$libc_a" "$libm_a" \
    >"$env_dir/rom-thunks.txt"
  xtensa-lx106-elf-gcc -c -mlongcalls "$env_dir/rom-thunks.S" -o "$env_dir/rom-thunks.o"
  cp "$libc_a" "$env_dir/lib/libc.a"; chmod u+w "$env_dir/lib/libc.a"
  xtensa-lx106-elf-ar rs "$env_dir/lib/libc.a" "$env_dir/rom-thunks.o"
fi

say "tree $tree, archive $archive, Lua flavours: $flavours (logs in $out)"
core_link
pids=()
for lua in $flavours; do   # one copy per flavour (objects depend on it); serial: buildinfo uses /tmp
  mkdir -p "$out/lua$lua"; prepare_copy "$out/lua$lua/tree"
done
for lua in $flavours; do   # the two builds run side by side (the firmware's make is .NOTPARALLEL)
  ( flavour "$lua" ) & pids+=($!)
done
fails=0; i=0
for lua in $flavours; do
  if wait "${pids[$i]}"; then st=passed; else st=FAILED; fails=$((fails + 1)); fi
  echo "firmware-check: Lua ${lua:0:1}.${lua:1:1}: $st"
  cat "$out/lua$lua/report"
  i=$((i + 1))
done
say "environment (E1-E6 in this script): BUFSIZ/ssize_t forced include, HAL header shims, -Wno-error=attributes for pwm/pwm2/switec, stricmp object, $(sed 's/^rom-thunks: //' "$env_dir/rom-thunks.txt" | sed 's/^\([0-9]*\) ROM helpers:.*/\1 ROM helper thunks in a copy of picolibc libc.a/'), $( [ -f "$env_dir/lib/libhal.a" ] && echo 'empty libhal.a' || echo "the toolchain's libhal.a")"
if [ "$fails" -eq 0 ]; then
  say "passed for every Lua flavour ($flavours) in $(( $(date +%s) - t0 )) s"
else
  say "FAILED for $fails Lua flavour(s) of $flavours ($(( $(date +%s) - t0 )) s)"
  exit 1
fi
