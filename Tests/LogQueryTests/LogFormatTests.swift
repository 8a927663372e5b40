import Testing
@testable import LogQuery

@Suite struct LogFormatTests {
    let june2026 = LogParseOptions(format: .rfc3164, referenceTime: LogTime(rfc3339: "2026-06-01T00:00:00Z"))

    func parse(_ line: String, _ options: LogParseOptions) -> LogRecord {
        var bytes = Array(line.utf8)
        return bytes.withUnsafeMutableBufferPointer {
            LogLineParser(format: options.format, options: options)
                .record(UnsafeBufferPointer($0), offset: 0, ordinal: 0, length: 0, flags: [])
        }
    }

    @Test func rfc3164FileLineHasTimeHostAppPidAndMessage() {
        let r = parse(
            "Nov  3 06:43:15 web1 sshd[4242]: Failed password for root from 10.0.0.1 port 22 ssh2",
            LogParseOptions(format: .rfc3164, referenceTime: LogTime(rfc3339: "2026-11-23T00:00:00Z")))
        #expect(r.timestamp == LogTime(rfc3339: "2026-11-03T06:43:15Z"))
        #expect(r.host == "web1")
        #expect(r.app == "sshd")
        #expect(r.pid == 4242)
        #expect(r.message == "Failed password for root from 10.0.0.1 port 22 ssh2")
        #expect(r.flags == [])
        #expect(r.severity == nil)
    }

    @Test func rfc3164PriorityGivesFacilityAndSeverity() {
        let r = parse("<38>Jan 10 10:00:00 gw kernel: eth0 link up", june2026)
        #expect(r.facility == 4)
        #expect(r.severity == LogSeverity(name: "info"))
        #expect(r.app == "kernel")
        #expect(r.pid == nil)
        #expect(r.message == "eth0 link up")
    }

    @Test func rfc3164MonthAfterTheFileMonthBelongsToThePreviousYear() {
        let january = LogParseOptions(format: .rfc3164, referenceTime: LogTime(rfc3339: "2026-01-02T00:00:00Z"))
        #expect(parse("Dec 31 23:59:59 h a: x", january).timestamp == LogTime(rfc3339: "2025-12-31T23:59:59Z"))
        #expect(parse("Jan  1 00:00:01 h a: x", january).timestamp == LogTime(rfc3339: "2026-01-01T00:00:01Z"))
    }

    @Test func rfc3164YearHookAndZoneOverrideTheDefaults() {
        let options = LogParseOptions(format: .rfc3164, yearForMonth: { _ in 2001 }, defaultUTCOffsetSeconds: 3_600)
        #expect(parse("Feb  3 10:00:00 h a: x", options).timestamp == LogTime(rfc3339: "2001-02-03T09:00:00Z"))
    }

    @Test func rfc3164AcceptsRsyslogHighPrecisionTimestamps() {
        let r = parse("2026-11-23T06:43:15.123456+01:00 web1 CRON[7]: (root) CMD (true)", june2026)
        #expect(r.timestamp == LogTime(rfc3339: "2026-11-23T05:43:15.123456Z"))
        #expect(r.app == "CRON" && r.pid == 7 && r.message == "(root) CMD (true)")
    }

    @Test func rfc3164LineWithoutTagKeepsTheRestAsMessage() {
        let r = parse("Mar  1 00:00:00 host just some text", june2026)
        #expect(r.host == "host" && r.app == nil && r.message == "just some text" && !r.flags.contains(.raw))
    }

    @Test func lineNotOfTheFormatIsKeptRawWithTheWholeLine() {
        let r = parse("this is not syslog", june2026)
        #expect(r.flags == .raw)
        #expect(r.message == "this is not syslog")
    }

    @Test func rfc5424HeaderStructuredDataAndMessage() {
        let line =
            #"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 1234 ID47 "#
            + #"[exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]"#
            + #"[examplePriority@32473 class="high"] "#
            + "\u{FEFF}An application event log entry..."
        let r = parse(line, LogParseOptions(format: .rfc5424))
        #expect(r.timestamp == LogTime(rfc3339: "2003-10-11T22:14:15.003Z"))
        #expect(r.host == "mymachine.example.com" && r.app == "evntslog" && r.pid == 1234 && r.msgid == "ID47")
        #expect(r.facility == 20 && r.severity?.rawValue == 5)
        #expect(r.structuredData.map(\.id) == ["exampleSDID@32473", "examplePriority@32473"])
        #expect(r.structuredData[0].parameters.map(\.name) == ["iut", "eventSource", "eventID"])
        #expect(r.message == "An application event log entry...")
    }

