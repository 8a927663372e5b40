#!/usr/bin/env bash
# The cost of live metrics (docs/fleet.md): the same evq load run without and with
# `--metrics-listen`, the latter scraped once a second, in alternating rounds of one run each, and
# the client's CPU seconds per million queries of each (the embedded responder's threads are not
# counted), and of the latter the share of the metrics' own threads (the publisher and the endpoint's
# reactor, which evq load prints). Prints each round and the ratio of the medians. Bounded: ROUNDS × 2 runs of SECONDS.
# Usage: tools/metrics-cost.sh [EVQ] [ROUNDS] [SECONDS] [OUTSTANDING]
set -euo pipefail
cd "$(dirname "$0")/.."
evq=${1:-.build/release/evq}
rounds=${2:-5}
seconds=${3:-5}
outstanding=${4:-100}
port=$(( 19100 + $$ % 800 ))
work=$(mktemp -d /tmp/evq-metrics-cost.XXXXXX)
scraper=""
trap '[ -n "$scraper" ] && kill "$scraper" 2>/dev/null; rm -rf "$work"' EXIT
cpu() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["cpu_seconds_per_million"], r["sent"], r["audit"]["ok"])' "$1"; }
off=(); on=()
for round in $(seq "$rounds"); do
  "$evq" load --outstanding "$outstanding" --duration "$seconds" --quiet --json "$work/off.json" >/dev/null
  # A scraper: one GET a second, for as long as the run lasts and no longer.
  ( for _ in $(seq $(( seconds + 3 ))); do sleep 1; curl -fs -o /dev/null "http://127.0.0.1:$port/metrics" || true; done ) &
  scraper=$!
  "$evq" load --outstanding "$outstanding" --duration "$seconds" --quiet --json "$work/on.json" \
    --metrics-listen "127.0.0.1:$port" >"$work/on.txt" 2>&1
  kill "$scraper" 2>/dev/null || true; wait "$scraper" 2>/dev/null || true; scraper=""
  read -r a sa oka < <(cpu "$work/off.json"); read -r b sb okb < <(cpu "$work/on.json")
  threads=$(sed -n 's/.*metrics  *their threads used .* = \([0-9.]*\) s per million queries/\1/p' "$work/on.txt")
  echo "round $round: without $a s/M ($sa queries, audit $oka); with metrics, scraped 1/s: $b s/M ($sb queries, audit $okb), of which the metrics' threads $threads s/M"
  off+=("$a"); on+=("$b")
done
python3 - "${off[*]}" "${on[*]}" <<'PY'
import statistics, sys
off = [float(x) for x in sys.argv[1].split()]; on = [float(x) for x in sys.argv[2].split()]
a, b = statistics.median(off), statistics.median(on)
print(f"median CPU per million queries: without {a:.3f} s, with metrics scraped 1/s {b:.3f} s: {b / a:.3f}x")
PY
