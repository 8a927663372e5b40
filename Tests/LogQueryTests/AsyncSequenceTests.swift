import EventReactor
import EvqueryTestSupport
import Foundation
import LogQuery
import Testing

/// A fresh temporary directory holding `test.log` with `text`, removed afterwards.
private func withAsyncLogFile(_ text: String, _ body: (String) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("logq-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("test.log").path
    try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    try await body(path)
}

/// `next` batches and subscriptions as `AsyncSequence`s: in order, bounded, cancelled with the task.
@Suite struct AsyncSequenceTests {
    @Test func batchesYieldEveryRecordInOrderAndEndAtNoMoreItems() async throws {
        try await withAsyncLogFile(syslogLines(5_000)) { path in
            try await withAuditedReactor(operations: 64) { reactor, ledger in
                let query = try LogQuery.open(path: path, on: reactor)
                var numbers: [Int] = []
                var batches = 0
                for try await batch in query.batches(max: 700) {
                    #expect(batch.count <= 700)
                    numbers += batch.compactMap(sequenceNumber)
                    batches += 1
                }
                #expect(numbers == Array(0..<5_000))
                query.close()
                // Every `next` completed once: one per batch, and the last with noMoreItems.
                for index in 0...batches { ledger.record(index) }
                return batches + 1
            }
        }
    }

    @Test func aFullBufferStopsTheSubscriptionReadingUntilTheConsumerCatchesUp() async throws {
        let total = 100_000
        try await withAsyncLogFile(syslogLines(total)) { path in
            try await withAuditedReactor(operations: 1) { reactor, ledger in
                let events = LogQuery.events(following: path, start: .oldest, bufferLimit: 2, on: reactor)
                let subscription = try #require(events.subscription)
                // Nothing consumed yet: the subscription reads until its buffer is full, then stops.
                var delivered = -1
                for _ in 0..<200 {
                    try await Task.sleep(for: .milliseconds(25))
                    let now = subscription.counters.snapshot.recordsDelivered
                    if now == delivered && now > 0 { break }
                    delivered = now
                }
                #expect(delivered > 0)
                #expect(delivered < total, "the subscription read the whole file into an unconsumed buffer")
                // Consume: reading resumes, and every record comes once, in order.
                var numbers: [Int] = []
                do {
                    for try await event in events {
                        if case .records(let records, _) = event { numbers += records.compactMap(sequenceNumber) }
                        if numbers.count == total { subscription.cancel() }
                    }
                    Issue.record("the sequence ended without the subscription's error")
                } catch let error as LogQueryError {
                    guard case .cancelled = error else {
                        Issue.record("ended with \(error)")
                        return 0
                    }
                    ledger.record(0)
                }
                #expect(numbers == Array(0..<total))
                return 1
            }
        }
    }

    @Test func cancellingTheConsumingTaskCancelsTheSubscriptionOnce() async throws {
        try await withAsyncLogFile(syslogLines(10)) { path in
            try await withAuditedReactor(operations: 1) { reactor, ledger in
                let events = LogQuery.events(following: path, start: .oldest, on: reactor)
                let received = Locked(0)
                let task = Task {
                    for try await event in events {
                        if case .records(let records, _) = event { received.withLock { $0 += records.count } }
                    }
                }
                while received.withLock({ $0 }) < 10 { try await Task.sleep(for: .milliseconds(5)) }
                task.cancel()  // the task now waits for records that never come
                await #expect(throws: LogQueryError.self) { try await task.value }
                ledger.record(0)
                return 1
            }
        }
    }
}
