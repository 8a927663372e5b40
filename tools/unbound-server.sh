#!/usr/bin/env bash
# Starts and stops a private unbound on 127.0.0.1 serving plain DNS (UDP and TCP), DNS over TLS and
# DNS over HTTPS, with a self-signed certificate made here by openssl, for tests and peer comparisons.
#
# Usage:
#   tools/unbound-server.sh start DIR PORT TLS_PORT HTTPS_PORT [LOCAL_DATA_FILE]
#   tools/unbound-server.sh stop DIR          # kill the unbound started in DIR, wait for it to exit
#
# - DIR is a scratch directory (created if missing) holding unbound.conf, the key and certificate
#   (DIR/cert.pem: subject CN=dns.evq.test, names DNS:dns.evq.test and IP:127.0.0.1; it is its own
#   CA, so `--tls-ca DIR/cert.pem` trusts it), unbound.pid and unbound.log.
# - LOCAL_DATA_FILE holds unbound local-data lines ("www.example.test. 300 IN A 192.0.2.10"); the
#   zone example.test. is served from them as a static local zone. Without it a few records are
#   served: www.example.test. A and AAAA, and 1000 names n0…n999.example.test. A.
# - DoH answers at https://127.0.0.1:HTTPS_PORT/dns-query (HTTP/2; unbound built with libnghttp2).
# - `start` returns when unbound answers over UDP (checked with kdig, up to 10 s); else exit 1 with
#   the log. UNBOUND_WATCH_PID=PID: unbound is stopped once process PID has exited, however it ended.
# - UNBOUND_THREADS (default 1) sets num-threads.
set -euo pipefail
# shellcheck source=tools/server-lib.sh
source "$(dirname "$0")/server-lib.sh"

die() { echo "unbound-server: $*" >&2; exit 1; }

cmd=${1:-}
case $cmd in
start)
  [ $# -ge 5 ] || die "usage: $0 start DIR PORT TLS_PORT HTTPS_PORT [LOCAL_DATA_FILE]"
  dir=$2; port=$3; tls_port=$4; https_port=$5; data=${6:-}
  command -v unbound >/dev/null || die "unbound missing: run tools/install-test-peers.d/unbound.sh"
  command -v kdig >/dev/null || die "kdig missing: run tools/install-dns-peers.sh"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/unbound.pid" ] && kill -0 "$(cat "$dir/unbound.pid")" 2>/dev/null; then
    die "an unbound started in $dir is still running (pid $(cat "$dir/unbound.pid")); stop it first"
  fi
  if [ ! -f "$dir/cert.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
      -keyout "$dir/key.pem" -out "$dir/cert.pem" -subj "/CN=dns.evq.test" \
      -addext "subjectAltName=DNS:dns.evq.test,IP:127.0.0.1" >/dev/null 2>&1 || die "openssl could not make a certificate"
  fi
  # TLS session tickets (unbound issues none without a key): clients may resume their sessions.
  [ -f "$dir/ticket.key" ] || openssl rand -out "$dir/ticket.key" 80 2>/dev/null || die "openssl rand failed"
  if [ -z "$data" ]; then
    data="$dir/local-data.txt"
    {
      echo "www.example.test. 300 IN A 192.0.2.10"
      echo "www.example.test. 300 IN AAAA 2001:db8::10"
      for i in $(seq 0 999); do echo "n$i.example.test. 300 IN A 192.0.2.$((i % 250 + 1))"; done
    } > "$data"
  fi
  {
    echo "server:"
    echo "    interface: 127.0.0.1@$port"
    echo "    interface: 127.0.0.1@$tls_port"
    echo "    interface: 127.0.0.1@$https_port"
    echo "    tls-port: $tls_port"
    echo "    https-port: $https_port"
    echo "    tls-service-key: \"$dir/key.pem\""
    echo "    tls-service-pem: \"$dir/cert.pem\""
    echo "    tls-session-ticket-keys: \"$dir/ticket.key\""
    echo "    http-endpoint: \"/dns-query\""
    echo "    num-threads: ${UNBOUND_THREADS:-1}"
    echo "    incoming-num-tcp: 1000"
    echo "    http-max-streams: 1000"
    echo "    tcp-idle-timeout: 30000"
    echo "    do-daemonize: no"
    echo "    username: \"\""
    echo "    chroot: \"\""
    echo "    directory: \"$dir\""
    echo "    pidfile: \"$dir/unbound.pid\""
    echo "    use-syslog: no"
    echo "    logfile: \"\""
    echo "    verbosity: 1"
    echo "    do-ip6: no"
    echo "    access-control: 127.0.0.0/8 allow"
    echo "    ratelimit: 0"
    echo "    ip-ratelimit: 0"
    echo "    module-config: \"iterator\""
    echo "    local-zone: \"example.test.\" static"
    while IFS= read -r line; do
      [ -n "$line" ] && echo "    local-data: \"$line\""
    done < "$data"
  } > "$dir/unbound.conf"
  unbound-checkconf "$dir/unbound.conf" >"$dir/checkconf.log" 2>&1 || { cat "$dir/checkconf.log" >&2; die "bad config"; }
  nohup unbound -d -c "$dir/unbound.conf" >"$dir/unbound.log" 2>&1 &
  echo $! > "$dir/unbound.pid.start"
  pid=$(cat "$dir/unbound.pid.start")
  for _ in $(seq 1 100); do
    if kdig -p "$port" @127.0.0.1 +short +timeout=1 +retry=0 www.example.test A 2>/dev/null | grep -q .; then
      echo "$pid" > "$dir/unbound.pid"
      echo "unbound-server: unbound pid $pid on 127.0.0.1: dns $port, tls $tls_port, https $https_port" >&2
      if [ -n "${UNBOUND_WATCH_PID:-}" ]; then watch_parent "$UNBOUND_WATCH_PID" "$pid" unbound-watchdog; fi
      exit 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$dir/unbound.log" >&2; die "unbound exited"; }
    sleep 0.1
  done
  cat "$dir/unbound.log" >&2
  kill "$pid" 2>/dev/null || true
  die "unbound did not answer on 127.0.0.1:$port within 10 s"
  ;;
stop)
  [ $# -eq 2 ] || die "usage: $0 stop DIR"
  pidfile="$2/unbound.pid"
  [ -f "$pidfile" ] || pidfile="$2/unbound.pid.start"
  [ -f "$pidfile" ] || { echo "unbound-server: nothing to stop in $2" >&2; exit 0; }
  stop_pid "$(cat "$pidfile")"
  rm -f "$2/unbound.pid" "$2/unbound.pid.start"
  ;;
*)
  die "usage: $0 start DIR PORT TLS_PORT HTTPS_PORT [LOCAL_DATA_FILE] | stop DIR"
  ;;
esac
