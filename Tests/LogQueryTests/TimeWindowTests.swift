import EventReactor
import EvqueryTestSupport
import Foundation
import Testing

@testable import LogQuery

#if canImport(Glibc)
    import Glibc
#endif

/// Seeks by time: a binary search in a file whose records are in order, a forward scan where not.
@Suite struct TimeWindowTests {
    /// 40,000 lines, one a second (about 3 MB); `swapped` puts the second half first (out of order).
    static func lines(swapped: Bool) -> String {
        let first = syslogLines(20_000, padding: 10)
        let second = syslogLines(20_000, from: 20_000, padding: 10)
        return swapped ? second + first : first + second
    }

    func bisect(_ path: String, _ time: LogTime) throws -> LogPosition? {
        let scanner = try LogScanner(path: path)
        return scanner.timeBisectionStart(atOrAfter: time)
    }

    @Test func anOrderedFileIsSearchedByBisectionToWithinAWindowOfTheTime() throws {
        try withLogFile(Self.lines(swapped: false)) { path in
            let all = try collect(try LogScanner(path: path), maxRecords: 100_000)
            let target = all[31_234]
            let time = try #require(target.timestamp)
            let start = try #require(try bisect(path, time))
            // A line start, with its exact ordinal, no more than the window before the record.
            #expect(all[Int(start.ordinal)].offset == start.offset)
            #expect(start.offset <= target.offset && target.offset - start.offset <= TimeBisection.window + 200)
        }
    }

    @Test func anUnorderedFileIsNotBisected() throws {
        try withLogFile(Self.lines(swapped: true)) { path in
            let all = try collect(try LogScanner(path: path), maxRecords: 100_000)
            let time = try #require(all[25_000].timestamp)
            #expect(try bisect(path, time) == nil)
        }
    }

    @Test func seekByTimeFindsTheSameRecordInOrderedAndUnorderedFiles() throws {
        for swapped in [false, true] {
            try withLogFile(Self.lines(swapped: swapped)) { path in
                try withAuditedReactor { reactor, ledger in
                    let all = try collect(try LogScanner(path: path), maxRecords: 100_000)
                    let forward = try LogQuery.open(path: path, on: reactor)
                    let reverse = try LogQuery.open(path: path, direction: .reverse, on: reactor)
                    defer {
                        forward.close()
                        reverse.close()
                    }
                    for index in [0, 7, 19_999, 20_000, 33_333, 39_999] {
                        let time = try #require(all[index].timestamp)
                        // The first record in file order at or after the time; in reverse the newest
                        // at or before it (in order: the record itself).
                        let expected = try #require(all.firstIndex { $0.timestamp! >= time })
                        #expect(seek(forward, ledger, to: .time(time)) == .success(true))
                        #expect(nextNumbers(forward, ledger, max: 1) == [sequenceNumber(all[expected])])
                        if !swapped {
                            #expect(seek(reverse, ledger, to: .time(time)) == .success(true))
                            #expect(nextNumbers(reverse, ledger, max: 1) == [sequenceNumber(all[index])])
                        }
                    }
                }
            }
        }
    }
}

@Suite struct TimeArgumentTests {
    let now = LogTime(rfc3339: "2026-12-07T12:00:00Z")!

    @Test func absoluteRelativeAndNowTimesAreRead() {
        #expect(LogTime(argument: "2026-12-07T11:00:00+01:00", now: now) == LogTime(rfc3339: "2026-12-07T10:00:00Z"))
        #expect(LogTime(argument: "-1h", now: now) == LogTime(rfc3339: "2026-12-07T11:00:00Z"))
        #expect(LogTime(argument: "-30m", now: now) == LogTime(rfc3339: "2026-12-07T11:30:00Z"))
        #expect(LogTime(argument: "+2d", now: now) == LogTime(rfc3339: "2026-12-09T12:00:00Z"))
        #expect(LogTime(argument: "-1w", now: now) == LogTime(rfc3339: "2026-11-30T12:00:00Z"))
        #expect(LogTime(argument: "now", now: now) == now)
    }

    @Test func malformedTimesAreRejected() {
        for text in ["", "-", "-h", "1h", "-1y", "-1.5h", "yesterday", "2026-13-01T00:00:00Z", "-99999999999999999w"] {
            #expect(LogTime(argument: text, now: now) == nil, "\(text)")
        }
    }

    @Test func aRelativeTimePastTheRangeOfLogTimeIsRejectedNotATrap() {
        // 15,000 weeks is 9.07e18 ns: within Int64 alone, past it once added to now.
        #expect(LogTime(argument: "+15000w", now: now) == nil)
        #expect(LogTime(argument: "-15000w", now: LogTime(nanosecondsSinceEpoch: -1_800_000_000_000_000_000)) == nil)
        #expect(LogTime(argument: "+1000w", now: now) != nil)
    }

    @Test func theRFC3339FormReadsBackToTheSameTime() {
        for text in ["2026-12-07T10:00:00.25Z", "1969-12-31T23:59:59.999999999Z", "2026-02-28T00:00:00Z"] {
            let time = LogTime(rfc3339: text)!
            #expect(LogTime(rfc3339: time.rfc3339) == time, "\(time.rfc3339)")
        }
    }
}
