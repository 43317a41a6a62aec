#!/usr/bin/env bash
# Builds the host runner (nodemcu-glue/host/nodemcu_main.c + fake SDK + Lua
# 5.1.5) for 32-bit x86 (-m32: 4-byte pointers and size_t, as on the
# ESP8266), twice, for the idle-connection heap of issue 12:
#   <out>/new/nodemcu-lua51  nodemcu-glue/websocket.c + ws_port_espconn.c + <i686 archive>
#   <out>/old/nodemcu-lua51  <old src>/modules/websocket.c + websocketclient.c,
#                            when <old src> is given (both take the ROM's SHA-1
#                            from the fake SDK's rom.c)
# The fake SDK's TLS part is left out (no 32-bit OpenSSL here: notls32.c);
# heap accounting wraps malloc/calloc/realloc/free as in mk/host.mk.
# usage: heap32-build.sh <out> <i686 libwebsocket.a> [<old src dir>]
set -euo pipefail
out=$1
archive=$2
old=${3:-}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
host=$root/nodemcu-glue/host
lua=$root/build/host/lua-src/lua-5.1.5
cc=(${CC:-cc} -m32)
sdk_flags=(-std=c99 -O2 -g -w -D_C_TYPES_H_ -I"$host/sdk")
mkdir -p "$out/obj" "$out/lua" "$out/new" "$out/old" "$out/include/websocket"
stamp=$out/lua/liblua.a
if [ ! -f "$stamp" ] || [ -n "$(find "$lua" -newer "$stamp" -name '*.[ch]' | head -1)" ]; then
  for f in "$lua"/*.c; do
    case $(basename "$f") in lua.c|luac.c|print.c) continue ;; esac
    "${cc[@]}" -std=gnu99 -O2 -DLUA_USE_LINUX -w -c "$f" -o "$out/lua/$(basename "$f" .c).o"
  done
  ar rcs "$stamp" "$out"/lua/*.o
fi
sdk=()
for f in "$host"/fake/*.c; do
  [ "$(basename "$f")" = secure.c ] && continue
  o=$out/obj/sdk_$(basename "$f" .c).o
  "${cc[@]}" "${sdk_flags[@]}" -I"$here/shim32" -c "$f" -o "$o"; sdk+=("$o")
done
"${cc[@]}" "${sdk_flags[@]}" -I"$here/shim32" -I"$host/fake" -c "$here/notls32.c" -o "$out/obj/notls32.o"
sdk+=("$out/obj/notls32.o")
"${cc[@]}" "${sdk_flags[@]}" -I"$lua" -I"$host/lua" -c "$host/nodemcu_main.c" -o "$out/obj/main.o"
ldflags=(-Wl,--wrap=malloc,--wrap=free,--wrap=realloc,--wrap=calloc -lm -ldl -lpthread)
cp "$root/include/websocketclient.h" "$out/include/websocket/websocketclient.h"
"${cc[@]}" "${sdk_flags[@]}" -I"$out/include" -c "$root/nodemcu-glue/ws_port_espconn.c" -o "$out/obj/new_port.o"
"${cc[@]}" "${sdk_flags[@]}" -I"$lua" -I"$host/lua" -I"$out/include" -c "$root/nodemcu-glue/websocket.c" -o "$out/obj/new_module.o"
"${cc[@]}" -o "$out/new/nodemcu-lua51" "$out/obj/main.o" "$out/obj/new_module.o" "$out/obj/new_port.o" \
  "${sdk[@]}" "$stamp" -lm -lc "$archive" "${ldflags[@]}"
if [ -n "$old" ]; then
  oldf=(-std=gnu11 -O2 -g -w -funsigned-char -D_C_TYPES_H_ -include "$here/shim/oldclient_sdk.h"
        -I"$host/sdk" -I"$here/shim" -I"$old" -I"$root/tools/callgrind")
  "${cc[@]}" "${oldf[@]}" -c "$old/websocket/websocketclient.c" -o "$out/obj/old_client.o"
  "${cc[@]}" "${oldf[@]}" -I"$lua" -I"$host/lua" -c "$old/modules/websocket.c" -o "$out/obj/old_module.o"
  "${cc[@]}" -o "$out/old/nodemcu-lua51" "$out/obj/main.o" "$out/obj/old_module.o" "$out/obj/old_client.o" \
    "${sdk[@]}" "$stamp" "${ldflags[@]}"
fi
