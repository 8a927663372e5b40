#!/usr/bin/env bash
# The UDP offloads before and after, in the same run (docs/performance.md "The main job"): two
# `evq serve` at once, one with its UDP GRO/GSO (as it comes) and one with `--no-offload`; in each
# round the floor and evquery against each in turn: before = the responder without offloads and
# evquery with --no-receive-coalescing, after = both as they come. Prints one line per run:
#   label q/s CPU-s-per-million audit-ok replies-coalesced
# then evquery over the floor per round, before and after.
#
# Usage: tools/compare-offloads.sh [OUTSTANDING] [ROUNDS] [SECONDS]   (default 1000 3 5)
# Env: EVQ (a prebuilt evq; else built in release into .build-release).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000}
rounds=${2:-3}
duration=${3:-5}
if [[ -z "${EVQ:-}" ]]; then
    swift build -c release --scratch-path .build-release --product evq >&2
    EVQ=.build-release/release/evq
fi
work=$(mktemp -d /tmp/evq-compare-offloads.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
python3 -c "
with open('$work/queries.txt', 'w') as out:
    out.writelines(f'q{i}.load.evq.test A\n' for i in range(10000))"
free_port() { python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
after_port=$(free_port)
before_port=$(free_port)
"$EVQ" serve --port "$after_port" --threads 1 --suffix load.evq.test >"$work/after.log" 2>&1 &
pids+=($!)
"$EVQ" serve --port "$before_port" --threads 1 --suffix load.evq.test --no-offload >"$work/before.log" 2>&1 &
pids+=($!)
sleep 1
run() {  # label port engine [flags...]
    local label=$1 port=$2 engine=$3
    shift 3
    rm -f "$work/run.json"
    timeout $((duration * 3 + 30)) "$EVQ" load --engine "$engine" --server "127.0.0.1:$port" --outstanding "$n" \
        --duration "$duration" --datafile "$work/queries.txt" --cancel-rate 0 --quiet --json "$work/run.json" "$@" \
        >/dev/null 2>&1 || true
    python3 - "$work/run.json" "$label" <<'PY' | tee -a "$work/rows.txt"
import json, sys
try:
    report = json.load(open(sys.argv[1]))
except (OSError, ValueError):
    print(sys.argv[2], 0, 0, "FAILED", "-")
    sys.exit(0)
print(sys.argv[2], f"{report['qps']:.0f}", f"{report['cpu_seconds_per_million']:.2f}", report["audit"]["ok"],
      (report.get("sends") or {}).get("replies_coalesced", "-"))
PY
}
echo "offloads before/after: evq serve 1 thread, $n outstanding, $duration s runs, $rounds rounds; $(date -u +%FT%TZ)"
for _ in $(seq 1 "$rounds"); do
    run before-floor "$before_port" floor
    run before-evquery "$before_port" evquery --no-receive-coalescing
    run after-floor "$after_port" floor
    run after-evquery "$after_port" evquery
done
python3 - "$work/rows.txt" <<'PY'
import sys
rows = [line.split() for line in open(sys.argv[1])]
for side in ("before", "after"):
    floors = [float(r[1]) for r in rows if r[0] == f"{side}-floor"]
    ours = [float(r[1]) for r in rows if r[0] == f"{side}-evquery"]
    ratios = sorted(o / f for f, o in zip(floors, ours) if f > 0)
    if ratios:
        print(f"{side}: evquery/floor q/s per round {ratios[(len(ratios) - 1) // 2]:.2f}x "
              f"({ratios[0]:.2f}-{ratios[-1]:.2f})")
PY
