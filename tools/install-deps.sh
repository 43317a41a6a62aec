#!/usr/bin/env bash
# Installs what the build and the tests need, only what is missing.
#   tools/install-deps.sh --apt "PKG..." --rustup "TARGET..." --toolchains "TC..." --cargo "CRATE:BIN..."
# Called by `make deps` with the lists the mk/ fragments declare. Debian
# packages need root (or password-less sudo); `apt-get update` runs once, only
# when something is to be installed.
set -euo pipefail
apt=() rustup_targets=() toolchains=() cargo_tools=()
while [ $# -gt 0 ]; do
  case "$1" in
    --apt) read -r -a apt <<<"$2"; shift 2 ;;
    --rustup) read -r -a rustup_targets <<<"$2"; shift 2 ;;
    --toolchains) read -r -a toolchains <<<"$2"; shift 2 ;;
    --cargo) read -r -a cargo_tools <<<"$2"; shift 2 ;;
    *) echo "install-deps: unknown argument $1" >&2; exit 2 ;;
  esac
done

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

# Debian packages.
missing=()
for p in "${apt[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${missing[*]}"
  extra=()
  # Debian 12's qemu-system-* (7.2) cannot sit beside a newer qemu-utils from
  # backports that some images ship: take qemu-utils at the same version.
  for p in "${missing[@]}"; do
    case "$p" in qemu-system-*)
      v=$(apt-cache policy qemu-system-common 2>/dev/null | sed -n 's/^ *Candidate: //p')
      if [ -z "$v" ] || [ "$v" = "(none)" ]; then
        as_root apt-get update -q >/dev/null
        v=$(apt-cache policy qemu-system-common | sed -n 's/^ *Candidate: //p')
      fi
      if dpkg-query -W -f='${Status}' qemu-utils 2>/dev/null | grep -q 'install ok installed'; then
        extra=(--allow-downgrades "qemu-utils=$v")
      fi
      break ;;
    esac
  done
  inst() { DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -q --no-install-recommends "${extra[@]}" "${missing[@]}" >/tmp/install-deps.$$.log 2>&1; }
  if ! inst; then
    as_root apt-get update -q >/dev/null
    inst || { cat /tmp/install-deps.$$.log; rm -f /tmp/install-deps.$$.log; exit 1; }
  fi
  rm -f /tmp/install-deps.$$.log
fi

# rustup targets (stable) and toolchains.
if [ ${#rustup_targets[@]} -gt 0 ]; then
  have=$(rustup target list --installed)
  for t in "${rustup_targets[@]}"; do
    grep -qx "$t" <<<"$have" || rustup target add "$t"
  done
fi
for tc in "${toolchains[@]}"; do
  rustup toolchain list | grep -q "^$tc" || rustup toolchain install "$tc" --profile minimal
done

# cargo tools.
for ct in "${cargo_tools[@]}"; do
  crate=${ct%%:*} bin=${ct##*:}
  command -v "$bin" >/dev/null 2>&1 || cargo install -q "$crate" --locked
done
