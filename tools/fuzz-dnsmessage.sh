#!/usr/bin/env bash
# Fuzzes the DNSMessage parser for SECONDS (default 60): tools/fuzz.sh's `message` target.
# Usage: tools/fuzz-dnsmessage.sh [SECONDS=60]   (extra libFuzzer flags in EVQ_FUZZ_FLAGS)
exec "$(dirname "$0")/fuzz.sh" "${1:-60}" message
