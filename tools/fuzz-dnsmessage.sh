#!/usr/bin/env bash
# Fuzzes the DNSMessage parser with libFuzzer + AddressSanitizer for a bounded time.
# Usage: tools/fuzz-dnsmessage.sh [SECONDS=60] [extra libFuzzer flags...]
# Builds .build-fuzz/dnsmessage-fuzzer from Sources/DNSMessage/*.swift and tools/fuzz/DNSMessageFuzzer.swift
# (no Package.swift target), seeds the corpus with Tests/DNSMessageTests/Fixtures/*.bin, keeps the
# grown corpus in .build-fuzz/corpus, and writes any crashing input to .build-fuzz/crash-*.
# Exit status: 0 if the run ended without a finding, libFuzzer's non-zero status otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
out=.build-fuzz
mkdir -p "$out/corpus"
swiftc -O -parse-as-library -sanitize=fuzzer,address -module-name DNSMessageFuzzer \
  Sources/DNSMessage/*.swift tools/fuzz/DNSMessageFuzzer.swift -o "$out/dnsmessage-fuzzer"
cp Tests/DNSMessageTests/Fixtures/*.bin "$out/corpus/"
"$out/dnsmessage-fuzzer" -max_total_time="$seconds" -max_len=4096 -timeout=5 -rss_limit_mb=1024 \
  -artifact_prefix="$out/crash-" -print_final_stats=1 "$@" "$out/corpus"
