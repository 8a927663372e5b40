#!/usr/bin/env bash
# The responder against a real fast server, same load, same run (docs/performance.md "Targets": evq serve
# answers at least knot's rate at no more CPU per query). dnsperf asks the same datafile of knotd
# (one UDP worker, a zone holding every name of the datafile) and of `evq serve --threads 1`
# (names answered by synthesis), R rounds interleaved; the table shows each server's median.
#
# Usage: tools/responder-vs-knot.sh [--duration S] [--clients C] [--outstanding Q] [--rounds R]
#   dnsperf -c C -q Q -l S (default: 2 clients, 500 outstanding, 5 s, 3 rounds)
# Server CPU is user+system ticks of the server process (/proc/PID/stat) over the dnsperf run.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=tools/server-lib.sh
source tools/server-lib.sh

duration=5 clients=2 outstanding=500 rounds=3 names=10000
parse_load_flags "$@"

command -v dnsperf >/dev/null && command -v knotd >/dev/null && command -v kdig >/dev/null \
    || tools/install-dns-peers.sh
swift build -c release --scratch-path .build-release --product evq >&2
evq=.build-release/release/evq

work=$(mktemp -d /tmp/evq-responder-vs-knot.XXXXXX)
serve_pid=""
cleanup() {
    tools/knot-server.sh stop "$work/knot" >/dev/null 2>&1 || true
    if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# One datafile; a knot zone with the same names (explicit records, as a real zone has).
{
    echo '$ORIGIN load.evq.test.'
    echo '$TTL 300'
    echo '@ IN SOA ns.load.evq.test. admin.load.evq.test. 1 3600 600 86400 300'
    echo '@ IN NS ns'
    echo 'ns IN A 127.0.0.1'
    for ((i = 0; i < names; i++)); do echo "q$i IN A 198.18.$((i / 256 % 256)).$((i % 256))"; done
} >"$work/load.evq.test.zone"
for ((i = 0; i < names; i++)); do echo "q$i.load.evq.test A"; done >"$work/queries.txt"

knot_port=$((20000 + RANDOM % 10000))
serve_port=$((knot_port + 1))
KNOT_UDP_WORKERS=1 tools/knot-server.sh start "$work/knot" "$knot_port" "$work/load.evq.test.zone" >&2
knot_pid=$(cat "$work/knot/knotd.pid")
"$evq" serve --port "$serve_port" --threads 1 >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do grep -q "answering on" "$work/serve.log" && break; sleep 0.1; done
grep -q "answering on" "$work/serve.log" || { cat "$work/serve.log" >&2; exit 1; }

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# run NAME PORT PID → "qps cpu_s_per_million" on stdout
run() {
    local before after output qps completed
    before=$(ticks "$3")
    output=$(dnsperf -s 127.0.0.1 -p "$2" -d "$work/queries.txt" -c "$clients" -q "$outstanding" -l "$duration" 2>&1)
    after=$(ticks "$3")
    qps=$(echo "$output" | awk '/Queries per second/ {print $4}')
    completed=$(echo "$output" | awk '/Queries completed/ {print $3}')
    python3 -c "print(f'{$qps:.0f} {($after - $before) / $hz / max($completed, 1) * 1e6:.2f}')"
}

echo "responder-vs-knot: dnsperf -c $clients -q $outstanding -l $duration, $names names, $rounds round(s)" >&2
: >"$work/knot.txt"
: >"$work/evq.txt"
for ((round = 1; round <= rounds; round++)); do
    run knot "$knot_port" "$knot_pid" >>"$work/knot.txt"
    run evq "$serve_port" "$serve_pid" >>"$work/evq.txt"
    echo "  round $round: knot $(tail -1 "$work/knot.txt")  evq serve $(tail -1 "$work/evq.txt")  (q/s, CPU-s/M)" >&2
done

python3 - "$work/knot.txt" "$work/evq.txt" <<'EOF'
import statistics, sys
def rows(path):
    return [tuple(map(float, line.split())) for line in open(path) if line.strip()]
knot, evq = rows(sys.argv[1]), rows(sys.argv[2])
kq, kc = statistics.median(r[0] for r in knot), statistics.median(r[1] for r in knot)
eq, ec = statistics.median(r[0] for r in evq), statistics.median(r[1] for r in evq)
print(f"{'server':<22}{'queries/s':>12}{'server CPU-s/M':>16}")
print(f"{'knotd (1 UDP worker)':<22}{kq:>12.0f}{kc:>16.2f}")
print(f"{'evq serve --threads 1':<22}{eq:>12.0f}{ec:>16.2f}")
print(f"ratio evq/knot: queries/s {eq / kq:.2f}x (target >= 1.0), CPU per query {ec / kc:.2f}x (target <= 1.0)")
EOF
