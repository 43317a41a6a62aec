#!/usr/bin/env bash
# Heap per idle open connection on the 32-bit runners of heap32-build.sh
# (idle_heap.lua, the same script for both), beside each other, with the
# target of issue 12 (ours no more than the old module's). Starts the e2e
# echo server (tests/peers/echo_server.py) and stops it by its PID.
# usage: heap32-run.sh <python with websockets> <heap32 dir> [K]
#   (<heap32 dir>/old/nodemcu-lua51 missing: the old column is skipped)
set -euo pipefail
py=$1
dir=$2
k=${3:-1}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
log=$dir/echo_server.log
"$py" "$root/tests/peers/echo_server.py" > "$log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$log" ] && break; sleep 0.1; done
port=$(head -1 "$log")
[[ "$port" =~ ^[0-9]+$ ]] || { echo "heap32: echo server did not start:"; cat "$log"; exit 1; }
measure() { # <runner> -> "total device lua"
  local out
  out=$(FAKE_SDK_MAX_TCP=16 timeout 30 "$1" "$here/idle_heap.lua" "ws://127.0.0.1:$port/" "$k" 2>&1) || {
    echo "heap32: $1 failed: $out" >&2; return 1; }
  sed -n 's/^idle_heap clients=[0-9]* total=\(-*[0-9]*\) device=\(-*[0-9]*\) lua=\(-*[0-9]*\).*/\1 \2 \3/p' <<<"$out"
}
read -r nt nd nl < <(measure "$dir/new/nodemcu-lua51")
echo "heap32 idle open connection (i686 runner, Lua 5.1, $k extra connection(s), B per connection):"
echo "heap32   now: total=$nt (malloc: library engine + port + espconn/esp_tcp + strings = $nd; Lua: userdata + registry = $nl)"
if [ -x "$dir/old/nodemcu-lua51" ]; then
  read -r ot od ol < <(measure "$dir/old/nodemcu-lua51")
  echo "heap32   old: total=$ot (malloc: espconn/esp_tcp + hostname/path/accept key = $od; Lua: userdata + ws_data + registry = $ol)"
  if [ "$nt" -le "$ot" ]; then v=OK; else v="OVER by $((nt - ot)) B"; fi
  echo "heap32 target (issue 12: no more than the old module): now $nt B vs old $ot B: $v (printed, not enforced)"
else
  echo "heap32   old: skipped (NODEMCU not set)"
fi
