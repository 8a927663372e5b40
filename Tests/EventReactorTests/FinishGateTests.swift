import Atomics
import EventReactor
import EvqueryTestSupport
import Testing

/// A body that only records how it ended: the test closes its gate by hand.
private final class InertBody: OperationBody, @unchecked Sendable {
    let ends = Counter()
    func attach(_ operation: OperationHandle, to reactor: Reactor) {}
    func timerFired(_ operation: OperationHandle, on reactor: Reactor) {}
    func end(_ operation: OperationHandle, with ending: OperationEnding, on reactor: Reactor) { ends.add() }
}

@Suite("The finish gate")
struct FinishGateTests {
    /// The audit alone cannot see this: other layers stop a second completion. The losing `finish`
    /// itself must change nothing — no counter, no timer, no slot.
    @Test func finishThatLosesToACancelReturnsFalseAndTouchesNothing() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let body = InertBody()
        try withAudit(reactor, operations: 3) { reactor, ledger in
            let (won, before, after, timersBefore, timersAfter, pending) = reactor.syncOnLoop {
                let operation = reactor.start(body, timeoutNanos: 60_000_000_000)
                let timersBefore = reactor.timerCount
                _ = operation.cancel()
                let before = reactor.counters.snapshot
                let won = reactor.finish(operation)
                let after = reactor.counters.snapshot
                return (won, before, after, timersBefore, reactor.timerCount, reactor.isPending(operation))
            }
            #expect(!won)
            #expect(after.completed == before.completed)
            #expect(after.started == before.started)
            #expect(timersAfter == timersBefore)
            #expect(!pending)
            #expect(eventually { body.ends.count == 1 })
            // A second body reuses the slot; a stale finish must leave it open.
            let second = InertBody()
            let stillOpen = reactor.syncOnLoop {
                let operation = reactor.start(second)
                #expect(reactor.finish(operation))
                let next = reactor.start(second)
                _ = reactor.finish(operation)
                defer { _ = next.cancel() }
                return reactor.isPending(next)
            }
            #expect(stillOpen)
            #expect(eventually { second.ends.count == 1 })
            for index in 0..<3 { ledger.record(index) }
            return 3
        }
    }
}
