#!/usr/bin/env bash
# DNS over TCP, TLS and HTTPS: evq serve against unbound, and evq load against dnsperf, same load, same
# run (docs/performance.md "Transports"). Both servers run on
# 127.0.0.1 with a self-signed certificate made here: `evq serve --tcp-threads 1` (names synthesized)
# and unbound with one thread (a local zone holding every name of the datafile; it never recurses).
# For each transport dnsperf 2.10 (`-m tcp|dot|doh`) loads each server in turn, R rounds interleaved;
# the table shows medians: q/s and server CPU per query (user+system ticks of the server process,
# /proc/PID/stat) with the ratio evq serve / unbound (target: >= 1.0x the rate at <= its CPU), then
# client q/s and CPU per query of evq load and dnsperf against evq serve (target: >= 1.5x dnsperf's
# rate at <= 0.67x its CPU).
#
# Usage: tools/compare-transports.sh [--duration S] [--clients C] [--outstanding Q] [--rounds R]
#   dnsperf -c C -q Q -l S per run (default: 4 connections, 200 outstanding, 5 s, 3 rounds);
#   evq load gets --connections C --outstanding Q --duration S.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=5 clients=4 outstanding=200 rounds=3 names=10000
while [ $# -gt 0 ]; do
    case $1 in
    --duration) duration=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --outstanding) outstanding=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    *) echo "usage: $0 [--duration S] [--clients C] [--outstanding Q] [--rounds R]" >&2; exit 2 ;;
    esac
done

command -v dnsperf >/dev/null || tools/install-dns-peers.sh
command -v unbound >/dev/null || tools/install-deps.sh unbound
command -v openssl >/dev/null || tools/install-deps.sh openssl
swift build -c release --scratch-path .build-release --product evq >&2
evq=.build-release/release/evq

