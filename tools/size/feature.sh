#!/usr/bin/env bash
# Flash of the whole websocket feature as a firmware links it: the client
# (our library archive, or the old C client), the port (ours only: the old
# client calls espconn itself) and the Lua module, compiled for one device
# and linked with GNU ld --gc-sections from the module's registration entries
# (NODEMCU_MODULE, tools/size/cross/module.h), so that exactly what the Lua
# module reaches is kept: on our side every entry point the glue uses.
#
#   new: <library archive> + nodemcu-glue/ws_port_espconn.c + nodemcu-glue/websocket.c
#   old: <src>/websocket/websocketclient.c + <src>/modules/websocket.c (a copy
#        of the firmware tree's files, tools/oldclient/fetch.sh)
#
# C files: compiled against the host fake SDK's headers (nodemcu-glue/host/sdk,
# -D_C_TYPES_H_ as in the firmware) and Lua 5.1.5's headers (build/host/lua-src):
#   thumbv7em     arm-none-eabi-gcc -mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections
#   xtensa-lx106  xtensa-lx106-elf-gcc with the firmware's module flags: -O2
#                 -mlongcalls -mtext-section-literals -ffunction-sections
#                 -fdata-sections -fno-jump-tables -fno-inline-functions
# Everything the kept code calls that nobody here defines (the Lua API, the
# SDK's espconn/os_timer/os_random, the C library, the ROM's SHA-1, libgcc)
# belongs to the rest of the firmware: each gets a stand-in address outside
# the image (--defsym), so it costs nothing here; mem*/strlen always do,
# also where the Rust archive brings its own (a firmware uses the platform's).
#
# prints  feature <arch> <side>: text+rodata=N B (<part> N + ...; data= bss=)
# and writes <out>/parts.txt (tools/size/mapsplit.py) and <out>/standins.txt.
# usage: feature.sh <thumbv7em|xtensa-lx106> <out dir> new <archive>
#        feature.sh <thumbv7em|xtensa-lx106> <out dir> old <old source dir>
set -euo pipefail
arch=$1
out=$2
side=$3
input=$4
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
lua=${LUA51_SRC:-$root/build/host/lua-src/lua-5.1.5}
[ -f "$lua/lua.h" ] || { echo "feature: $lua/lua.h missing (make build/host/lua-src/.stamp)" >&2; exit 2; }
mkdir -p "$out"
case "$arch" in
  thumbv7em)
    cc=(arm-none-eabi-gcc --specs=picolibc.specs -mcpu=cortex-m4 -mthumb -Os -ffunction-sections -fdata-sections)
    ld=arm-none-eabi-ld
    text_at=0x08000000 standin_at=$((0x08200000)) standin_odd=1
    ;;
  xtensa-lx106)
    cc=(xtensa-lx106-elf-gcc "--specs=${PICOLIBC_LX106_SPECS:-/usr/lib/xtensa-lx106-elf/picolibc.specs}"
        -O2 -mlongcalls -mtext-section-literals -ffunction-sections -fdata-sections
        -fno-jump-tables -fno-inline-functions)
    ld=xtensa-lx106-elf-ld
    # The image at a flash (.irom0.text) address; the stand-ins 1 MiB below,
    # out of call0 reach (512 KiB) like the ROM: calls to them stay long.
    text_at=0x40210000 standin_at=$((0x40100000)) standin_odd=0
    ;;
  *) echo "feature: unknown arch $arch" >&2; exit 2 ;;
esac
nm=${ld%ld}nm
common=(-std=gnu11 -D_C_TYPES_H_ -I"$root/nodemcu-glue/host/sdk")
module_inc=(-I"$here/cross" -I"$lua")
case "$side" in
  new)
    mkdir -p "$out/include/websocket"
    cmp -s "$root/include/websocketclient.h" "$out/include/websocket/websocketclient.h" 2>/dev/null ||
      cp "$root/include/websocketclient.h" "$out/include/websocket/websocketclient.h"
    "${cc[@]}" "${common[@]}" -I"$out/include" -c "$root/nodemcu-glue/ws_port_espconn.c" -o "$out/port.o"
    "${cc[@]}" "${common[@]}" "${module_inc[@]}" -I"$out/include" -c "$root/nodemcu-glue/websocket.c" -o "$out/module.o"
    objs=("$out/port.o" "$out/module.o" "$input")
    labels=(library="$input" port="$out/port.o" module="$out/module.o")
    ;;
  old)
    shim=$root/tools/oldclient/shim
    oldflags=(-include "$shim/oldclient_sdk.h" -I"$shim" -I"$input")
    "${cc[@]}" "${common[@]}" "${oldflags[@]}" -c "$input/websocket/websocketclient.c" -o "$out/client.o"
    "${cc[@]}" "${common[@]}" "${module_inc[@]}" "${oldflags[@]}" -c "$input/modules/websocket.c" -o "$out/module.o"
    objs=("$out/client.o" "$out/module.o")
    labels=(client="$out/client.o" module="$out/module.o")
    ;;
  *) echo "feature: side must be new or old" >&2; exit 2 ;;
