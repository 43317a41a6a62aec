#!/usr/bin/env bash
# build/nodemcu-lua: picks build/nodemcu-lua51 or build/nodemcu-lua53
# (default) next to this script by the first argument.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# for scripts that need files of this build (e.g. the e2e driver's TLS cert)
export NODEMCU_LUA_DIR="$here"
ver=53
case "${1:-}" in
  --lua51) ver=51; shift ;;
  --lua53) ver=53; shift ;;
  --help|-h)
    echo "usage: nodemcu-lua [--lua51|--lua53] script.lua [args...]"
    echo "  --lua51  run on Lua 5.1.5 ($here/nodemcu-lua51)"
    echo "  --lua53  run on Lua 5.3.6 ($here/nodemcu-lua53) [default]"
    exec "$here/nodemcu-lua53" --help ;;
esac
exec "$here/nodemcu-lua$ver" "$@"
