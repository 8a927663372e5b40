#!/usr/bin/env bash
# Instructions per DNS round trip on the client's loop thread, for the evquery engine and for the floor
# (DESIGN.md "Targets"), counted by valgrind's callgrind: `evq load --queries N` against `evq serve`,
# and the instructions of the thread that sends and receives (evquery: `Reactor.runLoop`; floor:
# `FloorSocketSet.run`) divided by N. Unlike seconds, the count repeats to within a few instructions
# per query whatever else the machine is doing, so it can tell a change of 1-2 % on this noisy VM.
# It does not see cache misses or the kernel: a time comparison still needs tools/compare-load.sh.
#
#   tools/instructions-per-query.sh [N] [OUTSTANDING]     (default 30000 queries, 100 outstanding)
#
# Env: SCRATCH (the build folder, default .build-release), EVQ (a prebuilt evq binary to use).
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
"$EVQ" serve --port "$port" --threads 1 --suffix "$suffix" >"$work/serve.log" 2>&1 &
server_pid=$!
sleep 0.5

printf '%-8s %8s %12s %26s\n' engine queries outstanding "loop instructions/query"
for engine in evquery floor; do
    valgrind --tool=callgrind --callgrind-out-file="$work/$engine.out" "$work/evq" load --engine "$engine" \
        --server "127.0.0.1:$port" --outstanding "$OUTSTANDING" --queries "$N" --duration 3600 \
        --datafile "$work/queries.txt" --cancel-rate 0 --quiet --json "$work/$engine.json" \
        >/dev/null 2>"$work/$engine.err" || { cat "$work/$engine.err" >&2; exit 1; }
    case $engine in
        evquery) loop='EventReactor0B0C7runLoop' ;;
        floor) loop='FloorSocketSetC3run6stopAt' ;;
    esac
    python3 - "$work/$engine.json" "$engine" "$N" "$OUTSTANDING" "$loop" "$work/$engine.out" <<'PY'
import json, re, subprocess, sys
report, engine, n, outstanding, loop, data = sys.argv[1:7]
r = json.load(open(report))
answered = r["outcomes"].get("answered", 0)
text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", data],
                      capture_output=True, text=True, check=True).stdout
counts = [int(m.group(1).replace(",", "")) for line in text.splitlines()
          if loop in line and (m := re.match(r"\s*([\d,]+)", line))]
if not counts or answered != int(n):
    sys.exit(f"instructions-per-query: {engine}: {answered} of {n} answered, loop function found: {bool(counts)}")
print(f"{engine:8} {int(n):8} {int(outstanding):12} {max(counts) / int(n):26.0f}")
PY
done
