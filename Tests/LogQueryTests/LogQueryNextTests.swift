import EventReactor
import EvqueryTestSupport
import Foundation
import LogQuery
import Testing

@Suite struct LogQueryNextTests {
    @Test func forwardAndReverseNextGiveTheSameRecordsInOppositeOrder() throws {
        try withLogFile(syslogLines(3000)) { path in
            try withAuditedReactor { reactor, ledger in
                let filter = try LogFilter("app == \"sshd\"")
                let forward = try LogQuery.open(path: path, filter: filter, on: reactor)
                let reverse = try LogQuery.open(path: path, filter: filter, direction: .reverse, on: reactor)
                defer {
                    forward.close()
                    reverse.close()
                }
                let a = try #require(drain(forward, ledger, max: 37))
                let b = try #require(drain(reverse, ledger, max: 37))
                #expect(a.count == 3000 / 7 + 1)
                #expect(a.map(\.ordinal) == b.reversed().map(\.ordinal))
                #expect(a.map(\.message) == b.reversed().map(\.message))
                #expect(a.allSatisfy { $0.app == "sshd" })
            }
        }
    }

    @Test func countAgreesWithTheRecordsNextReturnsAndDoesNotMoveTheQuery() throws {
        try withLogFile(syslogLines(2000)) { path in
            try withAuditedReactor { reactor, ledger in
                let filter = try LogFilter("message contains \"Failed\"")
                let query = try LogQuery.open(path: path, filter: filter, on: reactor)
                defer { query.close() }
                let counted = Awaited<Result<Int, LogQueryError>>()
                query.count(completion: ledger.track { counted.set($0) })
                let records = try #require(drain(query, ledger, max: 100))
                #expect(counted.wait() == .success(records.count))
                #expect(records.count == 2000 / 7 + 1)
            }
        }
    }

    @Test func aCountSplitOverThreadsEqualsTheCountInSlicesFromAnyPosition() throws {
        // 60,000 lines (~5 MiB) and a last line without its newline: split into up to 3 ranges of at
        // least 1 MiB, each cut moved to a line start, counted on the dispatch pool.
        try withLogFile(syslogLines(60_000) + "<38>Nov 23 23:59:59 web1 sshd[1]: Failed password seq=x") { path in
            try withAuditedReactor { reactor, ledger in
                func count(_ filter: LogFilter, threads: Int, skip: Int = 0) throws -> Result<Int, LogQueryError>? {
                    let query = try LogQuery.open(path: path, filter: filter, countThreads: threads, on: reactor)
                    defer { query.close() }
                    if skip > 0 { _ = nextBatch(query, ledger, max: skip) }
                    let counted = Awaited<Result<Int, LogQueryError>>()
                    query.count(completion: ledger.track { counted.set($0) })
                    return counted.wait()
                }
                for filter in [LogFilter.all, try LogFilter("message contains \"Failed password\"")] {
                    let inSlices = try count(filter, threads: 1)
                    #expect(try count(filter, threads: 3) == inSlices)
                    #expect(try count(filter, threads: 2, skip: 777) == inSlices.map { $0.map { $0 - 777 } })
                }
                #expect(try count(.all, threads: 3) == .success(60_001))
            }
        }
    }

    @Test func aCountOnThreadsCancelledFromAnotherThreadEndsOnceWithCancelled() throws {
        try withLogFile(syslogLines(60_000)) { path in
            try withAuditedReactor { reactor, ledger in
                for _ in 0..<20 {
                    let query = try LogQuery.open(path: path, countThreads: 3, on: reactor)
                    let counted = Awaited<Result<Int, LogQueryError>>()
                    let handle = query.count(completion: ledger.track { counted.set($0) })
                    let cancel = handle.cancel()
                    let outcome = try #require(counted.wait())
                    if cancel == .cancelled {
                        guard case .failure(.cancelled) = outcome else {
                            Issue.record("a cancel that took effect gave \(outcome)")
                            return
                        }
                    } else {
                        #expect(outcome == .success(60_000))
                    }
                    query.close()
                }
            }
        }
    }

    @Test func aPartialBatchAtTheEndIsSuccessAndThenNoMoreItems() throws {
        try withLogFile(syslogLines(10)) { path in
            try withAuditedReactor { reactor, ledger in
                let query = try LogQuery.open(path: path, on: reactor)
                defer { query.close() }
                #expect(try nextBatch(query, ledger, max: 8)?.get().count == 8)
                #expect(try nextBatch(query, ledger, max: 8)?.get().count == 2)
                #expect(nextBatch(query, ledger, max: 8) == .failure(.noMoreItems))
                #expect(nextBatch(query, ledger, max: 8) == .failure(.noMoreItems))
            }
        }
    }

    @Test func nextOnAnIdleFollowEndsWithTimeoutAndHoldsBackAPartialLine() throws {
        try withLogFile(syslogLines(3)) { path in
            try withAuditedReactor { reactor, ledger in
                let query = try LogQuery.open(path: path, follow: true, on: reactor)
                defer { query.close() }
                #expect(try nextBatch(query, ledger, max: 10, timeout: .milliseconds(30))?.get().count == 3)
                #expect(nextBatch(query, ledger, max: 10, timeout: .milliseconds(30)) == .failure(.timeout))
                let appender = try #require(FileHandleAppender(path: path))
                let line = syslogLines(1, from: 3)
                appender.append(String(line.dropLast(10)))
                #expect(nextBatch(query, ledger, max: 10, timeout: .milliseconds(60)) == .failure(.timeout))
                appender.append(String(line.suffix(10)))
                let records = try #require(try nextBatch(query, ledger, max: 10, timeout: .seconds(5))?.get())
                #expect(records.map(sequenceNumber) == [3])
                #expect(!records[0].flags.contains(.partial))
            }
        }
    }

