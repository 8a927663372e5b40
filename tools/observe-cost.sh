#!/usr/bin/env bash
# The cost of observability (docs/performance.md): the same `evq load` run with swift-metrics and
# swift-log off, then on (EVQ_OBSERVE=1: a Prometheus registry scraped every second, a logger at
# .notice), interleaved for ROUNDS rounds in one session; prints each round's client CPU seconds
# per million queries and q/s, and the median ratio on/off.
#   tools/observe-cost.sh [ROUNDS] [evq load arguments...]   (default: 3, --duration 5 --outstanding 1000)
# Env: EVQ (default .build-release/release/evq, built if missing).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--duration 5 --outstanding 1000)
evq=${EVQ:-.build-release/release/evq}
[ -x "$evq" ] || swift build -c release --product evq --scratch-path .build-release
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for round in $(seq "$rounds"); do
  "$evq" load "${args[@]}" --json "$out/off-$round.json" >/dev/null
  EVQ_OBSERVE=1 "$evq" load "${args[@]}" --json "$out/on-$round.json" >/dev/null
done
python3 - "$out" "$rounds" <<'PY'
import json, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
ratios = []
for r in range(1, rounds + 1):
    off = json.load(open(f"{out}/off-{r}.json")); on = json.load(open(f"{out}/on-{r}.json"))
    ratio = on["cpu_seconds_per_million"] / off["cpu_seconds_per_million"]
    ratios.append(ratio)
    print(f"round {r}: off {off['cpu_seconds_per_million']:.3f} s/M at {off['qps']:.0f} q/s, "
          f"on {on['cpu_seconds_per_million']:.3f} s/M at {on['qps']:.0f} q/s: {ratio:.3f}x "
          f"(audit {on['audit']['ok'] and off['audit']['ok']})")
print(f"median CPU per query, on/off: {statistics.median(ratios):.3f}x")
PY
