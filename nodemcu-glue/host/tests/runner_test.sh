#!/usr/bin/env bash
# Tests of the host runner (build/nodemcu-lua): tmr, node, error handling,
# exit codes, unbuffered print, finalizers, websocket module registration,
# tls.cert.verify forms and FAKE_SDK_CA_FILE.
# usage: runner_test.sh BUILD_DIR   (uses BUILD_DIR/nodemcu-lua)
set -u
bin=${1:?usage: runner_test.sh BUILD_DIR}/nodemcu-lua
dir=$(cd "$(dirname "$0")/lua" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL [$v] $*"; sed 's/^/    | /' "$tmp/out" "$tmp/err" | head -20; }

# run NAME EXPECTED_RC [args...]: stdout -> $tmp/out, stderr -> $tmp/err
run() {
  local name=$1 want=$2; shift 2
  FAKE_SDK_DNS_HOSTS_ONLY=1 timeout 20 "$bin" "--lua$v" "$dir/$name" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$rc" != "$want" ]; then bad "$name: exit $rc, want $want"; return 1; fi
  return 0
}
selfcheck() { # script printed PASS lines, no FAIL, and DONE
  if grep -q '^FAIL' "$tmp/out" || ! grep -q '^DONE$' "$tmp/out" || ! grep -q '^PASS' "$tmp/out"; then
    bad "$1: self-check"; else ok; fi
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

for v in 51 53; do
  run tmr.lua 0 && selfcheck tmr.lua
  run node.lua 0 && selfcheck node.lua
  if run callback_error.lua 0; then
    if grep -q 'boom-in-callback' "$tmp/out" && grep -q 'stack traceback:' "$tmp/out" &&
      grep -q '^DONE$' "$tmp/out"; then ok; else bad "callback_error.lua: output"; fi
  fi
  if run main_error.lua 1; then
    if grep -q 'main-chunk-failure' "$tmp/err" && ! grep -q 'loop ran' "$tmp/out"; then ok
    else bad "main_error.lua: output"; fi
  fi
  if run exit_code.lua 7 7 a b; then
    if [ "$(cat "$tmp/out")" = "$(printf 'args\t7\t3\t7\ta\tb')" ]; then ok; else bad "exit_code.lua: output"; fi
  fi
  if run gc.lua 0; then
    if [ "$(cat "$tmp/out")" = "$(printf 'DONE\nfinalized')" ]; then ok; else bad "gc.lua: output"; fi
  fi
  run websocket.lua 0 "$(free_port)" && selfcheck websocket.lua
  run tls.lua 0 empty && selfcheck tls.lua
  printf -- '-----BEGIN CERTIFICATE-----\nQUJD\n-----END CERTIFICATE-----\n' >"$tmp/ca.pem"
  FAKE_SDK_CA_FILE="$tmp/ca.pem" run tls.lua 0 preloaded && selfcheck "tls.lua (FAKE_SDK_CA_FILE)"
  timeout 1 "$bin" "--lua$v" "$dir/flush.lua" >"$tmp/out" 2>"$tmp/err"
  if [ "$(cat "$tmp/out")" = "$(printf 'early\npartial')" ]; then ok; else bad "flush.lua: output"; fi
  if "$bin" "--lua$v" --help | grep -q "Lua 5.${v#5}"; then ok; else bad "--help names the Lua version"; fi
done
echo "host runner: $pass passed, $fail failed"
[ "$fail" = 0 ]
