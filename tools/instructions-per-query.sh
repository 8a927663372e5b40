#!/usr/bin/env bash
# Instructions per DNS round trip on the client's loop thread, for the evquery engine and for the floor
# (docs/performance.md "Targets"), counted by valgrind's callgrind: `evq load --queries N` against `evq serve`,
# and the instructions of the thread that sends and receives (evquery: `Reactor.runLoop`; floor:
# `FloorSocketSet.run`) divided by N. Unlike seconds, the count repeats to within a few instructions
# per query whatever else the machine is doing, so it can tell a change of 1-2 % on this noisy VM.
# It does not see the kernel, nor (by default) cache misses: a time comparison still needs
# tools/compare-load.sh. With CACHE=1 it also simulates this machine's per-core caches (32 KiB L1d,
# 512 KiB L2 as the last level; valgrind's model has no prefetcher, so a sequential stream counts as
# misses a real core would mostly not take) and prints data misses per round trip: at 1,000
# outstanding a query's state is out of L2 by the time its reply comes, and misses there cost more
# than instructions do.
#
#   tools/instructions-per-query.sh [N] [OUTSTANDING]     (default 30000 queries, 100 outstanding)
#
# Env: SCRATCH (the build folder, default .build-release), EVQ (a prebuilt evq binary to use),
# CACHE=1 (the cache simulation, about twice as slow), SERVE_FLAGS (more `evq serve` flags, e.g.
# --no-offload), LOAD_FLAGS (more `evq load` flags for the evquery engine, e.g. --no-receive-coalescing).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-30000}
OUTSTANDING=${2:-100}
SCRATCH=${SCRATCH:-.build-release}
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind >/dev/null; }
if [[ -z "${EVQ:-}" ]]; then
    swift build -c release --scratch-path "$SCRATCH" --product evq >&2
    EVQ="$SCRATCH/release/evq"
fi

work=$(mktemp -d /tmp/evq-instructions.XXXXXX)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# valgrind 3.19 (Debian 12) cannot read Swift's DWARF 5: count on a copy without debug info (symbols stay).
objcopy --strip-debug "$EVQ" "$work/evq"
suffix=load.evq.test
python3 -c "
import sys
with open('$work/queries.txt', 'w') as out:
    out.writelines(f'q{i}.$suffix A\n' for i in range(10000))"
port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
read -r -a serve_flags <<<"${SERVE_FLAGS:-}"
read -r -a load_flags <<<"${LOAD_FLAGS:-}"
"$EVQ" serve --port "$port" --threads 1 --suffix "$suffix" "${serve_flags[@]}" >"$work/serve.log" 2>&1 &
server_pid=$!
sleep 0.5

cache_options=()
if [ "${CACHE:-0}" = 1 ]; then
    cache_options=(--cache-sim=yes --I1=32768,8,64 --D1=32768,8,64 --LL=524288,8,64)
    printf '%-8s %8s %12s %26s %18s %18s\n' engine queries outstanding "loop instructions/query" \
        "L1d misses/query" "L2 misses/query"
else
    printf '%-8s %8s %12s %26s\n' engine queries outstanding "loop instructions/query"
fi
for engine in evquery floor; do
    extra=()
    if [ "$engine" = evquery ]; then extra=("${load_flags[@]}"); fi
    valgrind --tool=callgrind "${cache_options[@]}" --callgrind-out-file="$work/$engine.out" "$work/evq" load \
        --engine "$engine" \
        --server "127.0.0.1:$port" --outstanding "$OUTSTANDING" --queries "$N" --duration 3600 \
        --datafile "$work/queries.txt" --cancel-rate 0 --quiet --json "$work/$engine.json" "${extra[@]}" \
        >/dev/null 2>"$work/$engine.err" || { cat "$work/$engine.err" >&2; exit 1; }
    case $engine in
        evquery) loop='EventReactor0B0C7runLoop' ;;
        floor) loop='FloorSocketSetC3run6stopAt' ;;
    esac
    python3 - "$work/$engine.json" "$engine" "$N" "$OUTSTANDING" "$loop" "$work/$engine.out" "${CACHE:-0}" <<'PY'
import json, re, subprocess, sys
report, engine, n, outstanding, loop, data, cache = sys.argv[1:8]
r = json.load(open(report))
answered = r["outcomes"].get("answered", 0)
events = "Ir,D1mr,D1mw,DLmr,DLmw" if cache == "1" else "Ir"
text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", f"--show={events}",
                       "--sort=Ir", "--show-percs=no", data], capture_output=True, text=True, check=True).stdout
rows = []
for line in text.splitlines():
    if loop not in line:
        continue
    # One column per event, before the function's name: a count, or "." for none.
    columns = []
    for token in line.split():
        if not re.fullmatch(r"[\d,]+|\.", token):
            break
        columns.append(0 if token == "." else int(token.replace(",", "")))
    if len(columns) == len(events.split(",")):
        rows.append(columns)
if not rows or answered != int(n):
    sys.exit(f"instructions-per-query: {engine}: {answered} of {n} answered, loop function found: {bool(rows)}")
row = max(rows)
line = f"{engine:8} {int(n):8} {int(outstanding):12} {row[0] / int(n):26.0f}"
if cache == "1":
    line += f" {(row[1] + row[2]) / int(n):18.2f} {(row[3] + row[4]) / int(n):18.2f}"
print(line)
PY
done
