#!/usr/bin/env bash
# DNS load, same target, same run (docs/performance.md "Targets"): dnsperf (with 4 MiB socket buffers, as
# evquery asks for), `evq load --engine floor` (sendmmsg/recvmmsg, prebuilt queries, no parsing),
# `--engine evdns` (libevent's client), tools/cares-load (a C client on c-ares, Debian's 1.18) and
# `--engine evquery`, closed loop at each outstanding count, one datafile for all.
#   evquery q/s            target >= 0.95x the floor (so ahead of dnsperf and evdns)
#   evquery CPU-s/million  target <= 1.1x the floor
# evquery runs twice: as it comes (equal-length queries to a socket leave as one UDP GSO message,
# replies the kernel coalesced are taken as one message, UDP GRO), and as `evquery-mmsg` with
# --no-segment-offload --no-receive-coalescing (one message per query each way, sendmmsg/recvmmsg,
# as the floor): the second is the engine's own overhead over the floor, like for like. `evq serve`
# takes coalesced queries and sends equal-length answers to one client as one GSO message unless
# --no-serve-offload (the responder as it was before both offloads).
#
# Usage: tools/compare-load.sh [--outstanding N]... [--duration S] [--server-threads T] [--knot]
#   --outstanding N      closed-loop depth; repeat for several (default: 100 and 1000)
#   --duration S         seconds per run (default 5)
#   --server-threads T   responder threads / knotd UDP workers (default 1)
#   --no-serve-offload   `evq serve --no-offload`: one datagram per receive and per send
#   --knot               target knotd (tools/knot-server.sh) instead of `evq serve`; used anyway
#                        while this evq has no `serve` command
#   --names N            names in the datafile, qN.load.evq.test A (default 10000)
#   --varied-names       names of 1-24 random letters instead (fixed seed), .load.evq.test: queries of
#                        many lengths, fewer of equal length in a batch for UDP GSO
#   --rounds R           run the whole set R times, interleaved; each row is the run with the
#                        median q/s of its engine (default 1; this machine is shared and noisy)
#   --ramp MAX           instead of the closed loops: a capacity ramp from MAX/100 to MAX q/s, by
#                        resperf (-m MAX -r S -L 1, dnsperf's ramp tool) and by `evq load --rate
#                        --ramp-to` against the same server, and both knees printed: resperf's
#                        "maximum throughput" (the best response rate before loss passed 1 %) and
#                        evq's knee (the highest rate sent with loss <= 1 % and p99 < 100 ms)
#   --ramp-seconds S     the ramp's length (default 20)
#   --server-max-qps N   `evq serve --max-qps N`: a server of known capacity, so both knees should
#                        land near N (ignored with --knot)
# Builds evq in release (.build-release; an existing binary is reused if the build fails), needs
# dnsperf, knot, kdig and libc-ares-dev (tools/install-dns-peers.sh, only when missing), cc and python3.
# A failing engine reports its failure in its row; the others still run.
set -euo pipefail
cd "$(dirname "$0")/.."

arguments="$*"
outstanding=()
duration=5
threads=1
use_knot=0
names=10000
varied=0
rounds=1
ramp_max=""
ramp_seconds=20
server_max_qps=""
serve_offload=()
while [ $# -gt 0 ]; do
    case $1 in
    --outstanding) outstanding+=("$2"); shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --server-threads) threads=$2; shift 2 ;;
    --knot) use_knot=1; shift ;;
    --no-serve-offload) serve_offload=(--no-offload); shift ;;
    --names) names=$2; shift 2 ;;
    --varied-names) varied=1; shift ;;
    --rounds) rounds=$2; shift 2 ;;
    --ramp) ramp_max=$2; shift 2 ;;
    --ramp-seconds) ramp_seconds=$2; shift 2 ;;
    --server-max-qps) server_max_qps=$2; shift 2 ;;
    *) echo "usage: $0 [--outstanding N]... [--duration S] [--server-threads T] [--knot] [--names N]" \
            "[--no-serve-offload] [--varied-names] [--rounds R] [--ramp MAX [--ramp-seconds S] [--server-max-qps N]]" >&2; exit 2 ;;
    esac
