#!/usr/bin/env bash
# Install libwebsocket into a nodemcu-firmware checkout (idempotent).
#
#   tools/nodemcu-install.sh [--archive FILE] [--force] [--no-enable] <nodemcu-firmware checkout>
#
#   --archive FILE  the Rust static library to install (default
#                   build/cross/xtensa-lx106/libwebsocket.a, the Xtensa LX106 build)
#   --force         install the archive even if its objects are not Xtensa ELF
#                   (machine 94); only useful for tests of the install itself
#   --no-enable     do not switch LUA_USE_MODULES_WEBSOCKET on in app/include/user_modules.h
#
# What lands where (see nodemcu-glue/README.md):
#   include/websocketclient.h            -> app/websocket/websocketclient.h
#   (forwarder, 1 line)                  -> app/include/websocket/websocketclient.h
#   <archive>                            -> app/websocket/rust/libwebsocket.a
#   nodemcu-glue/ws_port_espconn.c       -> app/websocket/ws_port_espconn.c
#   nodemcu-glue/firmware/app-websocket-Makefile -> app/websocket/Makefile
#   nodemcu-glue/websocket.c             -> app/modules/websocket.c
# and, only if app/Makefile does not already build websocket (literal
# websocket/libwebsocket.a, or `websocket` in OPT_MKTARGETS as in NodeMCU's
# release tree, where the module switch decides), a marked block is inserted
# into app/Makefile. A second run changes nothing.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
archive="$here/build/cross/xtensa-lx106/libwebsocket.a"
enable=1
force=0
target=""

while [ $# -gt 0 ]; do
  case "$1" in
    --archive) archive="${2:?--archive needs a file}"; shift 2 ;;
    --no-enable) enable=0; shift ;;
    --force) force=1; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    -*) echo "nodemcu-install: unknown option $1" >&2; exit 2 ;;
    *) [ -z "$target" ] || { echo "nodemcu-install: one checkout only" >&2; exit 2; }
       target="$1"; shift ;;
  esac
done

[ -n "$target" ] || { echo "usage: $0 [--archive FILE] [--force] [--no-enable] <nodemcu-firmware checkout>" >&2; exit 2; }
app="$target/app"
[ -f "$app/Makefile" ] && [ -d "$app/modules" ] || {
  echo "nodemcu-install: $target does not look like a nodemcu-firmware checkout (no app/Makefile or app/modules/)" >&2
  exit 1
}
for f in "$archive" "$here/include/websocketclient.h" "$here/nodemcu-glue/websocket.c" \
         "$here/nodemcu-glue/ws_port_espconn.c" "$here/nodemcu-glue/firmware/app-websocket-Makefile"; do
  [ -f "$f" ] || { echo "nodemcu-install: missing $f" >&2; exit 1; }
done

# elf_machines FILE: the distinct ELF e_machine numbers of FILE (an ELF object,
# or an ar archive of them), one per line; "none" when it holds no ELF object.
elf_machines() {
  python3 - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
def machine(blob):
    if blob[:4] != b"\x7fELF" or len(blob) < 20:
        return None
    return struct.unpack("<H" if blob[5] == 1 else ">H", blob[18:20])[0]
found = set()
if data[:8] == b"!<arch>\n":
    pos = 8
    while pos + 60 <= len(data):
        header = data[pos:pos + 60]
        size = int(header[48:58].decode("ascii").strip() or 0)
        name = header[:16].decode("ascii", "replace").strip()
        body = data[pos + 60:pos + 60 + size]
        if name.startswith("#1/"):   # BSD long name stored before the member
            n = int(name[3:])
            body = body[n:]
        m = machine(body)
        if m is not None:
            found.add(m)
        pos += 60 + size + (size & 1)
else:
    m = machine(data)
    if m is not None:
        found.add(m)
print("\n".join(str(m) for m in sorted(found)) or "none")
PY
}

# The firmware links only Xtensa objects (EM_XTENSA = 94); a host or other
# cross archive would fail late, at the firmware's final link.
machines="$(elf_machines "$archive" | tr '\n' ' ' | sed 's/ $//')"
if [ "$machines" != 94 ]; then
  if [ "$force" = 1 ]; then
    echo "nodemcu-install: warning: $archive has ELF machine(s) $machines, not Xtensa (94); installing anyway (--force)" >&2
  else
    echo "nodemcu-install: refusing $archive: its ELF machine is $machines, not Xtensa (94);" \
         "build the LX106 archive (make cross) or pass --force" >&2
    exit 1
  fi
fi

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

# app/Makefile. NodeMCU's release tree builds the module through
# OPT_MKTARGETS (websocket is then in SUBDIRS and websocket/libwebsocket.a in
# the components exactly when LUA_USE_MODULES_WEBSOCKET is on); older trees
# list both literally. Either way the file is left alone: adding entries
# would name websocket twice, or build it although the switch is off. Only a
# tree that has neither gets the marked block (it then builds the library
# always; the module switch still decides whether the Lua module is linked).
mk="$app/Makefile"
opt_target=0 lit_lib=0 lit_dir=0
grep -qE '^[[:space:]]*OPT_MKTARGETS[[:space:]]*[:+?]?=.*(^|[[:space:]=])websocket([[:space:]]|$)' "$mk" && opt_target=1
grep -qE '(^|[[:space:]])websocket/libwebsocket\.a([[:space:]]|\\|$)' "$mk" && lit_lib=1
grep -qE '^[[:space:]]*websocket[[:space:]]*(\\)?[[:space:]]*$|SUBDIRS[[:space:]]*[:+]?=.*(^|[[:space:]=])websocket([[:space:]]|\\|$)' "$mk" && lit_dir=1
if [ "$opt_target" = 0 ] && [ "$lit_lib" = 0 ] && [ "$lit_dir" = 0 ]; then
  anchor="$(grep -n -m1 -E '^INCLUDES[[:space:]]*:=' "$mk" | cut -d: -f1 || true)"
  [ -n "$anchor" ] || anchor="$(grep -n -m1 -E '^PDIR[[:space:]]*:=' "$mk" | cut -d: -f1 || true)"
  [ -n "$anchor" ] || { echo "nodemcu-install: cannot find where to patch app/Makefile" >&2; exit 1; }
  tmp="$(mktemp)"
  {
    head -n $((anchor - 1)) "$mk"
    echo '# >>> libwebsocket (tools/nodemcu-install.sh)'
    echo 'ifndef PDIR'
    echo 'SUBDIRS += websocket'
    echo 'endif'
    echo 'COMPONENTS_eagle.app.v6 += websocket/libwebsocket.a'
    echo '# <<< libwebsocket'
    tail -n +"$anchor" "$mk"
  } >"$tmp"
  mv "$tmp" "$mk"
  note "patched app/Makefile (websocket subdir + websocket/libwebsocket.a)"
elif [ "$opt_target" = 0 ] && [ "$lit_lib" != "$lit_dir" ]; then
  echo "nodemcu-install: note: app/Makefile lists websocket only in" \
       "$([ "$lit_dir" = 1 ] && echo SUBDIRS || echo the components); add the other entry yourself" >&2
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
