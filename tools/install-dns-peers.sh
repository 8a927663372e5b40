#!/usr/bin/env bash
# Installs the DNS peers evquery tests and benchmarks against (Debian), only when missing:
#   knot (knotd, the reference authoritative server), knot-dnsutils (kdig),
#   bind9-dnsutils (dig), dnsperf (load peer).
# Usage: tools/install-dns-peers.sh
# Runs `apt-get update` first when something is missing; non-interactive; waits for the dpkg lock.
set -euo pipefail
need=(knot knot-dnsutils bind9-dnsutils dnsperf)
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
