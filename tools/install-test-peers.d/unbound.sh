#!/usr/bin/env bash
# DNSQueryTests' transport tests start a private unbound on 127.0.0.1 (tools/unbound-server.sh) with
# UDP, TCP, TLS and HTTPS ports: install unbound (Debian's is built with libnghttp2, so it serves DoH)
# and openssl (the script makes a self-signed certificate).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v unbound >/dev/null && command -v openssl >/dev/null && exit 0
tools/install-deps.sh unbound openssl
