import EventReactor
import EvqueryTestSupport
import Foundation
import LogQuery
import Testing

/// A one-shot scan that meets a last line without its newline: the record is delivered `.partial`,
/// and a resume from its bookmark reads the line again whole once the writer finishes it.
@Suite struct PartialLineBookmarkTests {
    @Test func resumingFromAPartialLinesBookmarkReadsTheFinishedLineWholeNotItsTail() throws {
        let line = syslogLines(1, from: 3)
        try withLogFile(syslogLines(3) + String(line.dropLast(2))) { path in
            try withAuditedReactor { reactor, ledger in
                let first = try LogQuery.open(path: path, on: reactor)
                defer { first.close() }
                let records = try #require(drain(first, ledger, max: 10))
                #expect(records.map(sequenceNumber) == [0, 1, 2, 3])
                let partial = try #require(records.last)
                #expect(partial.flags.contains(.partial))
                let mark = first.bookmark(for: partial)

                // Resumed while the line is unfinished: it comes again, still partial.
                let early = try LogQuery.open(path: path, on: reactor)
                defer { early.close() }
                #expect(seek(early, ledger, to: .afterBookmark(mark), strict: true) == .success(true))
                let again = try #require(drain(early, ledger, max: 10))
                #expect(again.count == 1 && again[0].offset == partial.offset && again[0].flags.contains(.partial))

                let appender = try #require(FileHandleAppender(path: path))
                appender.append(String(line.suffix(2)) + syslogLines(1, from: 4))
                let resumed = try LogQuery.open(path: path, on: reactor)
                defer { resumed.close() }
                #expect(seek(resumed, ledger, to: .afterBookmark(mark), strict: true) == .success(true))
                let rest = try #require(drain(resumed, ledger, max: 10))
                #expect(rest.map(sequenceNumber) == [3, 4])
                #expect(rest.first?.offset == partial.offset && rest.first?.ordinal == partial.ordinal)
                #expect(rest.first?.message == "job ran seq=3 " && rest.first?.app == "cron")
                #expect(rest.allSatisfy { !$0.flags.contains(.partial) })
            }
        }
    }

    /// A log whose last line is 2 bytes short, read to its end; then the line is finished, and `body`
    /// goes on with the path, the bookmark of the partial line and the records read before.
    private func afterFinishingAPartialLine(
        _ body: (String, Reactor, OperationLedger, LogBookmark, [LogRecord]) throws -> Void
    ) throws {
        let line = syslogLines(1, from: 2)
        try withLogFile(syslogLines(2) + String(line.dropLast(2))) { path in
            try withAuditedReactor { reactor, ledger in
                let query = try LogQuery.open(path: path, on: reactor)
                defer { query.close() }
                let records = try #require(drain(query, ledger, max: 10))
                let mark = query.bookmark(for: try #require(records.last))
                let appender = try #require(FileHandleAppender(path: path))
                appender.append(String(line.suffix(2)))
                try body(path, reactor, ledger, mark, records)
            }
        }
    }

    @Test func followingFromAPartialLinesBookmarkDeliversTheFinishedLineWhole() throws {
        try afterFinishingAPartialLine { path, reactor, ledger, mark, records in
            let follow = try LogQuery.open(path: path, follow: true, on: reactor)
            defer { follow.close() }
            #expect(seek(follow, ledger, to: .afterBookmark(mark), strict: true) == .success(true))
            let batch = try #require(try nextBatch(follow, ledger, max: 10, timeout: .seconds(5))?.get())
            #expect(batch.map(sequenceNumber) == [2])
            #expect(batch.first?.offset == records.last?.offset)
        }
    }

    @Test func subscribingFromAPartialLinesBookmarkDeliversTheFinishedLineWhole() throws {
        try afterFinishingAPartialLine { path, reactor, ledger, mark, records in
            let (subscription, log) = follow(path, reactor, ledger, start: .afterBookmark(mark, strict: true))
            #expect(eventually { log.numbers == [2] })
            #expect(log.records.first?.offset == records.last?.offset)
            subscription.cancel()
            guard case .cancelled? = log.ended.wait() else {
                Issue.record("the subscription did not end with .cancelled")
                return
            }
        }
    }
}
