#!/usr/bin/env bash
# Copies the old C WebSocket client and the old Lua module out of a NodeMCU
# firmware tree into <out>/src (test data: compiled unchanged, never
# committed, never edited). A file is rewritten only when it differs, so
# make's timestamps stay meaningful.
#   <out>/src/websocket/websocketclient.c  <- <tree>/app/websocket/websocketclient.c
#   <out>/src/websocket/websocketclient.h  <- <tree>/app/websocket/websocketclient.h
#   <out>/src/modules/websocket.c          <- <tree>/app/modules/websocket.c
# usage: fetch.sh <nodemcu-firmware tree> <out dir>
set -euo pipefail
tree=$1
out=$2
for f in app/websocket/websocketclient.c app/websocket/websocketclient.h app/modules/websocket.c; do
  [ -f "$tree/$f" ] || { echo "oldclient: $tree/$f not found (NODEMCU must name a nodemcu-firmware tree)" >&2; exit 2; }
  dst=$out/src/${f#app/}
  mkdir -p "$(dirname "$dst")"
  cmp -s "$tree/$f" "$dst" 2>/dev/null || cp "$tree/$f" "$dst"
done