    @Test func cancelFromAnotherThreadStopsAScanInProgressAtASliceBoundary() throws {
        try withLogFile(syslogLines(60_000, padding: 40)) { path in
            try withAuditedReactor { reactor, ledger in
                // A field filter parses every line: the scan takes many slices.
                let filter = try LogFilter("pid == 999999")
                let query = try LogQuery.open(path: path, filter: filter, on: reactor)
                defer { query.close() }
                let done = Awaited<Result<[LogRecord], LogQueryError>>()
                query.next(max: 10, completion: ledger.track { done.set($0) })
                #expect(eventually { query.counters.snapshot.slices >= 2 })
                let canceller = Thread { query.cancel() }
                canceller.start()
                let outcome = try #require(done.wait())
                guard case .failure(.cancelled(let info)) = outcome else {
                    Issue.record("expected a cancel, got \(outcome)")
                    return
                }
                #expect(info.origin == .thread && info.reason == .caller)
                // The position stayed where the cancel found it: the scan goes on to the end.
                #expect(nextBatch(query, ledger, max: 10) == .failure(.noMoreItems))
            }
        }
    }

    @Test func aLongScanLetsATimerOnTheSameLoopFireBeforeItEnds() throws {
        try withLogFile(syslogLines(60_000, padding: 40)) { path in
            try withAuditedReactor { reactor, ledger in
                let query = try LogQuery.open(path: path, filter: try LogFilter("pid == 999999"), on: reactor)
                defer { query.close() }
                let order = Locked<[String]>([])
                let scanned = Awaited<Result<[LogRecord], LogQueryError>>()
                query.next(max: 10, completion: ledger.track { result in
                    order.withLock { $0.append("scan") }
                    scanned.set(result)
                })
                #expect(eventually { query.counters.snapshot.slices >= 1 })
                reactor.startTimer(afterNanos: 1_000_000, completion: ledger.track { _ in
                    order.withLock { $0.append("timer") }
                })
                #expect(scanned.wait() == .failure(.noMoreItems))
                #expect(order.withLock { $0 } == ["timer", "scan"])
                #expect(query.counters.snapshot.slices > 10)
            }
        }
    }

    @Test func cancelAllCancelsEveryPendingNextOfEveryQuery() throws {
        try withLogFile("") { path in
            try withAuditedReactor { reactor, ledger in
                let queries = try (0..<3).map { _ in try LogQuery.open(path: path, follow: true, on: reactor) }
                defer { queries.forEach { $0.close() } }
                let outcomes = Locked<[LogQueryError]>([])
                for query in queries {
                    for _ in 0..<2 {
                        query.next(max: 1, completion: ledger.track { r in
                            if case .failure(let e) = r { outcomes.withLock { $0.append(e) } }
                        })
                    }
                }
                #expect(eventually { queries.allSatisfy { $0.counters.snapshot.slices >= 1 } })
                reactor.cancelAll()
                #expect(eventually { outcomes.withLock { $0.count } == 6 })
                for error in outcomes.withLock({ $0 }) {
                    guard case .cancelled(let info) = error else {
                        Issue.record("expected a cancel, got \(error)")
                        continue
                    }
                    #expect(info.reason == .cancelAll)
                }
            }
        }
    }

    @Test func closeIsIdempotentCancelsWhatIsPendingAndLaterCallsFailClosed() throws {
        try withLogFile(syslogLines(5)) { path in
            try withAuditedReactor { reactor, ledger in
                let query = try LogQuery.open(path: path, follow: true, on: reactor)
                #expect(try nextBatch(query, ledger, max: 10)?.get().count == 5)
                let done = Awaited<Result<[LogRecord], LogQueryError>>()
                query.next(max: 1, completion: ledger.track { done.set($0) })
                query.close()
                query.close()
                guard case .failure(.cancelled)? = done.wait() else {
                    Issue.record("expected a cancel")
                    return
                }
                query.close()
                #expect(nextBatch(query, ledger, max: 1) == .failure(.closed))
            }
        }
    }

    @Test func closeFromAnotherThreadWhileNextsAreStartingEndsEachOnceAsCancelledOrClosed() throws {
        for _ in 0..<50 {
            try withLogFile("") { path in
                try withAuditedReactor { reactor, ledger in
                    let query = try LogQuery.open(path: path, follow: true, on: reactor)
                    let outcomes = Locked<[LogQueryError]>([])
                    let starter = Thread {
                        for _ in 0..<20 {
                            query.next(max: 1, completion: ledger.track { result in
                                if case .failure(let error) = result { outcomes.withLock { $0.append(error) } }
                            })
                        }
                    }
                    starter.start()
                    query.close()
                    #expect(eventually { ledger.started == 20 && outcomes.withLock { $0.count } == 20 })
                    for error in outcomes.withLock({ $0 }) {
                        switch error {
                        case .cancelled, .closed: break
                        default: Issue.record("expected a cancel or .closed, got \(error)")
                        }
                    }
                }
            }
        }
    }

    @Test func asyncNextReturnsBatchesAndThrowsNoMoreItems() async throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("logq-\(UUID().uuidString).log").path
        try Data(syslogLines(4).utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let baseline = reactor.auditBaseline()
        let query = try LogQuery.open(path: path, on: reactor)
        let records = try await query.next(max: 10)
        #expect(records.count == 4)
        await #expect(throws: LogQueryError.noMoreItems) { try await query.next(max: 10) }
        query.close()
        reactor.waitForDrain()
        let audit = reactor.audit(since: baseline, ledger: CompletionLedger(capacity: 2), started: 0)
        #expect(audit.eventsAfterDrain == audit.eventsBaseline && audit.timersAfterDrain == 0)
    }
}
