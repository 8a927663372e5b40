// Written by tools/record-log-samples.sh: real lines from rsyslogd 8.2302.0
// fed by logger on a private socket. Do not edit by hand; run the script again.
enum RecordedSamples {
    static let traditional = ##"""
        Nov 23 07:03:33 vm sshd[15154]: Failed password for invalid user admin from 203.0.113.7 port 52100 ssh2
        Nov 23 07:03:33 vm sshd[15156]: error: kex_exchange_identification: Connection closed by remote host
        Nov 23 07:03:33 vm CRON: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)
        Nov 23 07:03:33 vm app user bob from 10.0.0.1 failed
        Nov 23 07:03:33 vm kernel: message with "quotes", tabs#011and unicode: café ✓
        """##
    static let precise = ##"""
        2026-11-23T07:03:33.876201+00:00 vm sshd[15154]: Failed password for invalid user admin from 203.0.113.7 port 52100 ssh2
        2026-11-23T07:03:33.885243+00:00 vm sshd[15156]: error: kex_exchange_identification: Connection closed by remote host
        2026-11-23T07:03:33.887546+00:00 vm CRON: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)
        2026-11-23T07:03:33.896900+00:00 vm app user bob from 10.0.0.1 failed
        2026-11-23T07:03:33.899775+00:00 vm kernel: message with "quotes", tabs#011and unicode: café ✓
        """##
    static let rfc5424 = ##"""
        <38>1 2026-11-23T07:03:33.876201+00:00 vm sshd 15154 - -  Failed password for invalid user admin from 203.0.113.7 port 52100 ssh2
        <36>1 2026-11-23T07:03:33.885243+00:00 vm sshd 15156 - -  error: kex_exchange_identification: Connection closed by remote host
        <78>1 2026-11-23T07:03:33.887546+00:00 vm CRON - - -  (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)
        <131>1 2026-11-23T07:03:33.896900+00:00 vm app - ID47 [timeQuality tzKnown="1" isSynced="0"][origin@32473 ip="10.0.0.1" note="quote \" back \\ bracket \]"] user bob from 10.0.0.1 failed
        <13>1 2026-11-23T07:03:33.899775+00:00 vm kernel - - -  message with "quotes", tabs#011and unicode: café ✓
        """##
    static let json = ##"""
        {"time":"2026-11-23T07:03:33.876201+00:00", "host":"vm", "app":"sshd", "pid":"15154", "severity":"info", "msg":" Failed password for invalid user admin from 203.0.113.7 port 52100 ssh2"}
        {"time":"2026-11-23T07:03:33.885243+00:00", "host":"vm", "app":"sshd", "pid":"15156", "severity":"warning", "msg":" error: kex_exchange_identification: Connection closed by remote host"}
        {"time":"2026-11-23T07:03:33.887546+00:00", "host":"vm", "app":"CRON", "pid":"-", "severity":"info", "msg":" (root) CMD (command -v debian-sa1 > \/dev\/null && debian-sa1 1 1)"}
        {"time":"2026-11-23T07:03:33.896900+00:00", "host":"vm", "app":"app", "pid":"-", "severity":"err", "msg":"user bob from 10.0.0.1 failed"}
        {"time":"2026-11-23T07:03:33.899775+00:00", "host":"vm", "app":"kernel", "pid":"-", "severity":"notice", "msg":" message with \"quotes\", tabs#011and unicode: café ✓"}
        """##
}
