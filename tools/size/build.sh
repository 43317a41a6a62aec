#!/usr/bin/env bash
# Links the minimal image for one bare-metal target against the release
# archive built for it and prints its section sizes and what costs most.
# usage: build.sh <rust target> <archive> <out dir>
# (xtensa-lx106: the archive of tools/xtensa/build.sh, see build-xtensa.sh)
# The API header includes <stdlib.h>: clang takes it from picolibc's headers
# (declarations only; nothing of picolibc is linked).
set -euo pipefail
target=$1
archive=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$out"
case "$target" in
  thumbv7em-none-eabi) cflags=(--target=thumbv7em-none-eabi -mcpu=cortex-m4 -mthumb -mfloat-abi=soft
    -isystem "${PICOLIBC_INCLUDE:-/usr/lib/picolibc/arm-none-eabi/include}") ;;
  riscv32imc-unknown-none-elf) cflags=(--target=riscv32-unknown-elf -march=rv32imc -mabi=ilp32
    -isystem "${PICOLIBC_INCLUDE:-/usr/lib/picolibc/riscv64-unknown-elf/include}") ;;
  xtensa-lx106) exec "$here/build-xtensa.sh" "$archive" "$out" ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
lld=$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/rust-lld
if [[ -x "$lld" ]]; then link=("$lld" -flavor gnu); else link=(ld.lld); fi
cc_image() { # <out.o> [defines...]
  local o=$1; shift
  clang "${cflags[@]}" -std=c99 -Os -ffreestanding -fno-builtin -ffunction-sections -fdata-sections \
    -Wall -Wextra -Werror "$@" -I"$root/include" -c "$here/image.c" -o "$o"
}
link() { # <out.elf> <objects and flags...>
  local e=$1; shift
  "${link[@]}" --gc-sections -e _start --defsym=__heap_start=0x20010000 -o "$e" "$@"
}
# 1. As in a firmware link: mem* come from the platform's C library (ROM on
#    the ESP8266), here tiny byte loops in image.c. This is the `size` line.
cc_image "$out/image_libcmem.o" -DPLATFORM_MEM
link "$out/image_libcmem.elf" "$out/image_libcmem.o" "$archive"
python3 "$here/elfsize.py" "$target" "$out/image_libcmem.elf"
# 2. Variant: the archive's own compiler_builtins mem* (a link without a C
#    library).
cc_image "$out/image.o"
link "$out/image.elf" "$out/image.o" "$archive"
python3 "$here/elfsize.py" "$target" "$out/image.elf" |
  sed 's/^size \([^ ]*\)/  (with compiler_builtins mem* instead of the platform C library: \1/; s/$/)/'
# 3. Baseline: the same stubs (allocator, port, platform mem*) kept alive
#    without the library; image 1 minus this is the library's own share.
roots=()
for s in $(llvm-nm --defined-only "$out/image_libcmem.o" | awk '$2 ~ /[TtDdBbRr]/ && $3 != "_start" {print $3}'); do
  roots+=("--undefined=$s")
done
cc_image "$out/image_base.o" -DPLATFORM_MEM -DBASELINE
link "$out/image_base.elf" "${roots[@]}" "$out/image_base.o"
"$here/library-report.sh" "$target" "$out/image_libcmem.elf" "$out/image_base.elf" \
  "stubs and platform mem*" llvm-nm "$out/image.elf" "$out"
