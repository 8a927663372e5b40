import EventReactor
import EvqueryTestSupport
import Testing

/// The `async` forms from inside a task: they suspend the task while the loop works, and what they
/// promise (the completion has run, every caught operation has completed, the loop has stopped)
/// holds when they return.
@Suite struct AsyncFormTests {
    @Test func cancelAndWaitReturnsAfterTheCompletionHasRun() async throws {
        try await withAuditedReactor(operations: 100) { reactor, ledger in
            let seen = Locked<[OperationOutcome<Void>?]>(Array(repeating: nil, count: 100))
            for index in 0..<100 {
                let handle = reactor.startTimer(after: .seconds(60)) { outcome in
                    ledger.record(index)
                    seen.withLock { $0[index] = outcome }
                }
                let result = await handle.cancelAndWait()
                #expect(result == .cancelled)
                // Returned: the completion has run, with cancelled(caller).
                guard case .cancelled(let info)? = seen.withLock({ $0[index] }) else {
                    Issue.record("operation \(index): the completion had not run when cancelAndWait returned")
                    continue
                }
                #expect(info.reason == .caller)
            }
            return 100
        }
    }

    @Test func cancelAndWaitOnAnOperationThatAlreadyEndedReturnsAlreadyCompleted() async throws {
        try await withAuditedReactor(operations: 1) { reactor, ledger in
            let handle = reactor.startTimer(after: .zero) { _ in ledger.record(0) }
            #expect(reactor.waitForDrain())
            #expect(await handle.cancelAndWait() == .alreadyCompleted)
            #expect(await handle.cancelAndWait() == .alreadyCompleted)
            return 1
        }
    }

    @Test func cancelAllAsyncReturnsOnceEveryCaughtOperationHasCompleted() async throws {
        let count = 1_000
        try await withAuditedReactor(operations: count) { reactor, ledger in
            for index in 0..<count {
                reactor.startTimer(after: .seconds(60)) { _ in ledger.record(index) }
            }
            await reactor.cancelAll()
            // No polling: every completion ran before cancelAll returned.
            #expect(ledger.missed(started: count) == 0)
            #expect(reactor.counters.snapshot.inFlight == 0)
            return count
        }
    }

    @Test func shutdownAsyncCompletesEverythingOnceAndMayBeCalledTwiceAndBesideTheBlockingForm() async throws {
        let reactor = try Reactor()
        let count = 500
        let ledger = CompletionLedger(capacity: count)
        let reasons = Locked<[CancelReason]>([])
        for index in 0..<count {
            reactor.startTimer(after: .seconds(60)) { outcome in
                ledger.record(index)
                if case .cancelled(let info) = outcome { reasons.withLock { $0.append(info.reason) } }
            }
        }
        async let first: Void = reactor.shutdown()
        async let second: Void = reactor.shutdown()
        _ = await (first, second)
        let blocking: () -> Void = { reactor.shutdown() }
        blocking()  // the blocking form after it: returns at once
        await reactor.shutdown()
        #expect(ledger.missed(started: count) == 0)
        #expect(ledger.doubleCompletions == 0)
        #expect(reasons.withLock { $0 }.count == count)
        #expect(reasons.withLock { $0 }.allSatisfy { $0 == .shutdown })
        let counters = reactor.counters.snapshot
        #expect(counters.started == counters.completed)
    }

    @Test func cancellingTheWaitingTaskCancelsTheOperationOnce() async throws {
        try await withAuditedReactor(operations: 1) { reactor, ledger in
            let task = Task { try await reactor.sleep(for: .seconds(60)) }
            try await Task.sleep(for: .milliseconds(20))
            task.cancel()
            await #expect(throws: OperationCancelled.self) { try await task.value }
            #expect(reactor.waitForDrain())
            _ = ledger.record(0)  // the task's one completion, seen above as its error
            return 1
        }
    }

    @Test func onLoopRunsTheWorkOnTheLoopAndReturnsItsValue() async throws {
        let reactor = try Reactor()
        let (value, onLoop) = await reactor.onLoop { (42, reactor.inLoop) }
        #expect(value == 42)
        #expect(onLoop)
        await reactor.shutdown()
        // After shutdown the work still runs once (on a global queue), and the task resumes.
        let after = await reactor.onLoop { 7 }
        #expect(after == 7)
    }
}
