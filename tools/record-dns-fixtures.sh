#!/usr/bin/env bash
# Records real DNS packets for the DNSMessage tests: dig's queries and knotd's replies, plus what dig
# printed for each reply, into Tests/DNSMessageTests/Fixtures/:
#   NAME.query.bin   the query exactly as dig sent it
#   NAME.reply.bin   the reply exactly as knotd sent it
#   NAME.dig.txt     dig's output for that very reply (+nostats)
#   fixtures.zone    the zone knotd served (the tests also load it with DNSZoneParser)
# How: knotd (tools/knot-server.sh) serves fixtures.zone on 127.0.0.1; dig talks to a tiny python3
# UDP relay in between that saves both packets of each exchange, so the dig text and the .bin
# are the same packet. Usage: tools/record-dns-fixtures.sh   (needs tools/install-dns-peers.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
out=Tests/DNSMessageTests/Fixtures
work=$(mktemp -d /tmp/dns-fixtures.XXXXXX)
relay_pid=""
cleanup() {
  [ -n "$relay_pid" ] && kill "$relay_pid" 2>/dev/null || true
  tools/knot-server.sh stop "$work/knot" || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
knot_port=$(free_port)
relay_port=$(free_port)

long1=$(printf 'a%.0s' $(seq 1 200))
long2=$(printf 'b%.0s' $(seq 1 255))
long3=$(printf 'c%.0s' $(seq 1 180))
{
  cat <<'ZONE'
$ORIGIN example.com.
$TTL 300
@       IN SOA  ns1.example.com. hostmaster.example.com. (
                2026112301 ; serial
                3600       ; refresh
                900        ; retry
                604800     ; expire
                300 )      ; minimum
        IN NS   ns1
        IN NS   ns2.example.net.
        IN MX   10 mail
        IN MX   20 mail2.example.net.
        IN TXT  "v=spf1 -all"
        IN CAA  0 issue "letsencrypt.org"
        IN CAA  128 iodef "mailto:security@example.com"
ns1     IN A    192.0.2.53
        IN AAAA 2001:db8::53
mail    IN A    192.0.2.25
www  60 IN A    192.0.2.1
     60 IN A    192.0.2.2
        IN AAAA 2001:db8::1
alias   IN CNAME www
ptr     IN PTR  www.example.com.
sip     IN A    192.0.2.10
_sip._udp IN SRV 10 60 5060 sip
unknown IN TYPE65280 \# 3 abcdef
ZONE
  echo "big     IN TXT  \"$long1\" \"with \\\"quotes\\\", a \\\\ and \\255 byte\" ( \"$long2\""
  echo "                \"$long3\" )"
  for i in $(seq 1 20); do echo "many    IN A    192.0.2.$((100 + i))"; done
} > "$work/example.com.zone"
cp "$work/example.com.zone" "$out/fixtures.zone"

tools/knot-server.sh start "$work/knot" "$knot_port" "$work/example.com.zone"

cat > "$work/relay.py" <<'PY'
import socket, sys
relay_port, knot_port, spool = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
front = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
front.bind(("127.0.0.1", relay_port))
back = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
back.connect(("127.0.0.1", knot_port))
back.settimeout(5)
n = 0
while True:
    query, client = front.recvfrom(65535)
    back.send(query)
    reply = back.recv(65535)
    with open(f"{spool}/q{n}", "wb") as f: f.write(query)
    with open(f"{spool}/r{n}", "wb") as f: f.write(reply)
    n += 1
    front.sendto(reply, client)
PY
mkdir -p "$work/spool"
python3 "$work/relay.py" "$relay_port" "$knot_port" "$work/spool" &
relay_pid=$!
sleep 0.3

n=0
record() {  # record NAME QNAME QTYPE [dig options...]
  local fixture=$1 qname=$2 qtype=$3; shift 3
  dig @127.0.0.1 -p "$relay_port" +tries=1 +time=3 +nostats "$@" "$qname" "$qtype" > "$out/$fixture.dig.txt"
  mv "$work/spool/q$n" "$out/$fixture.query.bin"
  mv "$work/spool/r$n" "$out/$fixture.reply.bin"
  n=$((n + 1))
}
record a            www.example.com      A
record a-0x20       wWw.ExAmPlE.cOm      A     +nocookie
record a-noedns     www.example.com      A     +noedns
record a-dnssec     www.example.com      A     +dnssec +nocookie
record aaaa         www.example.com      AAAA
record cname        alias.example.com    A
record ns           example.com          NS
record ptr          ptr.example.com      PTR
record mx           example.com          MX
record txt          example.com          TXT
record txt-big      big.example.com      TXT   +nocookie
record srv          _sip._udp.example.com SRV
record soa          example.com          SOA
record caa          example.com          CAA
record unknown      unknown.example.com  TYPE65280
record nxdomain     nope.example.com     A
record many         many.example.com     A     +nocookie
record refused      example.org          A     +norecurse
echo "recorded $n exchanges into $out" >&2