    @Test func rfc5424EscapesDuplicatesNilValuesAndOffsets() {
        let line = #"<13>1 2026-01-01T10:00:00.5+02:00 - - - - [a x="q\"uote" x="back\\slash"][a y="br\]acket"] m"#
        let r = parse(line, LogParseOptions(format: .rfc5424))
        #expect(r.timestamp == LogTime(rfc3339: "2026-01-01T08:00:00.5Z"))
        #expect(r.host == nil && r.app == nil && r.pid == nil && r.msgid == nil)
        #expect(
            r.structuredData == [
                StructuredDataElement(
                    id: "a",
                    parameters: [.init(name: "x", value: #"q"uote"#), .init(name: "x", value: #"back\slash"#)]),
                StructuredDataElement(id: "a", parameters: [.init(name: "y", value: "br]acket")]),
            ])
        #expect(r.message == "m")
    }

    @Test func rfc5424WithoutMessageAndWithNilStructuredData() {
        let r = parse("<14>1 - host app 99 - -", LogParseOptions(format: .rfc5424))
        #expect(r.timestamp == nil && r.host == "host" && r.message == "" && r.structuredData.isEmpty && r.pid == 99)
    }

    @Test func rfc5424MalformedStructuredDataIsRaw() {
        let r = parse(#"<14>1 - h a - - [x y="unterminated] msg"#, LogParseOptions(format: .rfc5424))
        #expect(r.flags.contains(.raw))
    }

    @Test func jsonLineMapsWellKnownFieldsAndKeepsTheRest() {
        let line =
            #"{"@timestamp":"2026-01-01T00:00:00Z","hostname":"web1","program":"sshd","pid":42,"#
            + #""level":"warning","msg":"Failed \"pw\" \u00e9\ud83d\ude00","user":"root","n":{"a":[1,2]}}"#
        let r = parse(line, LogParseOptions(format: .jsonLines))
        #expect(r.timestamp == LogTime(rfc3339: "2026-01-01T00:00:00Z"))
        #expect(r.host == "web1" && r.app == "sshd" && r.pid == 42 && r.severity == LogSeverity(name: "warning"))
        #expect(r.message == "Failed \"pw\" é😀")
        #expect(r.extraFields.map(\.name) == ["user", "n"])
        #expect(r.extraFields[1].value == #"{"a":[1,2]}"#)
        #expect(r.flags == [])
    }

    @Test func jsonNumericTimeIsEpochSecondsOrMilliseconds() {
        let s = parse(#"{"time":1767225600.5,"message":"x"}"#, LogParseOptions(format: .jsonLines))
        let ms = parse(#"{"ts":1767225600500,"message":"x"}"#, LogParseOptions(format: .jsonLines))
        #expect(s.timestamp == LogTime(rfc3339: "2026-01-01T00:00:00.5Z"))
        #expect(ms.timestamp == s.timestamp)
    }

    @Test func brokenJsonIsRaw() {
        #expect(parse(#"{"a": 1,"#, LogParseOptions(format: .jsonLines)).flags == .raw)
        #expect(parse(#"{"a": tru}"#, LogParseOptions(format: .jsonLines)).flags == .raw)
        #expect(parse(#"{"a": 1} x"#, LogParseOptions(format: .jsonLines)).flags == .raw)
    }

    @Test func autoDetectionPicksTheMajorityFormat() {
        func detect(_ text: String) -> LogFormat {
            LogFormat.detect(sampleLines: LogFormat.sampleLines(Array(text.utf8)))
        }
        #expect(detect("<14>1 - h a - - - x\n<14>1 - h a - - - y\n") == .rfc5424)
        #expect(detect("{\"msg\":\"a\"}\n{\"msg\":\"b\"}\ngarbage\n") == .jsonLines)
        #expect(detect("Jan  1 00:00:00 h a: x\nJan  1 00:00:00 h a: y\n") == .rfc3164)
        #expect(detect("nothing\nparses\n") == .rfc3164)
    }

    @Test func invalidUTF8IsRepairedAndFlagged() {
        var bytes = Array("Jan  1 00:00:00 h a: bad ".utf8) + [0xFF, 0xC3] + Array(" end".utf8)
        let r = bytes.withUnsafeMutableBufferPointer {
            LogLineParser(format: .rfc3164, options: june2026)
                .record(UnsafeBufferPointer($0), offset: 0, ordinal: 0, length: 0, flags: [])
        }
        #expect(r.flags == .invalidUTF8)
        #expect(r.message == "bad \u{FFFD}\u{FFFD} end")
    }

    @Test func rfc3339ParsingRejectsMalformedTimes() {
        #expect(LogTime(rfc3339: "2026-02-30T00:00:00Z") == nil)
        #expect(LogTime(rfc3339: "2026-01-01T00:00:00") == LogTime(rfc3339: "2026-01-01T00:00:00Z"))
        #expect(LogTime(rfc3339: "2026-01-01T00:00:00+0530") == LogTime(rfc3339: "2025-12-31T18:30:00Z"))
        #expect(LogTime(rfc3339: "2026-01-01T00:00:00Zjunk") == nil)
        #expect(LogTime(rfc3339: "1969-12-31T23:59:59Z")?.nanosecondsSinceEpoch == -1_000_000_000)
    }
}
