import Foundation
import Testing
@testable import LogQuery

@Suite struct LogScannerTests {
    /// A file with every awkward shape: empty line, raw line, CRLF, invalid UTF-8, a line longer
    /// than the 100-byte cut used below, and a partial last line.
    static let awkward: [UInt8] =
        Array(
            """
            Jan  1 00:00:01 web1 sshd[10]: Failed password for root from 10.0.0.1 port 22 ssh2
            Jan  1 00:00:02 web2 CRON[11]: (root) CMD (true)

            not a syslog line at all
            Jan  1 00:00:03 Failed password: header hit only\r
            Jan  1 00:00:04 web1 sshd[12]: user bob from 10.0.0.2
            """.utf8) + [0x0A] + Array("Jan  1 00:00:05 web1 app: bad ".utf8) + [0xFF, 0xFE] + [0x0A]
        + Array("Jan  1 00:00:06 web1 sshd[13]: \(String(repeating: "x", count: 120)) Failed password\n".utf8)
        + Array("Jan  1 00:00:07 web3 sshd[14]: Failed password partial".utf8)

    @Test func everyLineBecomesOneRecordWithExactPositions() throws {
        try withLogFile(Self.awkward) { path in
            let records = try scan(path, maxLineLength: 100)
            #expect(records.count == 9)
            #expect(records.map(\.ordinal) == Array(0..<9))
            #expect(records[0].offset == 0)
            for (a, b) in zip(records, records.dropFirst()) { #expect(a.offset + a.length == b.offset) }
            #expect(records.last!.offset + records.last!.length == Int64(Self.awkward.count))
            #expect(records[2].flags == .raw && records[2].message == "")
            #expect(records[3].flags == .raw && records[3].message == "not a syslog line at all")
            #expect(
                records[4].host == "Failed" && records[4].app == "password" && records[4].message == "header hit only")
            #expect(records[6].flags == .invalidUTF8)
            #expect(records[7].flags == .cut && records[7].message.utf8.count == 100 - 31)
            #expect(records[8].flags == .partial && records[8].message == "Failed password partial")
        }
    }

