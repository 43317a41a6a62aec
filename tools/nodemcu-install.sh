#!/usr/bin/env bash
# Install libwebsocket into a nodemcu-firmware checkout (idempotent).
#
#   tools/nodemcu-install.sh [--archive FILE] [--no-enable] <nodemcu-firmware checkout>
#
#   --archive FILE  the Rust static library to install (default build/libwebsocket.a;
#                   for a real firmware this must be the xtensa-esp8266-none-elf build)
#   --no-enable     do not switch LUA_USE_MODULES_WEBSOCKET on in app/include/user_modules.h
#
# What lands where (see nodemcu-glue/README.md):
#   include/websocketclient.h            -> app/websocket/websocketclient.h
#   (forwarder, 1 line)                  -> app/include/websocket/websocketclient.h
#   <archive>                            -> app/websocket/rust/libwebsocket.a
#   nodemcu-glue/ws_port_espconn.c       -> app/websocket/ws_port_espconn.c
#   nodemcu-glue/firmware/app-websocket-Makefile -> app/websocket/Makefile
#   nodemcu-glue/websocket.c             -> app/modules/websocket.c
# and, only if app/Makefile does not already build and link websocket/libwebsocket.a,
# a marked block is inserted into app/Makefile. A second run changes nothing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
archive="$here/build/libwebsocket.a"
enable=1
target=""

while [ $# -gt 0 ]; do
  case "$1" in
    --archive) archive="${2:?--archive needs a file}"; shift 2 ;;
    --no-enable) enable=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    -*) echo "nodemcu-install: unknown option $1" >&2; exit 2 ;;
    *) [ -z "$target" ] || { echo "nodemcu-install: one checkout only" >&2; exit 2; }
       target="$1"; shift ;;
  esac
done

[ -n "$target" ] || { echo "usage: $0 [--archive FILE] [--no-enable] <nodemcu-firmware checkout>" >&2; exit 2; }
app="$target/app"
[ -f "$app/Makefile" ] && [ -d "$app/modules" ] || {
  echo "nodemcu-install: $target does not look like a nodemcu-firmware checkout (no app/Makefile or app/modules/)" >&2
  exit 1
}
for f in "$archive" "$here/include/websocketclient.h" "$here/nodemcu-glue/websocket.c" \
         "$here/nodemcu-glue/ws_port_espconn.c" "$here/nodemcu-glue/firmware/app-websocket-Makefile"; do
  [ -f "$f" ] || { echo "nodemcu-install: missing $f" >&2; exit 1; }
done

changes=0
note() { echo "nodemcu-install: $*"; changes=$((changes + 1)); }

# install_file SRC DEST: copy only when the content differs.
install_file() {
  local src="$1" dest="$2"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then
    return 0
  fi
  mkdir -p "$(dirname "$dest")"
  cp "$src" "$dest.tmp.$$"
  mv "$dest.tmp.$$" "$dest"
  note "installed ${dest#"$target"/}"
}

# install_text DEST TEXT: write TEXT (plus newline) only when it differs.
install_text() {
  local dest="$1" tmp
  tmp="$(mktemp)"
  printf '%s\n' "$2" >"$tmp"
  install_file "$tmp" "$dest"
  rm -f "$tmp"
}

install_file "$here/include/websocketclient.h" "$app/websocket/websocketclient.h"
install_text "$app/include/websocket/websocketclient.h" \
'/* Installed by libwebsocket tools/nodemcu-install.sh: lets app code include
 * "websocket/websocketclient.h" (app/include is on every include path). */
#include "../../websocket/websocketclient.h"'
install_file "$archive" "$app/websocket/rust/libwebsocket.a"
install_file "$here/nodemcu-glue/ws_port_espconn.c" "$app/websocket/ws_port_espconn.c"
install_file "$here/nodemcu-glue/firmware/app-websocket-Makefile" "$app/websocket/Makefile"
install_file "$here/nodemcu-glue/websocket.c" "$app/modules/websocket.c"

# app/Makefile: a stock tree already lists the websocket subdir and links
# websocket/libwebsocket.a; only a tree without them gets the marked block.
if ! grep -q 'websocket/libwebsocket\.a' "$app/Makefile"; then
  anchor="$(grep -n -m1 -E '^INCLUDES[[:space:]]*:=' "$app/Makefile" | cut -d: -f1 || true)"
  [ -n "$anchor" ] || anchor="$(grep -n -m1 -E '^PDIR[[:space:]]*:=' "$app/Makefile" | cut -d: -f1 || true)"
  [ -n "$anchor" ] || { echo "nodemcu-install: cannot find where to patch app/Makefile" >&2; exit 1; }
  tmp="$(mktemp)"
  {
    head -n $((anchor - 1)) "$app/Makefile"
    echo '# >>> libwebsocket (tools/nodemcu-install.sh)'
    echo 'ifndef PDIR'
    echo 'SUBDIRS += websocket'
    echo 'endif'
    echo 'COMPONENTS_eagle.app.v6 += websocket/libwebsocket.a'
    echo '# <<< libwebsocket'
    tail -n +"$anchor" "$app/Makefile"
  } >"$tmp"
  mv "$tmp" "$app/Makefile"
  note "patched app/Makefile (websocket subdir + websocket/libwebsocket.a)"
fi

# The module switch.
um="$app/include/user_modules.h"
if [ "$enable" = 1 ]; then
  if [ -f "$um" ]; then
    if grep -qE '^[[:space:]]*#define[[:space:]]+LUA_USE_MODULES_WEBSOCKET\b' "$um"; then
      :
    elif grep -qE '^[[:space:]]*//[[:space:]]*#define[[:space:]]+LUA_USE_MODULES_WEBSOCKET\b' "$um"; then
      sed -i -E 's@^([[:space:]]*)//[[:space:]]*(#define[[:space:]]+LUA_USE_MODULES_WEBSOCKET\b)@\1\2@' "$um"
      note "enabled LUA_USE_MODULES_WEBSOCKET in app/include/user_modules.h"
    else
      echo "nodemcu-install: note: add '#define LUA_USE_MODULES_WEBSOCKET' to app/include/user_modules.h yourself" >&2
    fi
  else
    echo "nodemcu-install: note: no app/include/user_modules.h; enable the WEBSOCKET module in your build config" >&2
  fi
fi

if [ "$changes" -eq 0 ]; then
  echo "nodemcu-install: $target is up to date"
else
  echo "nodemcu-install: $changes change(s) in $target"
fi
