#!/usr/bin/env bash
# The minimal image of tools/size/image.c for the ESP8266's LX106, linked with
# GNU ld --gc-sections against the archive of tools/xtensa/build.sh; prints
# the same lines as build.sh does for the other targets:
#   size xtensa-lx106 text= rodata= data= bss=      mem*/strlen from picolibc
#   (variant line: image.c's byte-loop mem* instead of picolibc's)
#   library xtensa-lx106: text+rodata=...            image minus a stubs-only
#                                                    baseline (same stubs, same
#                                                    picolibc functions)
# and writes bloat.txt. The integer helpers the library calls (__udivsi3,
# __muldi3, ...) are in the chip's ROM, not in flash: they are given ROM
# addresses (0x4000xxxx stand-ins, never run) so that they cost nothing here,
# as in a firmware image. L32R literals sit in each function's own section
# (tools/xtensa/place-literals.py), so --gc-sections drops unused functions.
# usage: build-xtensa.sh <archive> <out dir>
set -euo pipefail
archive=$1
out=$2
target=xtensa-lx106
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
XP=${XTENSA_PREFIX:-xtensa-lx106-elf-}
libc_dir=${PICOLIBC_LX106:-/usr/lib/xtensa-lx106-elf/lib}
[ -f "$libc_dir/libc.a" ] || { echo "size: $libc_dir/libc.a missing (picolibc-xtensa-lx106-elf)" >&2; exit 2; }
mkdir -p "$out"
cc_image() { # <out.o> [defines...]
  local o=$1; shift
  "${XP}gcc" -std=c99 -Os -mlongcalls -mtext-section-literals -ffreestanding -fno-builtin \
    -ffunction-sections -fdata-sections -Wall -Wextra -Werror "$@" -I"$root/include" \
    -c "$here/image.c" -o "$o"
}
rom=()
addr=$((0x40000100))
for s in $("${XP}nm" -u "$archive" | awk '$1 == "U" && $2 ~ /^__/ { print $2 }' | sort -u); do
  rom+=("--defsym=$s=$(printf '0x%x' "$addr")")
  addr=$((addr + 16))
done
link() { # <out.elf> <objects and flags...>
  local e=$1; shift
  "${XP}ld" --gc-sections -z noexecstack --no-warn-rwx-segments -e _start \
    --defsym=__heap_start=0x3FFE8000 "${rom[@]}" -o "$e" "$@" -L"$libc_dir" -lc
}
# 1. The size line: mem* and strlen from picolibc.
cc_image "$out/image.o"
link "$out/image.elf" "$out/image.o" "$archive"
python3 "$here/elfsize.py" "$target" "$out/image.elf"
# 2. Variant: image.c's byte-loop mem* (picolibc's strlen).
cc_image "$out/image_loopmem.o" -DPLATFORM_MEM
link "$out/image_loopmem.elf" "$out/image_loopmem.o" "$archive"
python3 "$here/elfsize.py" "$target" "$out/image_loopmem.elf" |
  sed 's/^size \([^ ]*\)/  (with image.c byte-loop mem* instead of picolibc'"'"'s: \1/; s/$/)/'
# 3. Baseline: the same stubs and picolibc functions without the library.
roots=()
for s in $("${XP}nm" --defined-only "$out/image.o" | awk '$2 ~ /[TtDdBbRr]/ && $3 != "_start" {print $3}') \
    $("${XP}nm" -u "$archive" | awk '$1 == "U" && $2 ~ /^(mem|str)/ { print $2 }' | sort -u); do
  roots+=("--undefined=$s")
done
cc_image "$out/image_base.o" -DBASELINE
link "$out/image_base.elf" "${roots[@]}" "$out/image_base.o"
"$here/library-report.sh" "$target" "$out/image.elf" "$out/image_base.elf" \
  "stubs and picolibc mem*/strlen" "${XP}nm" "$out/image.elf" "$out"
