#!/usr/bin/env bash
# DNSQueryTests start a private knotd on 127.0.0.1 (tools/knot-server.sh): install knot and kdig.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/install-dns-peers.sh