work=$(mktemp -d /tmp/evq-compare-transports.XXXXXX)
serve_pid="" unbound_pid=""
cleanup() {
    for pid in $serve_pid $unbound_pid; do kill "$pid" 2>/dev/null || true; done
    for pid in $serve_pid $unbound_pid; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
for ((i = 0; i < names; i++)); do echo "q$i.load.evq.test A"; done >"$work/queries.txt"

base=$((20000 + RANDOM % 10000))
e_tcp=$base e_dot=$((base + 1)) e_doh=$((base + 2))
u_tcp=$((base + 3)) u_dot=$((base + 4)) u_doh=$((base + 5))

{
    echo "server:"
    echo "  verbosity: 0"
    echo "  num-threads: 1"
    echo "  do-daemonize: no"
    echo "  username: \"\""
    echo "  chroot: \"\""
    echo "  directory: \"$work\""
    echo "  pidfile: \"$work/unbound.pid\""
    echo "  logfile: \"$work/unbound.log\""
    echo "  use-syslog: no"
    echo "  interface-automatic: no"
    for port in $u_tcp $u_dot $u_doh; do echo "  interface: 127.0.0.1@$port"; done
    echo "  port: $u_tcp"
    echo "  tls-port: $u_dot"
    echo "  https-port: $u_doh"
    echo "  tls-service-key: \"$work/key.pem\""
    echo "  tls-service-pem: \"$work/cert.pem\""
    echo "  http-endpoint: \"/dns-query\""
    echo "  incoming-num-tcp: 256"
    echo "  access-control: 127.0.0.0/8 allow"
    echo "  do-not-query-localhost: yes"
    echo "  do-ip6: no"
    echo "  module-config: \"iterator\""
    echo "  local-zone: \"load.evq.test.\" static"
    echo "  local-data: \"load.evq.test. 300 IN SOA ns.load.evq.test. admin.load.evq.test. 1 3600 600 86400 300\""
    for ((i = 0; i < names; i++)); do echo "  local-data: \"q$i.load.evq.test. 300 IN A 198.18.$((i / 256 % 256)).$((i % 256))\""; done
    echo "remote-control:"
    echo "  control-enable: no"
} >"$work/unbound.conf"
unbound -d -c "$work/unbound.conf" >"$work/unbound.out" 2>&1 &
unbound_pid=$!
"$evq" serve --port "$e_tcp" --threads 1 --tcp-threads 1 --tls-cert "$work/cert.pem" --tls-key "$work/key.pem" \
    --dot-port "$e_dot" --doh-port "$e_doh" >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do grep -q "answering on" "$work/serve.log" && break; sleep 0.1; done
grep -q "answering on" "$work/serve.log" || { cat "$work/serve.log" >&2; exit 1; }
for _ in $(seq 100); do kdig +short +tls +timeout=1 @127.0.0.1 -p "$u_dot" q1.load.evq.test A >/dev/null 2>&1 && break; sleep 0.1; done
[ "$(kdig +short +tcp @127.0.0.1 -p "$u_tcp" q1.load.evq.test A)" = 198.18.0.1 ] \
    || { cat "$work/unbound.out" "$work/unbound.log" >&2; echo "unbound does not answer" >&2; exit 1; }

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
TIMEFORMAT='%U %S'

# dnsperf_run MODE PORT SERVER_PID → "qps server_cpu_s_per_million client_cpu_s_per_million"
dnsperf_run() {
    local before after output qps completed client extra=()
    [ "$1" = doh ] && extra=(-O "doh-uri=https://127.0.0.1:$2/dns-query" -O doh-method=POST)
    before=$(ticks "$3")
    { time dnsperf -m "$1" -s 127.0.0.1 -p "$2" -d "$work/queries.txt" -c "$clients" -q "$outstanding" \
        -l "$duration" "${extra[@]}" >"$work/dnsperf.out" 2>&1; } 2>"$work/time.out"
    after=$(ticks "$3")
    qps=$(awk '/Queries per second/ {print $4}' "$work/dnsperf.out")
    completed=$(awk '/Queries completed/ {print $3}' "$work/dnsperf.out")
    client=$(awk '{print $1 + $2}' "$work/time.out")
    python3 -c "c=max(${completed:-0},1); print(f'{${qps:-0}:.0f} {($after - $before) / $hz / c * 1e6:.2f} {$client / c * 1e6:.2f}')"
}

# evq_run TRANSPORT PORT SERVER_PID → the same three figures, from evq load's JSON report
evq_run() {
    local before after
    before=$(ticks "$3")
    "$evq" load --transport "$1" --connections "$clients" --insecure --server "127.0.0.1:$2" \
        --datafile "$work/queries.txt" --outstanding "$outstanding" --duration "$duration" \
        --json "$work/load.json" >"$work/load.out" 2>&1 || true
    after=$(ticks "$3")
    python3 - "$work/load.json" "$((after - before))" "$hz" <<'EOF'
import json, sys
try:
    report = json.load(open(sys.argv[1]))
    completed = max(sum(report["outcomes"].values()), 1)
    print(f'{report["qps"]:.0f} {int(sys.argv[2]) / int(sys.argv[3]) / completed * 1e6:.2f} {report["cpu_seconds_per_million"]:.2f}')
except Exception:
    print("0 0 0")
EOF
}

echo "compare-transports: dnsperf -c $clients -q $outstanding -l $duration, $names names, $rounds round(s)" >&2

for mode in tcp dot doh; do
    eval "ep=\$e_$mode up=\$u_$mode"
    : >"$work/$mode.unbound" ; : >"$work/$mode.serve" ; : >"$work/$mode.evqload"
    for ((round = 1; round <= rounds; round++)); do
        dnsperf_run "$mode" "$up" "$unbound_pid" >>"$work/$mode.unbound"
        dnsperf_run "$mode" "$ep" "$serve_pid" >>"$work/$mode.serve"
        evq_run "$mode" "$ep" "$serve_pid" >>"$work/$mode.evqload"
        echo "  $mode round $round: unbound $(tail -1 "$work/$mode.unbound")  evq serve $(tail -1 "$work/$mode.serve")" \
            " evq load $(tail -1 "$work/$mode.evqload")  (q/s, server CPU-s/M, client CPU-s/M)" >&2
    done
done

python3 - "$work" <<'EOF'
import statistics, sys
work = sys.argv[1]
def medians(path):
    rows = [tuple(map(float, line.split())) for line in open(path) if line.strip()]
    return tuple(statistics.median(r[i] for r in rows) for i in range(3)) if rows else None
print(f"{'transport':<10}{'server':<12}{'q/s':>10}{'server CPU-s/M':>16}   ratio evq serve / unbound")
for mode in ("tcp", "dot", "doh"):
    u, e = medians(f"{work}/{mode}.unbound"), medians(f"{work}/{mode}.serve")
    print(f"{mode:<10}{'unbound':<12}{u[0]:>10.0f}{u[1]:>16.2f}")
    ratio = f"q/s {e[0] / u[0]:.2f}x (>= 1.0), CPU {e[1] / u[1]:.2f}x (<= 1.0)" if u[0] and u[1] else "unbound answered nothing"
    print(f"{'':<10}{'evq serve':<12}{e[0]:>10.0f}{e[1]:>16.2f}   {ratio}")
print(f"\n{'transport':<10}{'client':<12}{'q/s':>10}{'client CPU-s/M':>16}   ratio evq load / dnsperf (against evq serve)")
for mode in ("tcp", "dot", "doh"):
    d, l = medians(f"{work}/{mode}.serve"), medians(f"{work}/{mode}.evqload")
    print(f"{mode:<10}{'dnsperf':<12}{d[0]:>10.0f}{d[2]:>16.2f}")
    ratio = f"q/s {l[0] / d[0]:.2f}x (>= 1.5), CPU {l[2] / d[2]:.2f}x (<= 0.67)" if l and l[0] and d[0] and d[2] else "no answer"
    print(f"{'':<10}{'evq load':<12}{(l or (0, 0, 0))[0]:>10.0f}{(l or (0, 0, 0))[2]:>16.2f}   {ratio}")
EOF
