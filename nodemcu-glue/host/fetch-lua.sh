#!/usr/bin/env bash
# Copies the official Lua 5.1.5 and 5.3.6 sources out of the `lua-src` crate
# (crates.io, pinned by luasrc/Cargo.lock) into $1/lua-5.1.5 and $1/lua-5.3.6.
# Uses only cargo: `cargo fetch` downloads the crate into the cargo registry
# cache, `cargo metadata` tells where it was unpacked.
set -euo pipefail
out=${1:?usage: fetch-lua.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
manifest=$here/luasrc/Cargo.toml
cargo fetch --locked --manifest-path "$manifest" >&2
dir=$(cargo metadata --locked --offline --format-version 1 --manifest-path "$manifest" |
  python3 -c 'import json,sys,os
d=json.load(sys.stdin)
print(next(os.path.dirname(p["manifest_path"]) for p in d["packages"] if p["name"]=="lua-src"))')
mkdir -p "$out"
for v in 5.1.5 5.3.6; do
  [ -f "$dir/lua-$v/lua.h" ] || { echo "fetch-lua.sh: no lua-$v in $dir" >&2; exit 1; }
  rm -rf "$out/lua-$v"
  cp -r "$dir/lua-$v" "$out/lua-$v"
  rm -f "$out/lua-$v/lua.c" "$out/lua-$v/luac.c"
done
echo "fetch-lua.sh: Lua sources from $dir copied to $out" >&2
