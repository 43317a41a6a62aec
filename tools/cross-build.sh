#!/usr/bin/env bash
# Usage: tools/cross-build.sh BUILD_DIR TARGET [cargo prefix args...]
# Builds the LTO'd staticlib for TARGET, copies it to BUILD_DIR/cross/TARGET/,
# runs the no-core::fmt check and prints the .text size of the library code.
set -euo pipefail
build=$1 target=$2; shift 2
cargo=("${@:-cargo}")
extra=()
case "$target" in xtensa-*) extra=(-Zbuild-std=core) ;; esac
if [ "${cargo[0]}" = cargo ] && [ ${#cargo[@]} -eq 1 ]; then
  rustup target list --installed | grep -qx "$target" || rustup target add "$target"
fi
"${cargo[@]}" rustc -q --release --lib --crate-type staticlib --target "$target" "${extra[@]}"
out="$build/cross/$target"
mkdir -p "$out"
cp "target/$target/release/libwebsocket.a" "$out/libwebsocket.a"
"$(dirname "$0")/check-no-fmt.sh" "$out/libwebsocket.a"
"$(dirname "$0")/text-size.sh" "$out/libwebsocket.a"
