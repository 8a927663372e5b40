#!/usr/bin/env bash
# Builds every libFuzzer target and runs each for a bounded time; the test command's fuzz step.
#
# Usage: tools/fuzz.sh [SECONDS_EACH=20] [TARGET...]
#   TARGETs (default: all): message zone (DNSMessage: packets, zone files) and rfc3164 rfc5424
#   jsonl filter bookmark (LogQuery: log lines of each format, the filter language, bookmarks).
#   Extra libFuzzer flags go in EVQ_FUZZ_FLAGS (e.g. EVQ_FUZZ_FLAGS=-runs=100000000).
#
# - Two binaries in .build-fuzz/, built with -sanitize=fuzzer,address: the DNSMessage sources with
#   tools/fuzz/DNSMessageFuzzer.swift, and the LogQuery sources with tools/fuzz/LogQueryFuzzer.swift
#   (compiled together, so internals are reachable; EventReactor, LinuxSystem, Atomics, swift-log,
#   swift-metrics' CoreMetrics and the C shims are
#   linked from the package's debug build, which this builds first if it is missing). A source
#   change that breaks a fuzzer fails this script, and so the test command.
# - Each target starts from its seed corpus tools/fuzz/corpus/TARGET/ (in the repository) plus
#   what earlier runs grew in .build-fuzz/corpus/TARGET/; a crashing input is written to
#   .build-fuzz/crash-TARGET-*.
# Exit status: 0 when every target ran its time without a finding; non-zero on a build failure or
# a finding (the crash input's path is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
all=(message zone rfc3164 rfc5424 jsonl filter bookmark)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
out=.build-fuzz
mkdir -p "$out"
flags=(-O -parse-as-library -sanitize=fuzzer,address -package-name evquery -suppress-warnings)

needs() { for t in "${targets[@]}"; do case " $* " in *" $t "*) return 0 ;; esac; done; return 1; }

if needs message zone; then
  echo "== fuzz: building $out/dnsmessage-fuzzer"
  swiftc "${flags[@]}" -module-name DNSMessageFuzzer Sources/DNSMessage/*.swift tools/fuzz/DNSMessageFuzzer.swift \
    -o "$out/dnsmessage-fuzzer" 2> >(grep -v "Cannot export local symbol" >&2)
fi
if needs rfc3164 rfc5424 jsonl filter bookmark; then
  bin=$(swift build --show-bin-path)
  [ -d "$bin/Modules/EventReactor.swiftmodule" ] || [ -f "$bin/Modules/EventReactor.swiftmodule" ] \
    || swift build --target LogQuery
  # The LogQuery sources reach EventReactor's `package` API, so they are compiled under the package
  # name SwiftPM gave the debug build (it comes from the checkout's folder name).
  package=$(grep -m1 '"-module-name","EventReactor"' .build/debug.yaml | grep -o '"-package-name","[^"]*"' | cut -d'"' -f4)
  [ -n "$package" ] || { echo "fuzz: no -package-name for EventReactor in .build/debug.yaml" >&2; exit 1; }
  echo "== fuzz: building $out/logquery-fuzzer"
  mapfile -t objects < <(find "$bin"/{EventReactor,LinuxSystem,Atomics,_AtomicsShims,CSystemShims,Logging,CoreMetrics}.build -name '*.o')
  swiftc "${flags[@]}" -package-name "$package" -module-name LogQueryFuzzer -I "$bin/Modules" \
    -Xcc -fmodule-map-file=Sources/CLibevent/module.modulemap -Xcc -fmodule-map-file=Sources/CZlib/module.modulemap \
    -Xcc -fmodule-map-file=Sources/CPCRE2/module.modulemap \
    -Xcc -fmodule-map-file=Sources/COpenSSL/module.modulemap \
    -Xcc -fmodule-map-file="$bin/CSystemShims.build/module.modulemap" -Xcc -ISources/CSystemShims/include \
    -Xcc -fmodule-map-file=.build/checkouts/swift-atomics/Sources/_AtomicsShims/include/module.modulemap \
    Sources/LogQuery/*.swift tools/fuzz/LogQueryFuzzer.swift \
    "${objects[@]}" \
    $(pkg-config --libs libevent_pthreads libevent_openssl openssl) -lz -lpcre2-8 \
    -o "$out/logquery-fuzzer" 2> >(grep -v "Cannot export local symbol" >&2)
fi

status=0
for target in "${targets[@]}"; do
  leaks=1
  case $target in
    message | zone) binary=$out/dnsmessage-fuzzer ;;
    # Without leak detection: compiling a filter's `~` pattern with Swift's Regex leaked its syntax
    # tree's boxes inside the toolchain's _StringProcessing, which failed every run of these targets.
    # `~` is PCRE2 since 2026-12-07 (its match data per thread lives until the thread ends); leak
    # detection has not been tried again since.
    rfc3164 | rfc5424 | jsonl | filter | bookmark) binary=$out/logquery-fuzzer leaks=0 ;;
    *) echo "fuzz: unknown target $target (one of: ${all[*]})" >&2; exit 2 ;;
  esac
  mkdir -p "$out/corpus/$target"
  echo "== fuzz: $target for ${seconds}s"
  # shellcheck disable=SC2086
  if ! ASAN_OPTIONS=detect_leaks=$leaks EVQ_FUZZ_TARGET=$target "$binary" -max_total_time="$seconds" \
      -detect_leaks=$leaks -max_len=4096 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$out/crash-$target-" -print_final_stats=1 ${EVQ_FUZZ_FLAGS:-} \
      "$out/corpus/$target" "tools/fuzz/corpus/$target" > "$out/$target.log" 2>&1; then
    echo "fuzz: $target FOUND A PROBLEM (log $out/$target.log):" >&2
    tail -n 40 "$out/$target.log" >&2
    status=1
  fi
  grep -E "^stat::number_of_executed_units|^stat::average_exec_per_sec" "$out/$target.log" \
    | sed "s/^/  $target /" || true
done
exit $status