esac
link() { # <elf> [flags]
  local e=$1; shift
  "$ld" --gc-sections -z noexecstack --no-warn-rwx-segments -Ttext="$text_at" \
    -e lua_lib_WEBSOCKET --undefined=lua_rotable_WEBSOCKET -Map="$e.map" -o "$e" "$@" "${objs[@]}"
}
pre=()
names=()
addr=$standin_at
standin() {
  local s
  for s in "$@"; do
    case " ${names[*]-} " in *" $s "*) continue ;; esac
    names+=("$s")
    pre+=("--defsym=$s=$(printf '0x%x' $((addr + standin_odd)))")
    addr=$((addr + 16))
  done
}
# 1. What the kept code needs from the rest of the firmware: a probe link
#    that only warns about undefined references (a hidden undefined symbol,
#    Lua 5.1's LUAI_FUNC, still stops it: given a stand-in, then again).
standin memcpy memmove memset memcmp strlen __aeabi_memcpy __aeabi_memcpy4 __aeabi_memcpy8 \
  __aeabi_memmove __aeabi_memmove4 __aeabi_memmove8 __aeabi_memset __aeabi_memset4 \
  __aeabi_memset8 __aeabi_memclr __aeabi_memclr4 __aeabi_memclr8
# What the C files call outside themselves and the library (ws_*): the Lua
# core, the SDK, the C library and libgcc (e.g. the module's double
# arithmetic, __adddf3, which the Rust archive's compiler_builtins would
# otherwise supply and which is in the ESP8266's ROM).
c_objs=("${objs[@]:0:2}")
mapfile -t cdefs < <("$nm" --defined-only "${c_objs[@]}" | awk 'NF == 3 { print $3 }' | sort -u)
mapfile -t cneeds < <("$nm" -u "${c_objs[@]}" | awk '$1 == "U" { print $2 }' | sort -u |
  grep -v '^ws_' | comm -23 - <(printf '%s\n' "${cdefs[@]}") || true)
[ "${#cneeds[@]}" -eq 0 ] || standin "${cneeds[@]}"
for try in 1 2 3 4 5; do
  if link "$out/probe.elf" --warn-unresolved-symbols "${pre[@]}" 2> "$out/probe.log"; then break; fi
  mapfile -t more < <(sed -n "s/.*hidden symbol \`\([^']*\)' isn't defined.*/\1/p" "$out/probe.log" | sort -u)
  if [ "${#more[@]}" -eq 0 ] || [ "$try" -eq 5 ]; then cat "$out/probe.log" >&2; exit 1; fi
  standin "${more[@]}"
done
mapfile -t undef < <(sed -n "s/.*undefined reference to \`\([^']*\)'.*/\1/p" "$out/probe.log" | sort -u)
[ "${#undef[@]}" -eq 0 ] || standin "${undef[@]}"
printf '%s\n' "${names[@]}" > "$out/standins.txt"
# 2. The measured link: everything resolved, any warning is an error.
link "$out/feature.elf" --fatal-warnings "${pre[@]}"
if "$nm" "$out/feature.elf" | grep -qi veneer; then
  echo "feature: the linker added veneers (see $out/feature.elf.map)" >&2; exit 1
fi
python3 "$here/mapsplit.py" "$out/feature.elf" "$out/feature.elf.map" "${labels[@]}" > "$out/parts.txt"
python3 - "$arch" "$side" "$out/parts.txt" <<'PY'
import re, sys
arch, side, path = sys.argv[1:]
parts = {}
for line in open(path):
    m = re.match(r"part (\S+) (.*)", line)
    parts[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
tr = lambda p: p["text"] + p["rodata"]
names = [n for n in parts if n != "total" and (n != "other" or tr(parts[n]))]
detail = " + ".join(f"{n} {tr(parts[n])}" for n in names)
t = parts["total"]
print(f"feature {arch} {side}: text+rodata={tr(t)} B ({detail}; data={t['data']} bss={t['bss']})")
PY
