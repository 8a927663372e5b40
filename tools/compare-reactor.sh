#!/usr/bin/env bash
# Reactor vs SwiftNIO's event loop, same machine, same run (docs/performance.md "Targets"):
#   start+cancel of a timer operation on the loop   target ≤ 0.5× NIO
#   cancel one of 1,000,000 outstanding             target ≤ 0.1× NIO
#   RSS per outstanding operation at 1,000,000      target ≤ 128 B (NIO shown for scale)
#   cross-thread cancel latency vs the raw eventfd wake (evq cancel-latency)
# Builds `evq` and tools/nio-peer (SwiftNIO from the machine's package mirror) in release mode.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh
swift build -c release --product evq >&2
(cd tools/nio-peer && swift build -c release --scratch-path ../../.build-nio-peer >&2)
evq_out=$(.build/release/evq reactor-probe)
nio_out=$(.build-nio-peer/release/NIOPeer)
value() { echo "$1" | awk -v k="$2" '$1 == k { print $2 }'; }
printf '%-34s %14s %14s %10s %s\n' measure evquery SwiftNIO ratio target
row() {
  local key=$1 label=$2 target=$3
  local e n
  e=$(value "$evq_out" "$key"); n=$(value "$nio_out" "$key")
  printf '%-34s %14.1f %14.1f %9.4fx %s\n' "$label" "$e" "$n" "$(echo "$e / $n" | bc -l)" "$target"
}
row start_cancel_pair_ns "start+cancel pair on loop (ns)" "<= 0.5x"
row cancel_one_of_1m_ns "cancel one of 1,000,000 (ns)" "<= 0.1x"
row rss_bytes_per_op_at_1m "RSS/op at 1,000,000 (bytes)" "<= 128 B"
echo
.build/release/evq cancel-latency --samples "${SAMPLES:-5000}"
