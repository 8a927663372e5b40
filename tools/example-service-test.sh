#!/usr/bin/env bash
# The example service end to end (Examples/ResolverService, README "Embedding"): builds it in its
# own .build, starts `evq serve` on 127.0.0.1 and the service, resolves through it, scrapes
# /metrics (the query counters must have moved), sends SIGTERM, and checks that the service exits
# 0 having printed an intact exactly-once audit. Bounded: every wait has a limit. Prints the build
# time (a cold build of Hummingbird and swift-prometheus: several minutes on 2 busy cores).
#   tools/example-service-test.sh      (expects .build/debug/evq, or builds it)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
example="$root/Examples/ResolverService"
work=$(mktemp -d)
serve_pid=""
service_pid=""
cleanup() {
  [ -n "$service_pid" ] && kill "$service_pid" 2>/dev/null || true
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "example-service: FAILED: $*" >&2; for f in "$work"/*.log; do echo "--- $f" >&2; tail -20 "$f" >&2; done; exit 1; }

tools/install-deps.sh curl
[ -x .build/debug/evq ] || swift build --product evq
started=$(date +%s)
(cd "$example" && swift build --scratch-path "$example/.build") >"$work/build.log" 2>&1 || fail "build"
echo "example-service: built in $(( $(date +%s) - started )) s"
service="$example/.build/debug/ResolverService"

.build/debug/evq serve --port 0 >"$work/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 100); do grep -q "answering on" "$work/serve.log" && break; sleep 0.1; done
dns_port=$(sed -n 's/.*answering on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/serve.log")
[ -n "$dns_port" ] || fail "evq serve printed no port"

http_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$service" --port "$http_port" --server "127.0.0.1:$dns_port" >"$work/service.log" 2>&1 &
service_pid=$!
for _ in $(seq 300); do
  curl -fsS -m 2 "http://127.0.0.1:$http_port/metrics" >/dev/null 2>&1 && break
  kill -0 "$service_pid" 2>/dev/null || fail "the service exited at start"
  sleep 0.1
done

answer=$(curl -fsS -m 10 "http://127.0.0.1:$http_port/resolve?name=www.load.evq.test&type=A") || fail "resolve"
echo "example-service: /resolve answered $answer"
echo "$answer" | python3 -c 'import json,sys; a=json.load(sys.stdin); assert a["rcode"]=="NOERROR" and a["answers"], a' \
  || fail "the answer has no records"
for i in $(seq 20); do
  curl -fsS -m 10 "http://127.0.0.1:$http_port/resolve?name=n$i.load.evq.test&type=AAAA" >/dev/null || fail "resolve $i"
done
code=$(curl -s -o /dev/null -w '%{http_code}' -m 10 "http://127.0.0.1:$http_port/resolve?name=x&type=NOSUCHTYPE")
[ "$code" = 400 ] || fail "a bad type answered $code, not 400"

# The metrics are published every 100 ms: wait for the 21 answered queries to show.
for _ in $(seq 50); do
  curl -fsS -m 10 "http://127.0.0.1:$http_port/metrics" >"$work/metrics.txt" || fail "scrape"
  answered=$(awk '/^evquery_dns_queries_completed.*outcome="answered"/ { sum += $NF } END { print sum + 0 }' "$work/metrics.txt")
  [ "$answered" -ge 21 ] && break
  sleep 0.1
done
[ "${answered:-0}" -ge 21 ] || fail "/metrics shows $answered answered queries, not 21"
grep -q '^evquery_reactor_operations_completed' "$work/metrics.txt" || fail "no reactor metrics"
echo "example-service: /metrics counts $answered answered queries"

kill -TERM "$service_pid"
status=0
for _ in $(seq 300); do kill -0 "$service_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$service_pid" 2>/dev/null && fail "the service did not exit within 30 s of SIGTERM"
wait "$service_pid" || status=$?
service_pid=""
[ "$status" = 0 ] || fail "the service exited $status"
grep -q '^audit: .*OK' "$work/service.log" || fail "no intact audit printed"
echo "example-service: $(grep '^audit:' "$work/service.log")"
echo "example-service: OK"
