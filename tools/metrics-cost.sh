#!/usr/bin/env bash
# The cost of live metrics (docs/fleet.md): the same evq load run without and with
# `--metrics-listen`, the latter scraped once a second, in alternating rounds of one run each, and
# the client's CPU seconds per million queries of each (the embedded responder's threads are not
# counted), and of the latter the share of the metrics' own threads (the publisher and the endpoint's
# reactor, which evq load prints). Prints each round and the medians' ratios. Bounded: ROUNDS × 2 runs
# of SECONDS (× 3 with BEFORE).
# PERIOD: seconds between the metrics' readings of the run (evq load --metrics-period; default 1).
# BEFORE=OTHER_EVQ (environment): each round also runs OTHER_EVQ with metrics on, at its default
# period, so that a change is measured before and after in the same run.
# Usage: [BEFORE=OTHER_EVQ] tools/metrics-cost.sh [EVQ] [ROUNDS] [SECONDS] [OUTSTANDING] [PERIOD]
set -euo pipefail
cd "$(dirname "$0")/.."
evq=${1:-.build/release/evq}
rounds=${2:-5}
seconds=${3:-5}
outstanding=${4:-100}
period=${5:-1}
before=${BEFORE:-}
port=$(( 19100 + $$ % 800 ))
work=$(mktemp -d /tmp/evq-metrics-cost.XXXXXX)
scraper=""
trap '[ -n "$scraper" ] && kill "$scraper" 2>/dev/null; rm -rf "$work"' EXIT
cpu() { python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["cpu_seconds_per_million"], r["sent"], r["audit"]["ok"])' "$1"; }
threads() { sed -n 's/.*metrics  *their threads used .* = \([0-9.]*\) s per million queries/\1/p' "$1"; }
# A run of `$1 load` with metrics, scraped by curl once a second for as long as it lasts and no longer.
scraped() {
  local binary=$1 name=$2; shift 2
  ( for _ in $(seq $(( seconds + 3 ))); do sleep 1; curl -fs -o /dev/null "http://127.0.0.1:$port/metrics" || true; done ) &
  scraper=$!
  "$binary" load --outstanding "$outstanding" --duration "$seconds" --quiet --json "$work/$name.json" \
    --metrics-listen "127.0.0.1:$port" "$@" >"$work/$name.txt" 2>&1
  kill "$scraper" 2>/dev/null || true; wait "$scraper" 2>/dev/null || true; scraper=""
}
periodFlag=(); [ "$period" != 1 ] && periodFlag=(--metrics-period "$period")
off=(); on=(); share=(); old=(); oldShare=()
for round in $(seq "$rounds"); do
  "$evq" load --outstanding "$outstanding" --duration "$seconds" --quiet --json "$work/off.json" >/dev/null
  scraped "$evq" on "${periodFlag[@]}"
  read -r a sa oka < <(cpu "$work/off.json"); read -r b sb okb < <(cpu "$work/on.json")
  t=$(threads "$work/on.txt")
  line="round $round: without $a s/M ($sa queries, audit $oka); with metrics (read every ${period} s, scraped 1/s): $b s/M ($sb queries, audit $okb), of which the metrics' threads $t s/M"
  off+=("$a"); on+=("$b"); share+=("$t")
  if [ -n "$before" ]; then
    scraped "$before" before
    read -r c sc okc < <(cpu "$work/before.json"); u=$(threads "$work/before.txt")
    line+="; before: $c s/M ($sc queries, audit $okc), its metrics' threads $u s/M"
    old+=("$c"); oldShare+=("$u")
  fi
  echo "$line"
done
python3 - "${off[*]}" "${on[*]}" "${share[*]}" "${old[*]:-}" "${oldShare[*]:-}" <<'PY'
import statistics, sys
def floats(text): return [float(x) for x in text.split()]
off, on, share, old, old_share = (floats(arg) for arg in sys.argv[1:6])
a, b, t = statistics.median(off), statistics.median(on), statistics.median(share)
print(f"median CPU per million queries: without {a:.3f} s, with metrics {b:.3f} s: {b / a:.3f}x; "
      f"the metrics' threads {t:.3f} s/M = {100 * t / a:.1f} % of without")
if old:
    c, u = statistics.median(old), statistics.median(old_share)
    print(f"before: with metrics {c:.3f} s: {c / a:.3f}x; its metrics' threads {u:.3f} s/M = {100 * u / a:.1f} % of without")
PY
