#!/usr/bin/env bash
# RSS per outstanding DNS query (docs/performance.md "Targets": ≤ 256 B at 100,000 outstanding), for evquery's
# DNSQuery engine and for libevent's evdns, measured by the same command in the same way:
# `evq hold` starts N queries (distinct names) on one loop against a UDP socket that is bound but
# never read, lets the loop send them, reads /proc/self/statm, then cancels them all and checks that
# every completion ran once.
#
#   tools/rss-per-query.sh [N] [ROUNDS]      (default 100000 outstanding, 3 rounds each, interleaved)
#
# Env: SCRATCH (the build folder, default .build-release), EVQ (a prebuilt evq binary to use).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
ROUNDS=${2:-3}
SCRATCH=${SCRATCH:-.build-release}
if [[ -z "${EVQ:-}" ]]; then
    swift build -c release --scratch-path "$SCRATCH" --product evq >&2
    EVQ="$SCRATCH/release/evq"
fi
declare -A figures
for round in $(seq 1 "$ROUNDS"); do
    for engine in evquery evdns; do
        line=$("$EVQ" hold --engine "$engine" --outstanding "$N")
        echo "round $round: $line"
        per=$(sed -n 's/.*bytes_per_query=\([0-9.]*\).*/\1/p' <<<"$line")
        figures[$engine]="${figures[$engine]:-} $per"
    done
done
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo
printf '%-8s %12s %22s\n' engine outstanding "RSS bytes/query (median)"
for engine in evquery evdns; do
    printf '%-8s %12s %22s\n' "$engine" "$N" "$(median "${figures[$engine]}")"
done
