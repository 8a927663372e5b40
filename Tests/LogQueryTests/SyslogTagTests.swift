import Testing
@testable import LogQuery

/// Syslog tags as daemons really write them, read as a person reads them.
@Suite struct SyslogTagTests {
    let options = LogParseOptions(format: .rfc3164, referenceTime: LogTime(rfc3339: "2026-12-07T12:00:00Z"))

    func parse(_ line: String) -> LogRecord {
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer {
            LogLineParser(format: .rfc3164, options: options)
                .record(UnsafeBufferPointer($0), offset: 0, ordinal: 0, length: 0, flags: [])
        }
    }

    @Test func aVersionAfterTheProgramNameIsNotPartOfTheApp() {
        let r = parse("Dec  7 10:00:01 gw dhclient 4.4.3: DHCPREQUEST for 10.0.0.5 on eth0 to 10.0.0.1 port 67")
        #expect(r.app == "dhclient" && r.pid == nil && r.message == "DHCPREQUEST for 10.0.0.5 on eth0 to 10.0.0.1 port 67")
        let s = parse("Dec  7 10:00:02 web1 nginx 1.24.0[77]: worker process 78 exited on signal 9")
        #expect(s.app == "nginx" && s.pid == 77 && s.message == "worker process 78 exited on signal 9")
        let v = parse("Dec  7 10:00:03 web1 keepalived v2.2.7[910]: VRRP_Instance(VI_1) Entering MASTER STATE")
        #expect(v.app == "keepalived" && v.pid == 910 && v.message == "VRRP_Instance(VI_1) Entering MASTER STATE")
    }

    @Test func tagsWithPunctuationKeepTheirNameAndPid() {
        let sd = parse("Dec  7 10:00:01 web1 (sd-pam)[812]: pam_unix(systemd-user:session): session closed")
        #expect(sd.app == "(sd-pam)" && sd.pid == 812 && sd.message == "pam_unix(systemd-user:session): session closed")
        let sssd = parse("Dec  7 10:00:01 web1 sssd[be[example.com]][1234]: Backend is offline")
        #expect(sssd.app == "sssd[be[example.com]]" && sssd.pid == 1234 && sssd.message == "Backend is offline")
        let bracketed = parse("Dec  7 10:00:01 web1 [tftpd]: sending file boot.img")
        #expect(bracketed.app == "[tftpd]" && bracketed.pid == nil && bracketed.message == "sending file boot.img")
        let worker = parse("Dec  7 10:00:01 web1 gunicorn[worker-2]: Booting worker")
        #expect(worker.app == "gunicorn" && worker.pid == nil && worker.message == "Booting worker")
        let postfix = parse("Dec  7 10:00:01 mx postfix/smtpd[2290]: connect from unknown[10.0.0.9]")
        #expect(postfix.app == "postfix/smtpd" && postfix.pid == 2290 && postfix.message == "connect from unknown[10.0.0.9]")
    }

    @Test func aTagWithoutAColonStillNamesTheApp() {
        let r = parse("Dec  7 10:00:01 web1 systemd-logind[641] New session 3 of user alice.")
        #expect(r.app == "systemd-logind" && r.pid == 641 && r.message == "New session 3 of user alice.")
    }

    @Test func aFirstWordThatIsNoTagLeavesTheAppEmpty() {
        let r = parse("Dec  7 10:00:01 web1 Starting 2 jobs now")
        #expect(r.app == nil && r.message == "Starting 2 jobs now")
        let m = parse("Dec  7 10:00:01 web1 -- MARK --")
        #expect(m.app == nil && m.message == "-- MARK --")
    }

    @Test func anAppFilterFindsLinesWithUnusualTags() throws {
        let text = """
            Dec  7 10:00:01 gw dhclient 4.4.3: DHCPACK of 10.0.0.5 from 10.0.0.1
            Dec  7 10:00:02 gw dhclient[55]: bound to 10.0.0.5 -- renewal in 1800 seconds.
            Dec  7 10:00:03 gw sssd[be[example.com]][1234]: Backend is online
            Dec  7 10:00:04 gw kernel: eth0 link up

            """
        try withLogFile(text) { path in
            let dhclient = try scan(path, filter: "app == \"dhclient\"")
            #expect(dhclient.map(\.ordinal) == [0, 1])
            let sssd = try scan(path, filter: "app == \"sssd[be[example.com]]\" and pid == 1234")
            #expect(sssd.map(\.ordinal) == [2])
        }
    }
}
