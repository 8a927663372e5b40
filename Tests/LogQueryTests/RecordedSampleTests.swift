import Testing
@testable import LogQuery

/// Lines written by a real rsyslogd (tools/record-log-samples.sh), each format auto-detected.
@Suite struct RecordedSampleTests {
    func records(_ text: String) throws -> (LogFormat, [LogRecord]) {
        try withLogFile(text + "\n") { path in
            let scanner = try LogScanner(
                path: path, options: LogParseOptions(referenceTime: LogTime(rfc3339: "2026-12-01T00:00:00Z")))
            return (scanner.format, try collect(scanner))
        }
    }

    @Test func traditionalFileFormat() throws {
        let (format, r) = try records(RecordedSamples.traditional)
        #expect(format == .rfc3164)
        #expect(r.count == 5 && r.allSatisfy { $0.flags.isEmpty && $0.host == "vm" })
        #expect(r[0].app == "sshd" && r[0].pid != nil && r[0].message.hasPrefix("Failed password for invalid user"))
        #expect(r[0].timestamp.map { $0.utcDate.year } == 2026)
        #expect(r[2].app == "CRON" && r[2].pid == nil)
        #expect(r[4].message.hasSuffix("café ✓"))
    }

    @Test func preciseFileFormat() throws {
        let (format, r) = try records(RecordedSamples.precise)
        #expect(format == .rfc3164)
        #expect(r.count == 5 && r.allSatisfy { $0.flags.isEmpty && $0.timestamp != nil })
        #expect(r[1].app == "sshd" && r[1].message.hasPrefix("error: kex_exchange_identification"))
    }

    @Test func syslogProtocol23Format() throws {
        let (format, r) = try records(RecordedSamples.rfc5424)
        #expect(format == .rfc5424)
        #expect(r.count == 5 && r.allSatisfy { $0.flags.isEmpty })
        #expect(r[0].severity == LogSeverity(name: "info") && r[0].facility == 4 && r[0].app == "sshd")
        #expect(r[3].msgid == "ID47" && r[3].severity == LogSeverity(name: "err") && r[3].facility == 16)
        #expect(r[3].structuredData.map(\.id) == ["timeQuality", "origin@32473"])
        #expect(
            r[3].structuredData[1].parameters
                == [.init(name: "ip", value: "10.0.0.1"), .init(name: "note", value: #"quote " back \ bracket ]"#)])
        #expect(r[3].message == "user bob from 10.0.0.1 failed")
        let filtered = try LogFilter(#"sd.origin@32473.note contains "bracket ]" and severity <= err"#)
        #expect(r.filter(filtered.matches).count == 1)
    }

    @Test func jsonTemplate() throws {
        let (format, r) = try records(RecordedSamples.json)
        #expect(format == .jsonLines)
        #expect(r.count == 5 && r.allSatisfy { $0.flags.isEmpty && $0.host == "vm" })
        #expect(r[0].pid != nil && r[2].pid == nil && r[2].message.contains("/dev/null"))
        #expect(r[1].severity == LogSeverity(name: "warning"))
        let sshdWarnings = try LogFilter(#"app == "sshd" and severity <= warning"#)
        #expect(r.filter(sshdWarnings.matches).map(\.ordinal) == [1])
    }
}
