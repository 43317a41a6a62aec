#!/usr/bin/env bash
# tools/check-readme-code.sh [--lib ARCHIVE] [--out DIR] [FILE.md...]
#   `make readme-check`: every ```c block of the given Markdown files
#   (default README.md) must compile, as a C user would compile it:
#     $CC -std=c99 -Wall -Wextra -Werror -Iinclude
#   A block that defines main() is a whole program and is also linked with
#   the library archive (--lib, default build/libwebsocket.a); it must then
#   supply the ws_port_* functions itself. Any other block is compiled with -c
#   (a translation unit: no statements at file scope).
#   Each block is written to DIR/<file>-<line>.c (default build/readme-check);
#   errors name the Markdown file and the line of the block's opening fence.
#   Exit status 1 if any block fails or if a file has no ```c block at all.
#
#   tools/check-readme-code.sh --self-test [--lib ARCHIVE] [--out DIR]
#   checks the checker on Markdown it writes itself: a good block, a good
#   program with main() and its own port, and three bad blocks (statements
#   at file scope, a warning, a program that does not link) must give
#   exactly the expected verdicts.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cc=${CC:-cc}
lib=$root/build/libwebsocket.a
out=$root/build/readme-check
self_test=0
files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --lib) lib=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --self-test) self_test=1; shift ;;
    -*) echo "check-readme-code: unknown option $1" >&2; exit 2 ;;
    *) files+=("$1"); shift ;;
  esac
done
[ ${#files[@]} -gt 0 ] || files=("$root/README.md")
mkdir -p "$out"

# check_file FILE.md: compiles its ```c blocks; prints one line per block.
check_file() {
  local md=$1 base n=0 bad=0 start="" line=0 in=0 src text
  base=$(basename "$md" .md)
  while IFS= read -r text || [ -n "$text" ]; do
    line=$((line + 1))
    if [ $in = 0 ] && [[ $text =~ ^\`\`\`c[[:space:]]*$ ]]; then
      in=1; start=$line; src="$out/$base-$start.c"; : > "$src"; continue
    fi
    if [ $in = 1 ] && [[ $text =~ ^\`\`\` ]]; then
      in=0; n=$((n + 1))
      compile_block "$md" "$start" "$src" || bad=$((bad + 1))
      continue
    fi
    [ $in = 0 ] || printf '%s\n' "$text" >> "$src"
  done < "$md"
  [ $in = 0 ] || { echo "$md:$start: unterminated \`\`\`c block"; return 1; }
  [ $n -gt 0 ] || { echo "$md: no \`\`\`c block found"; return 1; }
  echo "readme-check: $md: $n C block(s), $bad failed"
  [ $bad = 0 ]
}

# compile_block FILE.md LINE SRC
compile_block() {
  local md=$1 at=$2 src=$3 log="${3%.c}.log" flags=(-std=c99 -Wall -Wextra -Werror -I"$root/include")
  if grep -Eq '(^|[^[:alnum:]_])main[[:space:]]*\(' "$src"; then
    [ -f "$lib" ] || { echo "$md:$at: program block, but no library archive at $lib"; return 1; }
    if "$cc" "${flags[@]}" "$src" "$lib" -o "${src%.c}" > "$log" 2>&1; then
      echo "readme-check: $md:$at: program compiled and linked"; return 0; fi
  else
    if "$cc" "${flags[@]}" -c "$src" -o "${src%.c}.o" > "$log" 2>&1; then
      echo "readme-check: $md:$at: compiled"; return 0; fi
  fi
  echo "readme-check: $md:$at: FAILED ($cc ${flags[*]}):"
  sed "s|^|  |" "$log"
  return 1
}

if [ $self_test = 0 ]; then
  st=0
  for f in "${files[@]}"; do check_file "$f" || st=1; done
  exit $st
fi

# Self-test: each case is one Markdown file with one block and a verdict.
t="$out/self-test"
rm -rf "$t" && mkdir -p "$t"
ok_unit='#include <stddef.h>
#include "websocketclient.h"
static ws_info ws;
void start(void) { ws.connectionState = 0; ws.extraHeaders = NULL; ws_connect(&ws, "ws://h/"); }'
ok_program='#include <stddef.h>
#include <stdint.h>
#include "websocketclient.h"
int ws_port_resolve(struct ws_info *ws, const char *host) { (void)ws; (void)host; return -1; }
int ws_port_connect(struct ws_info *ws, uint16_t port, int secure) { (void)ws; (void)port; (void)secure; return -1; }
int ws_port_send(struct ws_info *ws, const uint8_t *d, uint16_t n) { (void)ws; (void)d; (void)n; return -1; }
void ws_port_close(struct ws_info *ws) { (void)ws; }
void ws_port_timer_arm(struct ws_info *ws, uint32_t ms) { (void)ws; (void)ms; }
void ws_port_timer_disarm(struct ws_info *ws) { (void)ws; }
void ws_port_random(uint8_t *b, size_t n) { while (n--) *b++ = 4; }
void ws_port_sha1(const uint8_t *d, size_t n, uint8_t *h) { (void)d; (void)n; for (int i = 0; i < 20; i++) h[i] = 0; }
static int final_status = 1;
static void on_end(ws_info *w, int status) { (void)w; final_status = status; }
int main(void) {
  ws_info ws;
  ws.connectionState = 0; ws.extraHeaders = NULL; ws.reservedData = NULL;
  ws.onConnection = NULL; ws.onReceive = NULL; ws.onFailure = on_end;
  ws_connect(&ws, "ws://host/");   /* port_resolve fails: status -5 */
  return final_status == -5 ? 0 : 1;
}'
file_scope='#include "websocketclient.h"
static ws_info ws;
ws.connectionState = 0;
ws_connect(&ws, "ws://h/");'
warning='#include "websocketclient.h"
void start(ws_info *ws) { int unused; ws_connect(ws, "ws://h/"); }'
no_port='#include "websocketclient.h"
int main(void) { ws_info ws; ws.connectionState = 0; ws.extraHeaders = NULL; ws_connect(&ws, "ws://h/"); return 0; }'
st=0
for c in "ok_unit:pass" "ok_program:pass" "file_scope:fail" "warning:fail" "no_port:fail"; do
  name=${c%%:*} want=${c##*:}
  printf 'Text.\n\n```c\n%s\n```\n' "${!name}" > "$t/$name.md"
  if OUTPUT=$(out="$t" check_file "$t/$name.md" 2>&1); then got=pass; else got=fail; fi
  if [ $got = "$want" ]; then
    echo "readme-check self-test: $name: ${got}ed as expected"
  else
    echo "readme-check self-test: $name: expected $want, got $got"; echo "$OUTPUT"; st=1
  fi
done
if [ $st = 0 ] && [ -x "$t/ok_program-3" ]; then
  "$t/ok_program-3" || { echo "readme-check self-test: ok_program ran with the wrong status"; st=1; }
fi
[ $st = 0 ] && echo "readme-check self-test: passed"
exit $st
