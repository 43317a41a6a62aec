#!/usr/bin/env bash
# The end of every target's size run (build.sh, build-xtensa.sh): the
# library's own share, image minus a stubs-only baseline linked from the same
# objects, and the largest symbols of an image.
# usage: library-report.sh <target> <image.elf> <baseline.elf> <what the
#          baseline holds> <nm> <bloat image.elf> <out dir>
# writes <out>/size_image.txt, size_base.txt, library.txt (also printed:
# "library <target>: text+rodata=N B (image I B - <what> B B)"), symbols.txt
# (nm -S -C --size-sort of the bloat image) and bloat.txt (tools/size/bloat.py).
set -euo pipefail
target=$1
image=$2
base=$3
what=$4
nm=$5
bloat_image=$6
out=$7
here=$(cd "$(dirname "$0")" && pwd)
{
python3 "$here/elfsize.py" "$target" "$image" > "$out/size_image.txt"
python3 "$here/elfsize.py" "$target" "$base" > "$out/size_base.txt"
python3 - "$target" "$out/size_image.txt" "$out/size_base.txt" "$what" <<'PY'
import re, sys
def tr(path):
    d = dict(re.findall(r"(\w+)=(\d+)", open(path).read()))
    return int(d["text"]) + int(d["rodata"])
target, img, base, what = sys.argv[1], tr(sys.argv[2]), tr(sys.argv[3]), sys.argv[4]
print(f"library {target}: text+rodata={img - base} B (image {img} B - {what} {base} B)")
PY
} | tee "$out/library.txt"
"$nm" -S -C --size-sort "$bloat_image" > "$out/symbols.txt"
python3 "$here/bloat.py" "$target" 15 < "$out/symbols.txt" > "$out/bloat.txt"
