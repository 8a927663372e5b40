#!/usr/bin/env bash
# A fleet of generators on this machine, for real: test hosts in network namespaces joined by a
# bridge (its own namespace, addresses from 198.18.0.0/15, RFC 2544's benchmark range, that exist
# only inside them): one responder host (`evq serve`), three generator hosts (`evq load --shard i/3
# --metrics-listen …`, bounded), and Debian's Prometheus on a host of its own scraping the three
# every second. Checks: the merged report's counts are the sums of the shards'; the merged
# percentiles are those of one histogram of all samples (the three interval logs merged a second
# way, by HdrHistogram's Python implementation, bucket by bucket); Prometheus's totals over the run
# agree with the merged report within 2 %; every audit holds. Cleans up its namespaces and
# processes on any exit. Needs root (as CI runs). Usage: tools/fleet-test.sh [EVQ-BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" -eq 0 ] || { echo "fleet-test: needs root for ip netns" >&2; exit 1; }
tools/install-deps.sh iproute2 prometheus curl
python3 -c 'import hdrh' 2>/dev/null || bash tools/install-test-peers.d/hdrhistogram-python.sh
evq=$(realpath "${1:-.build/debug/evq}")
[ -x "$evq" ] || { echo "fleet-test: no evq at $evq (swift build first)" >&2; exit 1; }

tag="ef$$"               # unique per run: namespaces of a parallel run never collide
work=$(mktemp -d /tmp/evq-fleet.XXXXXX)
pids=()
hosts=(sw resp prom gen0 gen1 gen2)
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  for host in "${hosts[@]}"; do ip netns del "$tag-$host" 2>/dev/null || true; done
  if [ "${keep:-0}" = 1 ]; then echo "fleet-test: files kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# Runs a command on a host. Background ones are started with ip netns exec itself, so that $! is the
# process (ip netns exec execs it) and the cleanup stops it, not a subshell around it.
on() { local host=$1; shift; ip netns exec "$tag-$host" "$@"; }

# The switch: a bridge in a namespace of its own; each host a namespace with one veth on it.
ip netns add "$tag-sw"
on sw ip link add br0 type bridge
on sw ip link set br0 up
declare -A address=([resp]=198.18.0.1 [prom]=198.18.0.2 [gen0]=198.18.0.10 [gen1]=198.18.0.11 [gen2]=198.18.0.12)
for host in resp prom gen0 gen1 gen2; do
  ip netns add "$tag-$host"
  ip link add "$tag-$host" type veth peer name "p-$host" netns "$tag-sw"
  ip link set "$tag-$host" netns "$tag-$host"
  on "$host" ip link set "$tag-$host" name eth0
  on "$host" ip addr add "${address[$host]}/24" dev eth0
  on "$host" ip link set eth0 up
  on "$host" ip link set lo up
  on sw ip link set "p-$host" master br0
  on sw ip link set "p-$host" up
done

# The responder host.
ip netns exec "$tag-resp" "$evq" serve --address "${address[resp]}" --port 5300 --threads 1 >"$work/serve.log" 2>&1 &
pids+=($!)

# Prometheus, scraping the three generators every second, with its own storage.
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: evq-load
    static_configs:
      - targets: ['${address[gen0]}:9100', '${address[gen1]}:9100', '${address[gen2]}:9100']
YAML
ip netns exec "$tag-prom" prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="${address[prom]}:9090" >"$work/prometheus.log" 2>&1 &
pids+=($!)
api="http://${address[prom]}:9090"
for _ in $(seq 100); do on prom curl -fs "$api/-/ready" >/dev/null 2>&1 && break; sleep 0.2; done
on prom curl -fs "$api/-/ready" >/dev/null || { cat "$work/prometheus.log" >&2; echo "fleet-test: Prometheus did not start" >&2; exit 1; }
for _ in $(seq 50); do on gen0 "$evq" resolve www.load.evq.test A --server "${address[resp]}:5300" >/dev/null 2>&1 && break; sleep 0.2; done

# Three generators, started together, each its shard of one load.
start=$(( $(date +%s) + 5 ))
gens=()
for i in 0 1 2; do
  ip netns exec "$tag-gen$i" timeout 90 "$evq" load --server "${address[resp]}:5300" --shard "$i/3" --outstanding 150 \
    --duration 6 --start-at "$start" --label run=fleet-test --metrics-listen "${address[gen$i]}:9100" \
    --metrics-linger 3 --quiet --json "$work/shard-$i.json" --histogram-log "$work/shard-$i.hlog" \
    >"$work/shard-$i.txt" 2>&1 &
  gens+=($!)
  pids+=($!)
done
failed=0
for i in 0 1 2; do
  if ! wait "${gens[$i]}"; then echo "fleet-test: generator $i failed:" >&2; cat "$work/shard-$i.txt" >&2; failed=1; fi
done
[ "$failed" = 0 ] || exit 1