    @Test func everyBufferSplitPointGivesTheSameRecords() throws {
        try withLogFile(Self.awkward) { path in
            for filter in [nil, #"message contains "Failed password""#, #"app == "sshd" and message ~ "user [a-z]+""#] {
                let expected = try scan(path, filter: filter, maxLineLength: 100)
                let reversed = Array(expected.reversed())
                for size in 1...64 {
                    #expect(
                        try scan(path, filter: filter, bufferSize: size, maxLineLength: 100) == expected,
                        "forward, buffer \(size), filter \(filter ?? "none")")
                    #expect(
                        try scan(path, filter: filter, direction: .reverse, bufferSize: size, maxLineLength: 100)
                            == reversed, "reverse, buffer \(size), filter \(filter ?? "none")")
                }
            }
        }
    }

    @Test func memoryMappedReadsGiveTheSameRecords() throws {
        try withLogFile(Self.awkward) { path in
            let expected = try scan(path, maxLineLength: 100)
            for size in [1, 7, 64, 4096] {
                let scanner = try LogScanner(
                    path: path, options: LogParseOptions(referenceTime: LogTime(rfc3339: "2026-06-01T00:00:00Z")),
                    bufferSize: size, maxLineLength: 100, readMethod: .memoryMap)
                #expect(try collect(scanner) == expected, "buffer \(size)")
            }
        }
    }

    @Test func messageContainsMatchesOnlyTheMessagePart() throws {
        try withLogFile(Self.awkward) { path in
            let hits = try scan(path, filter: #"message contains "Failed password""#)
            #expect(hits.map(\.ordinal) == [0, 7, 8])
            let counted = try LogScanCounter.count(path: path, filter: #"message contains "Failed password""#)
            #expect(counted == 3)
        }
    }

    @Test func reverseGivesForwardRecordsInOppositeOrder() throws {
        let text = (0..<500).map { i in
            i % 7 == 0 ? "junk \(i)\n" : "Feb  2 03:04:05 h\(i % 3) app[\(i)]: message number \(i)\n"
        }.joined()
        try withLogFile(text) { path in
            let forward = try scan(path, bufferSize: 333)
            #expect(forward.count == 500)
            #expect(try scan(path, direction: .reverse, bufferSize: 333) == forward.reversed())
            #expect(
                try scan(path, filter: "pid > 250", direction: .reverse, bufferSize: 97)
                    == forward.filter { ($0.pid ?? 0) > 250 }.reversed())
        }
    }

    @Test func batchesRespectMaxRecordsAndSlicesRespectTheBudget() throws {
        let text = (0..<100).map { "Jan  1 00:00:00 h a[\($0)]: \($0 == 99 ? "needle" : "hay")\n" }.joined()
        try withLogFile(text) { path in
            let all = try LogScanner(path: path, bufferSize: 200)
            var ordinals: [Int64] = []
            while case .records(let batch) = all.advance(budgetBytes: 1 << 20, maxRecords: 3) {
                #expect((1...3).contains(batch.count))
                ordinals += batch.map(\.ordinal)
            }
            #expect(ordinals == Array(0..<100))
            let rare = try LogScanner(path: path, filter: LogFilter(#"message contains "needle""#), bufferSize: 64)
            #expect(rare.advance(budgetBytes: 64, maxRecords: 10) == .needMore)
            let rest = try collect(rare)
            #expect(rest.map(\.ordinal) == [99])
            #expect(rare.advance(budgetBytes: 64, maxRecords: 10) == .endOfFile)
        }
    }

    @Test func followHoldsAPartialLineUntilItIsComplete() throws {
        try withLogFile("Jan  1 00:00:00 h a: one\nJan  1 00:00:00 h a: tw") { path in
            let scanner = try LogScanner(path: path, follow: true, bufferSize: 8)
            #expect(try collect(scanner).map(\.message) == ["one"])
            let handle = try #require(FileHandleAppender(path: path))
            handle.append("o\nJan  1 00:00:00 h a: three\n")
            let more = try collect(scanner)
            #expect(more.map(\.message) == ["two", "three"])
            #expect(more.map(\.flags) == [[], []])
            #expect(more[0].offset == 25 && more[0].ordinal == 1)
        }
    }

    @Test func followedFileEmptyAtOpenGetsItsFormatFromTheFirstLines() throws {
        try withLogFile([UInt8]()) { (path: String) throws in
            let scanner = try LogScanner(path: path, filter: LogFilter(#"app == "web""#), follow: true)
            #expect(try collect(scanner).isEmpty)
            let writer = try #require(FileHandleAppender(path: path))
            writer.append(#"{"app":"web","msg":"a\u0020b"}"# + "\n" + #"{"app":"db","msg":"c"}"# + "\n")
            let records = try collect(scanner)
            #expect(scanner.format == .jsonLines)
            #expect(records.map(\.message) == ["a b"])
        }
    }

    @Test func countModeEqualsTheFullParseCount() throws {
        var text = ""
        var generator = SystemRandomNumberGenerator()
        let apps = ["sshd", "CRON", "kernel", "sshd-session", "Failed"]
        for i in 0..<3_000 {
            let app = apps[Int.random(in: 0..<apps.count, using: &generator)]
            let body =
                Int.random(in: 0..<10, using: &generator) < 3 ? "Failed password for u\(i)" : "Accepted for u\(i)"
            // Every 97th line is not syslog; every 89th has an impossible date (raw in both modes too).
            let date = i % 89 == 0 ? "Feb 30" : "Mar  3"
            text +=
                i % 97 == 0
                ? "Failed password in a raw line\n" : "\(date) 01:02:03 host\(i % 4) \(app)[\(i)]: \(body)\n"
        }
        try withLogFile(text) { path in
            for filter in [
                #"message contains "Failed password""#, #"app == "sshd" and message ~ "Failed""#,
                #"message contains "Failed" and not (host == "host1")"#, "severity <= debug or pid < 100",
            ] {
                let full = try scan(path, filter: filter, bufferSize: 4096).count
                #expect(try LogScanCounter.count(path: path, filter: filter, bufferSize: 4096) == full, "\(filter)")
                #expect(
                    try LogScanCounter.count(path: path, filter: filter, bufferSize: 4096, readMethod: .memoryMap)
                        == full, "\(filter), mmap")
                #expect(full > 0)
            }
        }
    }

    @Test func jsonAndRfc5424FilesAreDetectedAndFiltered() throws {
        let json = (0..<20).map {
            #"{"time":"2026-01-01T00:00:\#(String(format: "%02d", $0))Z","app":"a\#($0 % 2)","msg":"m\u0041 \#($0)"}"#
                + "\n"
        }
        try withLogFile(json.joined()) { path in
            let records = try scan(path, filter: #"message contains "mA" and app == "a1""#, bufferSize: 50)
            #expect(records.count == 10 && records.allSatisfy { $0.app == "a1" && $0.flags.isEmpty })
        }
        let ietf = (0..<20).map { "<\($0 % 8)>1 2026-01-01T00:00:00Z h app \($0) - [x@1 k=\"v\\]\"] text \($0)\n" }
        try withLogFile(ietf.joined()) { path in
            let records = try scan(path, filter: "severity <= err and sd.x@1.k == \"v]\"", bufferSize: 7)
            #expect(records.map(\.pid) == [0, 1, 2, 3, 8, 9, 10, 11, 16, 17, 18, 19])
        }
    }

    @Test func rfc3164YearsComeFromTheFileModificationTimeAcrossNewYear() throws {
        try withLogFile("Dec 31 23:59:58 h a: old year\nJan  1 00:00:01 h a: new year\n") { path in
            // mtime 2026-01-02T00:00:00Z
            var times = [
                timespec(tv_sec: 1_767_312_000, tv_nsec: 0), timespec(tv_sec: 1_767_312_000, tv_nsec: 0),
            ]
            #expect(utimensat(AT_FDCWD, path, &times, 0) == 0)
            let records = try collect(try LogScanner(path: path))
            #expect(
                records.map(\.timestamp) == [
                    LogTime(rfc3339: "2025-12-31T23:59:58Z"), LogTime(rfc3339: "2026-01-01T00:00:01Z"),
                ])
        }
    }

    /// Count mode skips the timestamp but keeps its checks: 29 February is a date only in a leap year
    /// (the year inferred from the reference time), else the line is raw and its message the whole line.
    @Test func countModeJudgesTheTwentyNinthOfFebruaryByTheInferredYear() throws {
        try withLogFile("Feb 29 01:02:03 host app: hello\nFeb 28 01:02:03 host app: hello\n") { path in
            let filter = #"message contains "host app""#
            for (reference, expected) in [("2024-06-01T00:00:00Z", 0), ("2025-06-01T00:00:00Z", 1)] {
                let options = LogParseOptions(referenceTime: LogTime(rfc3339: reference))
                let scanner = try LogScanner(path: path, filter: try LogFilter(filter), options: options)
                #expect(try collect(scanner).count == expected, "\(reference)")
                #expect(try LogScanCounter.count(path: path, filter: filter, options: options) == expected)
                #expect(
                    try LogScanCounter.count(path: path, filter: filter, options: options, readMethod: .memoryMap)
                        == expected)
            }
        }
    }

    @Test func openAndReadFailuresAreTypedErrorsWithErrno() throws {
        #expect(throws: LogScanError(operation: "open", errno: ENOENT, path: "/nonexistent/evquery/log")) {
            try LogScanner(path: "/nonexistent/evquery/log")
        }
        #expect(throws: LogScanError(operation: "pread", errno: EISDIR, path: "/tmp")) { try LogScanner(path: "/tmp") }
    }

    @Test func emptyFileEndsAtOnceInBothDirections() throws {
        try withLogFile([UInt8]()) { (path: String) throws in
            #expect(try scan(path).isEmpty)
            #expect(try scan(path, direction: .reverse).isEmpty)
        }
    }
}
