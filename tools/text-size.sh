#!/usr/bin/env bash
# Usage: tools/text-size.sh <libwebsocket.a>
# Prints the code/data sizes of the library's own object (compiler_builtins
# members excluded: the firmware links its own libgcc and they are dropped).
set -euo pipefail
lib=${1:?usage: $0 <archive>}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
member=$(ar t "$lib" | grep -v compiler_builtins | head -1)
(cd "$tmp" && ar x "$(realpath "$OLDPWD/$lib" 2>/dev/null || realpath "$lib")" "$member")
SIZE=size
size -A "$tmp/$member" >/dev/null 2>&1 || SIZE=llvm-size
"$SIZE" -A "$tmp/$member" | awk -v lib="$lib" '
  $1 ~ /^\.text/ { text += $2 } $1 ~ /^\.rodata/ { ro += $2 }
  $1 ~ /^\.data/ { data += $2 } $1 ~ /^\.bss/ { bss += $2 }
  END { printf "%s: text %d  rodata %d  data %d  bss %d (library object, compiler_builtins excluded)\n", lib, text, ro, data, bss }'
