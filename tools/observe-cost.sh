#!/usr/bin/env bash
# The cost of observability (docs/performance.md): the same `evq load` with swift-metrics and swift-log
# off, then on (EVQ_OBSERVE=1: a Prometheus registry scraped every second, a logger at .notice).
#
# 1. Instructions, counted by valgrind's callgrind (they repeat to within a few per query whatever
#    else the machine does, where CPU seconds do not): `evq load --queries N --outstanding 100`, and
#    2N, against a separate `evq serve`, off then on, in one run; the difference of the two runs is
#    N queries' work, without the process's start and end. Printed per query: the loop thread's
#    instructions (`Reactor.runLoop`: the counting on the loop, and its ticks). The whole process's
#    count is not printed: under valgrind, some 50x slower, the timer-driven work of every thread
#    (snapshots, the scrape, the load's own once-a-second report) falls on 50x fewer queries than at
#    full speed and swamps the per-query work (18-19 k instructions a query, varying run to run).
# 2. CPU seconds per million queries, ROUNDS interleaved rounds off/on at full speed, and the
#    median ratio.
#
#   tools/observe-cost.sh [ROUNDS] [evq load arguments...]   (default: 3, --duration 5 --outstanding 1000;
#                                                            ROUNDS 0: the instruction count only)
# Env: EVQ (default .build-release/release/evq, built if missing), QUERIES (the counted runs' queries,
# default 20000; 0 skips the instruction count).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
shift || true
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--duration 5 --outstanding 1000)
queries=${QUERIES:-20000}
evq=${EVQ:-.build-release/release/evq}
[ -x "$evq" ] || swift build -c release --product evq --scratch-path .build-release
out=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$out"
}
trap cleanup EXIT

if [ "$queries" -gt 0 ]; then
  command -v valgrind >/dev/null || tools/install-deps.sh valgrind
  # valgrind 3.19 (Debian 12) cannot read Swift's DWARF 5: count on a copy without debug info (symbols stay).
  objcopy --strip-debug "$evq" "$out/evq"
  suffix=load.evq.test
  python3 -c "
with open('$out/queries.txt', 'w') as f:
    f.writelines(f'q{i}.$suffix A\n' for i in range(10000))"
  port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  "$evq" serve --port "$port" --threads 1 --suffix "$suffix" >"$out/serve.log" 2>&1 &
  server_pid=$!
  sleep 0.5
  # Each mode at N and 2N queries: the difference is N queries' work, without the start and the end.
  for mode in off on; do
    observe=0
    [ "$mode" = on ] && observe=1
    for n in "$queries" $((2 * queries)); do
      EVQ_OBSERVE=$observe valgrind --tool=callgrind --callgrind-out-file="$out/$mode-$n.out" "$out/evq" load \
        --server "127.0.0.1:$port" --outstanding 100 --queries "$n" --duration 3600 --timeout 30 \
        --datafile "$out/queries.txt" --cancel-rate 0 --quiet --json "$out/count-$mode-$n.json" \
        >/dev/null 2>"$out/$mode.err" || { cat "$out/$mode.err" >&2; exit 1; }
    done
  done
  python3 - "$out" "$queries" <<'PY'
import json, re, subprocess, sys
out, n = sys.argv[1], int(sys.argv[2])
def counts(mode, queries):
    report = json.load(open(f"{out}/count-{mode}-{queries}.json"))
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", "--show=Ir",
                           "--show-percs=no", f"{out}/{mode}-{queries}.out"],
                          capture_output=True, text=True, check=True).stdout
    total = loop = None
    for line in text.splitlines():
        count = re.match(r"\s*([\d,]+)\s", line)
        if count and "PROGRAM TOTALS" in line:
            total = int(count.group(1).replace(",", ""))
        elif count and "EventReactor0B0C7runLoop" in line:
            loop = max(loop or 0, int(count.group(1).replace(",", "")))
    answered = report["outcomes"].get("answered", 0)
    if total is None or loop is None or not report["audit"]["ok"] or answered != queries:
        sys.exit(f"observe-cost: {mode}, {queries} queries: totals {total}, loop {loop}, "
                 f"audit ok {report['audit']['ok']}, {answered} answered")
    return total, loop
figures = {}
for mode in ("off", "on"):
    (total1, loop1), (total2, loop2) = counts(mode, n), counts(mode, 2 * n)
    figures[mode] = ((total2 - total1) / n, (loop2 - loop1) / n)
    print(f"loop instructions per query, observability {mode:3}: {figures[mode][1]:6.0f} "
          f"(the runs of {n} and {2 * n} queries, differenced)")
off, on = figures["off"], figures["on"]
print(f"loop instructions per query, on/off: {on[1] / off[1]:.3f}x")
PY
fi

[ "$rounds" -gt 0 ] || exit 0
for round in $(seq "$rounds"); do
  "$evq" load "${args[@]}" --json "$out/off-$round.json" >/dev/null 2>"$out/off.err" || { cat "$out/off.err" >&2; exit 1; }
  EVQ_OBSERVE=1 "$evq" load "${args[@]}" --json "$out/on-$round.json" >/dev/null 2>"$out/on.err" ||
    { cat "$out/on.err" >&2; exit 1; }
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
