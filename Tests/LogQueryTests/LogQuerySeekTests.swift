import EventReactor
import EvqueryTestSupport
import Foundation
import LogQuery
import Testing

/// Runs one `seek` and waits for its outcome (`.success(true)` for a success).
func seek(
    _ query: LogQuery, _ ledger: OperationLedger, to target: LogSeekTarget, strict: Bool = false
) -> Result<Bool, LogQueryError>? {
    let done = Awaited<Result<Void, LogQueryError>>()
    query.seek(to: target, strict: strict, completion: ledger.track { done.set($0) })
    return done.wait()?.map { true }
}

/// The sequence numbers of the next batch.
func nextNumbers(_ query: LogQuery, _ ledger: OperationLedger, max: Int) -> [Int?] {
    guard case .success(let batch)? = nextBatch(query, ledger, max: max) else { return [] }
    return batch.map(sequenceNumber)
}

@Suite struct LogQuerySeekTests {
    @Test func seekFirstLastAndRelativeMoveTheNextRecordForward() throws {
        try withLogFile(syslogLines(100)) { path in
            try withAuditedReactor { reactor, ledger in
                let query = try LogQuery.open(path: path, on: reactor)
                defer { query.close() }
                #expect(nextNumbers(query, ledger, max: 3) == [0, 1, 2])
                #expect(seek(query, ledger, to: .relative(5)) == .success(true))
                #expect(nextNumbers(query, ledger, max: 2) == [8, 9])
                #expect(seek(query, ledger, to: .relative(-3)) == .success(true))
                #expect(nextNumbers(query, ledger, max: 2) == [7, 8])
                #expect(seek(query, ledger, to: .last) == .success(true))
                #expect(nextNumbers(query, ledger, max: 5) == [99])
                #expect(seek(query, ledger, to: .first) == .success(true))
                #expect(nextNumbers(query, ledger, max: 1) == [0])
                #expect(seek(query, ledger, to: .relative(500), strict: true) == .failure(.notFound))
                #expect(seek(query, ledger, to: .relative(500)) == .success(true))
                #expect(nextBatch(query, ledger, max: 1) == .failure(.noMoreItems))
            }
        }
    }

    @Test func seekInAReverseQueryCountsNewestFirst() throws {
        try withLogFile(syslogLines(50)) { path in
            try withAuditedReactor { reactor, ledger in
                let filter = try LogFilter("app == \"cron\"")
                let query = try LogQuery.open(path: path, filter: filter, direction: .reverse, on: reactor)
                defer { query.close() }
                #expect(nextNumbers(query, ledger, max: 2) == [48, 47])
                #expect(seek(query, ledger, to: .relative(1)) == .success(true))
                #expect(nextNumbers(query, ledger, max: 2) == [45, 44])
                #expect(seek(query, ledger, to: .relative(-1)) == .success(true))
                #expect(nextNumbers(query, ledger, max: 1) == [44])
                #expect(seek(query, ledger, to: .last) == .success(true))
                #expect(nextNumbers(query, ledger, max: 3) == [1])
                #expect(seek(query, ledger, to: .first) == .success(true))
                #expect(nextNumbers(query, ledger, max: 1) == [48])
            }
        }
    }

    @Test func seekByTimeFindsTheFirstRecordAtOrAfterItForwardAndAtOrBeforeItInReverse() throws {
        try withLogFile(syslogLines(200)) { path in
            try withAuditedReactor { reactor, ledger in
                let forward = try LogQuery.open(path: path, on: reactor)
                let reverse = try LogQuery.open(path: path, direction: .reverse, on: reactor)
                defer {
                    forward.close()
                    reverse.close()
                }
                // Line n is stamped n seconds after midnight; take the time of line 130.
                let all = try #require(drain(forward, ledger, max: 500))
                let time = try #require(all[130].timestamp)
                #expect(seek(forward, ledger, to: .time(time)) == .success(true))
                #expect(nextNumbers(forward, ledger, max: 1) == [130])
                #expect(seek(reverse, ledger, to: .time(time)) == .success(true))
                #expect(nextNumbers(reverse, ledger, max: 2) == [130, 129])
                let later = LogTime(nanosecondsSinceEpoch: time.nanosecondsSinceEpoch + 3600 * 1_000_000_000)
                #expect(seek(forward, ledger, to: .time(later), strict: true) == .failure(.notFound))
                #expect(seek(forward, ledger, to: .time(later)) == .success(true))
                #expect(nextBatch(forward, ledger, max: 1) == .failure(.noMoreItems))
            }
        }
    }

    @Test func aBookmarkResumesAfterItsRecordAcrossARestartWithANewReactor() throws {
        try withLogFile(syslogLines(40)) { path in
            var saved = ""
            try withAuditedReactor { reactor, ledger in
                let query = try LogQuery.open(path: path, on: reactor)
                defer { query.close() }
                let batch = try #require(try nextBatch(query, ledger, max: 11)?.get())
                saved = query.bookmark(for: batch[10]).serialized
            }
            try withAuditedReactor { reactor, ledger in
                let mark = try LogBookmark(serialized: saved)
                let query = try LogQuery.open(path: path, on: reactor)
                let reverse = try LogQuery.open(path: path, direction: .reverse, on: reactor)
                defer {
                    query.close()
                    reverse.close()
                }
                #expect(seek(query, ledger, to: .afterBookmark(mark), strict: true) == .success(true))
                #expect(nextNumbers(query, ledger, max: 2) == [11, 12])
                #expect(seek(query, ledger, to: .bookmark(mark), strict: true) == .success(true))
                #expect(nextNumbers(query, ledger, max: 1) == [10])
                #expect(seek(reverse, ledger, to: .bookmark(mark), strict: true) == .success(true))
                #expect(nextNumbers(reverse, ledger, max: 2) == [10, 9])
                #expect(seek(reverse, ledger, to: .afterBookmark(mark), strict: true) == .success(true))
                #expect(nextNumbers(reverse, ledger, max: 1) == [9])
            }
        }
    }

    @Test func aStrictSeekToABookmarkOfAReplacedFileFailsNotFound() throws {
        try withLogFile(syslogLines(20)) { path in
            try withAuditedReactor { reactor, ledger in
                let old = try LogQuery.open(path: path, on: reactor)
                let batch = try #require(try nextBatch(old, ledger, max: 5)?.get())
                let mark = old.bookmark(for: batch[4])
                old.close()
                // Another file at the path: rotation by rename and create.
                try FileManager.default.moveItem(atPath: path, toPath: path + ".1")
                try Data(syslogLines(20, from: 1000).utf8).write(to: URL(fileURLWithPath: path))
                let query = try LogQuery.open(path: path, on: reactor)
                defer { query.close() }
                #expect(seek(query, ledger, to: .afterBookmark(mark), strict: true) == .failure(.notFound))
                #expect(seek(query, ledger, to: .afterBookmark(mark)) == .success(true))
                #expect(nextNumbers(query, ledger, max: 1) == [1000])
            }
        }
    }
}
