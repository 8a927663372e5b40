#!/usr/bin/env python3
"""Writes a synthetic RFC 3164 syslog file of about SIZE bytes (default 1 GiB) to PATH.

A realistic mix: sshd (Failed password ~3 %, Accepted, Invalid user, disconnects), CRON, kernel,
systemd, postfix, nginx-style app lines; a few hosts. Deterministic (fixed seed).
"""
import random
import sys

path = sys.argv[1]
size = int(sys.argv[2]) if len(sys.argv) > 2 else 1 << 30
rng = random.Random(7)
months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
hosts = ["web1", "web2", "db1", "mail", "gw"]
users = ["root", "admin", "oracle", "test", "ubuntu", "git", "alice", "bob", "postgres", "user"]
templates = [
    (30, "sshd[{pid}]: Failed password for {user} from 10.{a}.{b}.{c} port {port} ssh2"),
    (60, "sshd[{pid}]: Accepted publickey for {user} from 192.168.{b}.{c} port {port} ssh2: RSA SHA256:{hx}"),
    (40, "sshd[{pid}]: Invalid user {user} from 10.{a}.{b}.{c} port {port}"),
    (60, "sshd[{pid}]: Disconnected from authenticating user {user} 10.{a}.{b}.{c} port {port} [preauth]"),
    (150, "CRON[{pid}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)"),
    (150, "kernel: [{k}.{k2}] IPv4: martian source 10.{a}.{b}.{c} from 10.{b}.{a}.1, on dev eth0"),
    (150, "systemd[1]: Started Session {port} of user {user}."),
    (120, "postfix/smtpd[{pid}]: connect from unknown[10.{a}.{b}.{c}]"),
    (120, "nginx[{pid}]: 10.{a}.{b}.{c} - - \"GET /api/v1/items/{port} HTTP/1.1\" 200 {k} \"-\" \"curl/8.5\""),
    (60, "app[{pid}]: user {user} from 10.{a}.{b}.{c} logged in; session={hx}"),
    (60, "sudo: {user} : TTY=pts/0 ; PWD=/home/{user} ; USER=root ; COMMAND=/usr/bin/systemctl restart nginx"),
]
weights = [w for w, _ in templates]
texts = [t for _, t in templates]
out = open(path, "w", buffering=1 << 22)
written = 0
t = 0
chunk = []
while written < size:
    t += rng.randint(0, 2)
    day = 1 + (t // 86400) % 28
    month = months[(t // (86400 * 28)) % 12]
    hh, mm, ss = (t // 3600) % 24, (t // 60) % 60, t % 60
    tpl = rng.choices(texts, weights)[0]
    body = tpl.format(
        pid=rng.randint(300, 65000), user=rng.choice(users), a=rng.randint(0, 255), b=rng.randint(0, 255),
        c=rng.randint(1, 254), port=rng.randint(1024, 65535), hx="%016x" % rng.getrandbits(64),
        k=rng.randint(1, 99999), k2=rng.randint(100000, 999999))
    line = "%s %2d %02d:%02d:%02d %s %s\n" % (month, day, hh, mm, ss, rng.choice(hosts), body)
    chunk.append(line)
    written += len(line)
    if len(chunk) >= 10000:
        out.write("".join(chunk))
        chunk = []
out.write("".join(chunk))
out.close()
