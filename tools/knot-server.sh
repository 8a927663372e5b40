#!/usr/bin/env bash
# Starts and stops a private Knot DNS server (knotd) on 127.0.0.1 for tests and peer comparisons.
#
# Usage:
#   tools/knot-server.sh start DIR PORT ZONEFILE...   # serve each zone file, answer on 127.0.0.1:PORT
#   tools/knot-server.sh stop DIR                     # kill the knotd started in DIR, wait for it to exit
#
# - DIR is a scratch directory (created if missing) that holds everything: knot.conf, the rundir
#   (control socket), storage (zone copies, journal, timers) and knotd.pid / knotd.log.
# - Each ZONEFILE's zone name is its $ORIGIN if it has one, else the file name without ".zone"
#   (e.g. example.com.zone → example.com.). Zones are served read-only (no journal/zonefile writes).
# - One UDP and one TCP worker by default; set KNOT_UDP_WORKERS / KNOT_TCP_WORKERS to change
#   (the responder target in docs/performance.md uses one UDP worker).
# - `start` returns only when the server answers the SOA of the first zone (checked with kdig, up to
#   10 s); it fails (exit 1, log printed) otherwise. Running as root, knotd runs as root (`user:`).
# - KNOT_WATCH_PID=PID (optional): knotd is stopped (TERM, then KILL after 2 s) once process PID
#   has exited, however it ended: a test process that crashes before its own `stop` runs leaves no
#   knotd behind. A detached watchdog polls PID once a second.
# - Needs knotd and kdig: tools/install-dns-peers.sh.
set -euo pipefail
# shellcheck source=tools/server-lib.sh
source "$(dirname "$0")/server-lib.sh"

die() { echo "knot-server: $*" >&2; exit 1; }

zone_name() {
  local file=$1 origin
  origin=$(awk 'toupper($1)=="$ORIGIN" {print $2; exit}' "$file")
  if [ -z "$origin" ]; then origin=$(basename "$file"); origin=${origin%.zone}; fi
  case $origin in *.) ;; *) origin="$origin." ;; esac
  echo "$origin"
}

cmd=${1:-}
case $cmd in
start)
  [ $# -ge 4 ] || die "usage: $0 start DIR PORT ZONEFILE..."
  dir=$2; port=$3; shift 3
  command -v knotd >/dev/null && command -v kdig >/dev/null || die "knotd/kdig missing: run tools/install-dns-peers.sh"
  mkdir -p "$dir/run" "$dir/storage" "$dir/zones"
  dir=$(cd "$dir" && pwd)
  if [ -f "$dir/knotd.pid" ] && kill -0 "$(cat "$dir/knotd.pid")" 2>/dev/null; then
    die "a knotd started in $dir is still running (pid $(cat "$dir/knotd.pid")); stop it first"
  fi
  user=$(id -un)
  conf="$dir/knot.conf"
  {
    echo "server:"
    echo "    rundir: \"$dir/run\""
    echo "    user: $user"
    echo "    pidfile: \"$dir/run/knot.pid\""
    echo "    listen: 127.0.0.1@$port"
    echo "    udp-workers: ${KNOT_UDP_WORKERS:-1}"
    echo "    tcp-workers: ${KNOT_TCP_WORKERS:-1}"
    echo "    background-workers: 1"
    echo "database:"
    echo "    storage: \"$dir/storage\""
    echo "log:"
    echo "  - target: stderr"
    echo "    any: info"
    echo "template:"
    echo "  - id: default"
    echo "    storage: \"$dir/zones\""
    echo "    zonefile-sync: -1"
    echo "    zonefile-load: whole"
    echo "    journal-content: none"
    echo "    semantic-checks: off"
    echo "zone:"
  } > "$conf"
  first_zone=""
  for file in "$@"; do
    [ -f "$file" ] || die "no zone file $file"
    zone=$(zone_name "$file")
    cp "$file" "$dir/zones/${zone}zone"
    echo "  - domain: $zone" >> "$conf"
    echo "    file: \"$dir/zones/${zone}zone\"" >> "$conf"
    [ -n "$first_zone" ] || first_zone=$zone
  done
  if ! knotc -c "$conf" conf-check >/dev/null 2>"$dir/conf-check.log"; then
    cat "$dir/conf-check.log" >&2
    die "bad config $conf"
  fi
  nohup knotd -c "$conf" >"$dir/knotd.log" 2>&1 &
  echo $! > "$dir/knotd.pid"
  for _ in $(seq 1 100); do
    if kdig -p "$port" @127.0.0.1 +short +timeout=1 +retry=0 "$first_zone" SOA 2>/dev/null | grep -q .; then
      echo "knot-server: knotd pid $(cat "$dir/knotd.pid") answering on 127.0.0.1:$port" >&2
      if [ -n "${KNOT_WATCH_PID:-}" ]; then watch_parent "$KNOT_WATCH_PID" "$(cat "$dir/knotd.pid")" knot-watchdog; fi
      exit 0
    fi
    kill -0 "$(cat "$dir/knotd.pid")" 2>/dev/null || { cat "$dir/knotd.log" >&2; die "knotd exited"; }
    sleep 0.1
  done
  cat "$dir/knotd.log" >&2
  kill "$(cat "$dir/knotd.pid")" 2>/dev/null || true
  die "knotd did not answer on 127.0.0.1:$port within 10 s"
  ;;
stop)
  [ $# -eq 2 ] || die "usage: $0 stop DIR"
  pidfile="$2/knotd.pid"
  [ -f "$pidfile" ] || { echo "knot-server: nothing to stop in $2" >&2; exit 0; }
  stop_pid "$(cat "$pidfile")"
  rm -f "$pidfile"
  ;;
*)
  die "usage: $0 start DIR PORT ZONEFILE... | stop DIR"
  ;;
esac
