#!/usr/bin/env bash
# Installs the system packages evquery builds and tests against (Debian), only when missing.
# Usage: tools/install-deps.sh [extra-debian-package ...]
set -euo pipefail
need=(libevent-dev pkg-config zlib1g-dev libpcre2-dev libssl-dev libnghttp2-dev "$@")
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get -o DPkg::Lock::Timeout=300 update -qq >&2
  $SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