done
[ ${#outstanding[@]} -gt 0 ] || outstanding=(100 1000)

command -v dnsperf >/dev/null && command -v knotd >/dev/null && command -v kdig >/dev/null \
    && [ -e /usr/include/ares.h ] && command -v cc >/dev/null || tools/install-dns-peers.sh

evq=.build-release/release/evq
if ! swift build -c release --scratch-path .build-release --product evq >&2; then
    [ -x "$evq" ] || { echo "compare-load: the release build failed and there is no $evq" >&2; exit 1; }
    echo "compare-load: the release build failed; reusing the existing $evq" >&2
fi

work=$(mktemp -d /tmp/evq-compare-load.XXXXXX)
server_pid=""
cleanup() {
    if [ "$use_knot" = 1 ]; then tools/knot-server.sh stop "$work/knot" || true; fi
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT
cares=$work/cares-load
cc -O2 -o "$cares" tools/cares-load/cares-load.c -lcares

suffix=load.evq.test
data=$work/queries.txt
python3 - "$work" "$names" "$suffix" "$varied" <<'PY'
import random, sys
work, count, suffix, varied = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "1"
random.seed(7)
labels = [f"q{i}" for i in range(count)] if not varied else list(dict.fromkeys(
    "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(random.randint(1, 24))) for _ in range(2 * count)))[:count]
with open(f"{work}/queries.txt", "w") as out:
    out.writelines(f"{label}.{suffix} A\n" for label in labels)
with open(f"{work}/{suffix}.zone", "w") as out:
    out.write(f"$ORIGIN {suffix}.\n$TTL 300\n@ IN SOA ns1 hostmaster 1 3600 600 86400 300\n@ IN NS ns1\n"
              "ns1 IN A 127.0.0.1\n")
    out.writelines(f"{label} IN A 198.51.{i // 250 % 256}.{i % 250 + 1}\n" for i, label in enumerate(labels))
PY
port=$(python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

if [ "$use_knot" = 0 ] && ! "$evq" serve --help >/dev/null 2>&1; then
    echo "compare-load: this evq has no 'serve' command yet; the target is knotd" >&2
    use_knot=1
fi
if [ "$use_knot" = 1 ]; then
    target="knotd 1 zone, $threads UDP worker(s)"
    KNOT_UDP_WORKERS=$threads tools/knot-server.sh start "$work/knot" "$port" "$work/$suffix.zone"
else
    target="evq serve, $threads thread(s), synthesis${serve_offload:+, --no-offload}"
    limit=()
    if [ -n "$server_max_qps" ]; then limit=(--max-qps "$server_max_qps"); target+=", --max-qps $server_max_qps"; fi
    "$evq" serve --port "$port" --threads "$threads" --suffix "$suffix" "${limit[@]}" "${serve_offload[@]}" >"$work/serve.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 100); do
        kdig -p "$port" @127.0.0.1 +short +timeout=1 +retry=0 "q0.$suffix" A 2>/dev/null | grep -q . && break
        if ! kill -0 "$server_pid" 2>/dev/null; then
            cat "$work/serve.log" >&2
            echo "compare-load: evq serve exited" >&2
            exit 1
        fi
        sleep 0.1
    done
fi

if [ -n "$ramp_max" ]; then
    # The ramp, both tools against the same server, one after the other. resperf ramps from 0 and
    # stops once loss passes -L; evq load ramps from 1 % of the top (its --rate must be above 0) for
    # the whole ramp, intervals of 0.5 s as resperf's plot.
    bound=$((ramp_seconds * 2 + 30))
    echo "compare-load: ramp to $ramp_max q/s over $ramp_seconds s against $target on 127.0.0.1:$port" >&2
    resperf_out=$work/resperf.out
    timeout "$bound" resperf -s 127.0.0.1 -p "$port" -d "$data" -R -m "$ramp_max" -r "$ramp_seconds" -L 1 -t 2 \
        -b 4096 -i 0.5 -P "$work/resperf.gnuplot" >"$resperf_out" 2>&1 || true
    timeout "$bound" "$evq" load --server "127.0.0.1:$port" --datafile "$data" --rate $((ramp_max / 100 + 1)) \
        --ramp-to "$ramp_max" --ramp-seconds "$ramp_seconds" --interval 0.5 --timeout 2 --cancel-rate 0 --quiet \
        --json "$work/ramp.json" >"$work/ramp.out" 2>&1 || true
    echo "DNS capacity ramp, same server: $target; to $ramp_max q/s over $ramp_seconds s; $(nproc) cores; $(date -u +%FT%TZ)"
    echo "command: tools/compare-load.sh $arguments"
    python3 - "$resperf_out" "$work/ramp.json" "$work/ramp.out" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
best = re.search(r"Maximum throughput:\s+([0-9.]+) qps", text)
lost = re.search(r"Lost at that point:\s+([0-9.]+)%", text)
if best:
    print(f"resperf   knee {float(best.group(1)):>9.0f} q/s  (maximum throughput before loss passed 1 %"
          f"{'; lost ' + lost.group(1) + ' % there' if lost else ''})")
else:
    print("resperf   FAILED: " + (text.strip().splitlines() or ["no output"])[-1])
try:
    report = json.load(open(sys.argv[2]))
except (OSError, ValueError):
    print("evq load  FAILED: " + (open(sys.argv[3]).read().strip().splitlines() or ["no output"])[-1])
    sys.exit(0)
ramp = report.get("ramp") or {}
knee = ramp.get("knee_rate")
audit = "audit ok" if report["audit"]["ok"] else "AUDIT VIOLATED"
if knee:
    print(f"evq load  knee {knee:>9.0f} q/s  (highest rate sent with loss <= 1 % and p99 < {ramp['p99_bound_ms']:g} ms;"
          f" past it {ramp.get('break_rate') or 0:.0f} q/s lost {100 * (ramp.get('break_loss') or 0):.1f} %,"
          f" p99 {ramp.get('break_p99_ms') or 0:.1f} ms; {audit})")
elif ramp.get("client_fell_behind"):
    print(f"evq load  the client fell behind at {ramp.get('break_rate') or 0:.0f} q/s (pacer"
          f" {ramp.get('break_client_lag_ms') or 0:.1f} ms late): no server knee; {audit}")
else:
    print(f"evq load  knee not reached: every interval up to {ramp.get('to_rate') or 0:.0f} q/s kept the bounds; {audit}")
PY
    exit 0
fi

# One row per run: engine outstanding status qps cpu_per_million p50_us p99_us note (tab-separated).
rows=$work/rows.tsv
: >"$rows"
bound=$((duration * 3 + 30))

run_dnsperf() {
    local n=$1 out=$work/dnsperf-$n.out
    if timeout "$bound" /usr/bin/time -f "%U %S" -o "$work/dnsperf-$n.time" \
        dnsperf -s 127.0.0.1 -p "$port" -d "$data" -c 1 -q "$n" -l "$duration" -b 4096 >"$out" 2>&1; then
        python3 - "$out" "$work/dnsperf-$n.time" "$n" >>"$rows" <<'PY'
import re, sys
text, cpu_text, n = open(sys.argv[1]).read(), open(sys.argv[2]).read().split(), sys.argv[3]
def field(label):
    match = re.search(label + r":\s+([0-9.]+)", text)
    return float(match.group(1)) if match else 0.0
completed, qps = field("Queries completed"), field("Queries per second")
cpu = float(cpu_text[-2]) + float(cpu_text[-1])
avg = re.search(r"Average Latency \(s\):\s+([0-9.]+) \(min [0-9.]+, max ([0-9.]+)\)", text)
note = f"avg {float(avg.group(1)) * 1e6:.0f} us, max {float(avg.group(2)) * 1e6:.0f} us (no percentiles)" if avg else ""
lost = field("Queries lost")
if lost: note += f"; lost {lost:.0f}"
print(f"dnsperf\t{n}\tok\t{qps}\t{cpu / max(completed, 1) * 1e6}\t-\t-\t{note}")
PY
    else
        printf 'dnsperf\t%s\tfailed\t0\t0\t-\t-\t%s\n' "$n" "$(tail -1 "$out" | tr '\t' ' ')" >>"$rows"
    fi
}

run_cares() {
    local n=$1 out=$work/cares-$n.out status=ok
    timeout "$bound" "$cares" 127.0.0.1 "$port" "$data" "$n" "$duration" >"$out" 2>&1 || status=failed
    if grep -q '^qps=' "$out"; then
        python3 - "$out" "$n" "$status" >>"$rows" <<'PY'
import sys
text, n, status = open(sys.argv[1]).read(), sys.argv[2], sys.argv[3]
fields = dict(item.split("=", 1) for item in text.strip().splitlines()[-1].split())
note = "audit ok" if fields["audit"] == "ok" else f"AUDIT VIOLATED double={fields['double_completions']}"
bad = {k: fields[k] for k in ("timeouts", "errors") if fields[k] != "0"}
if bad: note += " " + " ".join(f"{k}={v}" for k, v in bad.items())
print(f"c-ares\t{n}\t{status}\t{fields['qps']}\t{fields['cpu_per_million']}\t{fields['p50_us']}\t{fields['p99_us']}\t{note}")
PY
    else
        printf 'c-ares\t%s\tfailed\t0\t0\t-\t-\t%s\n' "$n" "$(tail -1 "$out" | tr '\t' ' ')" >>"$rows"
    fi
}

run_evq() {
    local label=$1 n=$2 json=$work/$1-$2.json out=$work/$1-$2.out status=ok engine=$1 extra=()
    if [ "$label" = evquery-mmsg ]; then engine=evquery extra=(--no-segment-offload --no-receive-coalescing); fi
    rm -f "$json"
    timeout "$bound" "$evq" load --engine "$engine" --server "127.0.0.1:$port" --outstanding "$n" \
        --duration "$duration" --datafile "$data" --cancel-rate 0 --quiet --json "$json" "${extra[@]}" >"$out" 2>&1 \
        || status=failed
    if [ -s "$json" ]; then
        python3 - "$json" "$label" "$n" "$status" >>"$rows" <<'PY'
import json, sys
report, engine, n, status = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3], sys.argv[4]
audit, outcomes = report["audit"], report["outcomes"]
note = "audit ok" if audit["ok"] else f"AUDIT VIOLATED {audit}"
bad = {k: v for k, v in outcomes.items() if k not in ("answered", "nxdomain", "cancelled") and v}
if bad: note += " " + " ".join(f"{k}={v}" for k, v in sorted(bad.items()))
latency = report["latency_us"]
print(f"{engine}\t{n}\t{status}\t{report['qps']}\t{report['cpu_seconds_per_million']}\t{latency['p50']}"
      f"\t{latency['p99']}\t{note}")
PY
    else
        printf '%s\t%s\tfailed\t0\t0\t-\t-\t%s\n' "$label" "$n" "$(grep -v '^ ' "$out" | tail -1 | tr '\t' ' ')" \
            >>"$rows"
    fi
}

for round in $(seq 1 "$rounds"); do
    for n in "${outstanding[@]}"; do
        echo "compare-load: round $round/$rounds, $n outstanding, $duration s per run against $target" \
            "on 127.0.0.1:$port" >&2
        run_dnsperf "$n"
        # evquery and the floor back to back, in turn first (the VM's speed drifts within minutes: a
        # pair two runs apart, or always in the same order, measured the drift as much as the engine).
        # evquery-mmsg runs next to the floor too, before it in one round and after it in the next.
        if [ $((round % 2)) = 1 ]; then trio="evquery-mmsg floor evquery"; else trio="evquery floor evquery-mmsg"; fi
        for engine in $trio evdns; do run_evq "$engine" "$n"; done
        run_cares "$n"
    done
done

echo "DNS load, closed loop, same run: $target; $names $([ "$varied" = 1 ] && echo "varied-length ")names; $duration s per run, median of $rounds round(s);" \
    "$(nproc) cores; $(date -u +%FT%TZ)"
echo "command: tools/compare-load.sh $arguments" \
    "(outstanding ${outstanding[*]}, duration $duration, server threads $threads)"
if [ "$use_knot" = 1 ]; then
    echo "note: knotd's UDP socket keeps the kernel default receive buffer (net.core.rmem_default =" \
        "$(cat /proc/sys/net/core/rmem_default) bytes), so deep closed loops lose queries there (timeouts below)"
fi
python3 - "$rows" <<'PY'
import sys
runs = [line.rstrip("\n").split("\t") for line in open(sys.argv[1]) if line.strip()]
def num(text):
    try:
        return float(text)
    except ValueError:
        return 0.0
# Per outstanding count, per engine (in the order they first ran): the run with the median q/s (of the
# successful runs, else the last failure).
groups = {}
for row in runs:
    groups.setdefault(row[1], {}).setdefault(row[0], []).append(row)
# evquery and evquery-mmsg against the floor round by round: each pair ran back to back (in turn first), so it sees about the
# same machine, where the median runs above may come from rounds minutes apart (the VM's speed drifts).
def spread(values):
    values = sorted(values)
    return f"{values[(len(values) - 1) // 2]:.2f}x ({values[0]:.2f}-{values[-1]:.2f})"
paired = {}
for n, engines in groups.items():
    for label in ("evquery", "evquery-mmsg"):
        pairs = [(num(e[3]) / num(f[3]), num(e[4]) / num(f[4]))
                 for f, e in zip(engines.get("floor", []), engines.get(label, []))
                 if f[2] == e[2] == "ok" and num(f[3]) > 0 and num(f[4]) > 0]
        if pairs:
            paired.setdefault(n, []).append(
                f"per round, {label}/floor over {len(pairs)} round(s): q/s {spread(q for q, _ in pairs)}, "
                f"CPU {spread(c for _, c in pairs)}")
def median_run(candidates):
    good = sorted((row for row in candidates if row[2] == "ok"), key=lambda row: num(row[3]))
    if not good:
        return candidates[-1]
    row = list(good[(len(good) - 1) // 2])
    if len(good) > 1:
        row[7] = f"q/s {num(good[0][3]) / 1000:.0f}k-{num(good[-1][3]) / 1000:.0f}k over {len(good)} runs; " + row[7]
    return row
groups = {n: [median_run(candidates) for candidates in engines.values()] for n, engines in groups.items()}
def ratio(a, b):
    return f"{a / b:.2f}x" if a > 0 and b > 0 else "-"
header = (f"{'engine':<13}{'outst.':>7}{'queries/s':>11}{'xfloor':>8}{'xdnsperf':>9}{'xevdns':>8}{'xc-ares':>8}"
          f"{'CPU-s/M':>9}{'xfloor':>8}{'p50 us':>8}{'p99 us':>8}  note")
for n, group in groups.items():
    print()
    print(header)
    by = {row[0]: row for row in group if row[2] == "ok"}
    base = {name: (num(by[name][3]), num(by[name][4])) if name in by else (0.0, 0.0)
            for name in ("floor", "dnsperf", "evdns", "c-ares")}
    for engine, _, status, qps, cpu, p50, p99, note in group:
        qps, cpu = num(qps), num(cpu)
        if status != "ok" and qps == 0:
            print(f"{engine:<13}{n:>7}  FAILED: {note}")
            continue
        fmt = lambda text: f"{num(text):.0f}" if text != "-" else "-"
        print(f"{engine:<13}{n:>7}{qps:>11.0f}{ratio(qps, base['floor'][0]):>8}{ratio(qps, base['dnsperf'][0]):>9}"
              f"{ratio(qps, base['evdns'][0]):>8}{ratio(qps, base['c-ares'][0]):>8}{cpu:>9.2f}{ratio(cpu, base['floor'][1]):>8}{fmt(p50):>8}"
              f"{fmt(p99):>8}  {'' if status == 'ok' else '[exit non-zero] '}{note}")
    for label, title in (("evquery", "targets"), ("evquery-mmsg", "like for like, one message per query")):
        if label in by and base["floor"][0] > 0:
            q, c = num(by[label][3]), num(by[label][4])
            print(f"{title} at {n}: {label} q/s {q / base['floor'][0]:.2f}x floor (>= 0.95) "
                  f"{'met' if q >= 0.95 * base['floor'][0] else 'NOT met'}; CPU {c / base['floor'][1]:.2f}x floor (<= 1.1) "
                  f"{'met' if c <= 1.1 * base['floor'][1] else 'NOT met'}")
    for line in paired.get(n, []):
        print(line)
PY
