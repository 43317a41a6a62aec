#!/usr/bin/env bash
# fetch-module.sh TREE DEST: copy TREE/app/modules/websocket.c (the firmware's
# own Lua module, test data) to DEST, unchanged. The copy is rewritten only
# when its content differs, so an unchanged module is not recompiled.
set -euo pipefail
tree=${1:?usage: fetch-module.sh <nodemcu-firmware tree> <dest>}
dest=${2:?usage: fetch-module.sh <nodemcu-firmware tree> <dest>}
src="$tree/app/modules/websocket.c"
if [ ! -f "$src" ]; then
  echo "oldmodule-test: $src not found (NODEMCU must be a nodemcu-firmware tree)" >&2
  exit 2
fi
mkdir -p "$(dirname "$dest")"
if ! cmp -s "$src" "$dest"; then
  cp "$src" "$dest.tmp"
  mv "$dest.tmp" "$dest"
fi
echo "oldmodule-test: module $src ($(wc -l < "$dest") lines, sha256 $(sha256sum "$dest" | cut -c1-16))"
