import Testing
@testable import LogQuery

/// Dates whose nanoseconds since 1970 do not fit 64 bits (years before 1677 or after 2262, which a
/// log line or a filter can write) are no instant, never a trap: what the fuzzers found.
@Suite struct LogTimeRangeTests {
    @Test func aDateOutsideWhat64BitNanosecondsHoldIsNoInstant() {
        #expect(LogTime(year: 2300, month: 8, day: 24, hour: 5, minute: 14, second: 15) == nil)
        #expect(LogTime(year: 1013, month: 12, day: 7, hour: 16, minute: 21, second: 15) == nil)
        #expect(LogTime(rfc3339: "6220-12-07T16:21:15.123456+01:00") == nil)
        #expect(LogTime(rfc3339: "9999-12-31T23:59:59Z") == nil)
        // The last whole second that fits, and the first that does not.
        #expect(LogTime(rfc3339: "2262-04-11T23:47:16Z") != nil)
        #expect(LogTime(rfc3339: "2262-04-11T23:47:17Z") == nil)
        #expect(LogTime(rfc3339: "1677-09-21T00:12:44Z") != nil)
    }

    @Test func linesAndFiltersWithSuchDatesParseWithoutATrap() {
        let options = LogParseOptions(yearForMonth: { _ in 2026 })
        let lines: [(LogFormat, String)] = [
            (.rfc3164, "6220-12-07T16:21:15.123456+01:00 host systemd[1]: Started Session 4 of user root."),
            (.rfc5424, "<165>1 2300-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - msg"),
            (.jsonLines, #"{"time":"1013-12-07T16:21:15Z","host":"h","message":"m"}"#),
        ]
        for (format, line) in lines {
            let record = Array(line.utf8).withUnsafeBufferPointer {
                LogLineParser(format: format, options: options).record($0, offset: 0, ordinal: 0,
                                                                       length: Int64($0.count), flags: [])
            }
            #expect(record.timestamp == nil, "\(format)")
        }
        #expect(throws: LogFilterError.self) { try LogFilter(#"time >= "2300-01-01T00:00:00Z""#) }
    }
}
