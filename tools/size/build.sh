#!/usr/bin/env bash
# Links the minimal image for one bare-metal target against the release
# archive built for it and prints its section sizes and what costs most.
# usage: build.sh <rust target> <archive> <out dir>
set -euo pipefail
target=$1
archive=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mkdir -p "$out"
case "$target" in
  thumbv7em-none-eabi) cflags=(--target=thumbv7em-none-eabi -mcpu=cortex-m4 -mthumb -mfloat-abi=soft) ;;
  riscv32imc-unknown-none-elf) cflags=(--target=riscv32-unknown-elf -march=rv32imc -mabi=ilp32) ;;
  *) echo "unknown target $target" >&2; exit 2 ;;
esac
lld=$(rustc --print sysroot)/lib/rustlib/$(rustc -vV | sed -n 's/^host: //p')/bin/rust-lld
if [[ -x "$lld" ]]; then link=("$lld" -flavor gnu); else link=(ld.lld); fi
clang "${cflags[@]}" -std=c99 -Os -ffreestanding -fno-builtin -ffunction-sections -fdata-sections \
  -Wall -Wextra -Werror -I"$root/include" -c "$here/image.c" -o "$out/image.o"
"${link[@]}" --gc-sections -e _start --defsym=__heap_start=0x20010000 \
  -o "$out/image.elf" "$out/image.o" "$archive"
python3 "$here/elfsize.py" "$target" "$out/image.elf"
# Variant: mem* from the platform's C library (as on the device) instead of
# the archive's compiler_builtins copies.
clang "${cflags[@]}" -std=c99 -Os -ffreestanding -fno-builtin -ffunction-sections -fdata-sections \
  -Wall -Wextra -Werror -DPLATFORM_MEM -I"$root/include" -c "$here/image.c" -o "$out/image_libcmem.o"
"${link[@]}" --gc-sections -e _start --defsym=__heap_start=0x20010000 \
  -o "$out/image_libcmem.elf" "$out/image_libcmem.o" "$archive"
python3 "$here/elfsize.py" "$target" "$out/image_libcmem.elf" |
  sed 's/^size \([^ ]*\)/  (with the platform libc mem* instead of compiler_builtins: \1/; s/$/)/' 
llvm-nm -S -C --size-sort "$out/image.elf" > "$out/symbols.txt"
python3 "$here/bloat.py" "$target" 15 < "$out/symbols.txt" > "$out/bloat.txt"
