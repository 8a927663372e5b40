#!/usr/bin/env bash
# Installs the DNS peers evquery tests and benchmarks against (Debian), only when missing:
#   knot (knotd, the reference authoritative server), knot-dnsutils (kdig),
#   bind9-dnsutils (dig), dnsperf (load peer), libc-ares-dev and gcc (tools/cares-load, the c-ares
#   load peer), unbound (the TCP/DoT/DoH peer), and openssl and curl (the stream tests make a
#   self-signed certificate and send DoH requests with them).
# Usage: tools/install-dns-peers.sh
# Delegates to tools/install-deps.sh (apt-get update first, non-interactive, waits for the dpkg lock),
# which also makes sure the build's own packages are there.
set -euo pipefail
exec "$(dirname "$0")/install-deps.sh" knot knot-dnsutils bind9-dnsutils dnsperf libc-ares-dev gcc unbound openssl curl