"$evq" merge "$work"/shard-{0,1,2}.json --histogram-log "$work/shard-0.hlog" --histogram-log "$work/shard-1.hlog" \
  --histogram-log "$work/shard-2.hlog" --json "$work/merged.json" | tee "$work/merged.txt"

# Prometheus's view: each counter's last value is its increase over the run (they start at 0).
query() { on prom curl -fsG "$api/api/v1/query" --data-urlencode "query=$1"; }
query 'sum(max_over_time(evq_load_responses_total{run="fleet-test"}[5m]))' >"$work/prom-responses.json"
query 'sum(max_over_time(evq_load_queries_sent_total{run="fleet-test"}[5m]))' >"$work/prom-sent.json"
query 'min(last_over_time(evq_load_audit_ok{run="fleet-test"}[5m]))' >"$work/prom-audit.json"
query 'count(last_over_time(evq_load_running{run="fleet-test"}[5m]) == 0)' >"$work/prom-finished.json"

python3 - "$work" <<'PY'
import json, sys
from hdrh.histogram import HdrHistogram
from hdrh.log import HistogramLogReader

work = sys.argv[1]
shards = [json.load(open(f"{work}/shard-{i}.json")) for i in range(3)]
merged = json.load(open(f"{work}/merged.json"))
problems = []
def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok: problems.append(what)

# Counts: the merged report is the sum of the shards'.
check(merged["sent"] == sum(s["sent"] for s in shards), f"merged sent {merged['sent']} = sum of the shards' sent")
for key in set(k for s in shards for k in s["outcomes"]):
    total = sum(s["outcomes"].get(key, 0) for s in shards)
    check(merged["outcomes"].get(key, 0) == total, f"outcome {key}: merged {merged['outcomes'].get(key, 0)} = sum {total}")
for key in ("started", "completed", "double_completions", "missed"):
    check(merged["audit"][key] == sum(s["audit"][key] for s in shards), f"audit.{key} summed")
check(all(s["audit"]["ok"] for s in shards) and merged["audit"]["ok"], "every audit holds")
check(merged["complete"] and [r["shard"] for r in merged["shards"]] == ["0/3", "1/3", "2/3"], "complete, shards 0/3 1/3 2/3")
check(all(s["sent"] > 0 for s in shards), "every shard sent queries")

# Percentiles: the three interval logs merged by HdrHistogram's Python implementation give the
# merged report's histogram bucket by bucket, hence its percentiles.
settings = merged["histograms"]["settings"]
def fresh():
    return HdrHistogram(settings["lowest_discernible_value"], settings["highest_trackable_value"], settings["significant_digits"])
from_logs = fresh()
for i in range(3):
    reader = HistogramLogReader(f"{work}/shard-{i}.hlog", fresh())
    while True:
        interval = reader.get_next_interval_histogram()
        if interval is None: break
        from_logs.add(interval)
from_json = fresh()
from_json.decode_and_add(merged["histograms"]["query"])
check(from_logs.get_total_count() == merged["latency_us"]["count"] > 0,
      f"the logs hold {from_logs.get_total_count()} latencies, the merged report {merged['latency_us']['count']}")
check(list(from_logs.counts) == list(from_json.counts), "the logs' histogram = the merged report's, bucket by bucket")
def percentile(h, p):
    # evq's rule: the highest value equivalent to the value at rank ceil(p% of the count).
    import math
    target = max(1, math.ceil(math.nextafter(p, 0) * h.get_total_count() / 100))
    seen = 0
    for index in range(h.counts_len):
        seen += h.get_count_at_index(index)
        if seen >= target:
            return h.get_highest_equivalent_value(h.get_value_from_index(index))
for name, p in (("p50", 50), ("p90", 90), ("p99", 99), ("p999", 99.9)):
    mine = merged["latency_us"][name]
    theirs = percentile(from_logs, p) / 1000
    check(abs(mine - theirs) < 1e-9, f"{name}: merged {mine} µs = {theirs} µs from one histogram of all samples")

# Prometheus: totals over the run within 2 % of the merged report.
def value(name):
    result = json.load(open(f"{work}/{name}.json"))["data"]["result"]
    return float(result[0]["value"][1]) if result else None
responses = sum(merged["rcodes"].values())
prom = value("prom-responses")
check(prom is not None and abs(prom - responses) <= 0.02 * responses,
      f"Prometheus sum of responses {prom} within 2 % of the merged report's {responses}")
prom = value("prom-sent")
check(prom is not None and abs(prom - merged["sent"]) <= 0.02 * merged["sent"],
      f"Prometheus sum of queries sent {prom} within 2 % of the merged report's {merged['sent']}")
check(value("prom-finished") == 3 and value("prom-audit") == 1, "Prometheus saw the three runs finish with their audits OK")
sys.exit(1 if problems else 0)
PY
echo "fleet-test: passed"
