import EventReactor

/// What one step of a queued query operation did (see `LogQuery.pump`).
enum QueryStepResult {
    /// The operation ended (it won its gate and ran its completion, or a cancel had won).
    case done
    /// The slice's time is used up; run again on the next loop turn.
    case yield
    /// Nothing to do until the file grows (follow mode): look again after this many nanoseconds.
    case wait(UInt64)
}

/// The common part of the operations a `LogQuery` runs one after the other on its loop (`next`,
/// `seek`): it queues itself when installed, leaves the queue when it ends, and completes through
/// `LogQuery.pending`, so `cancel()` reaches it from any thread.
///
/// Loop-bound: every stored property is touched only on the reactor thread (`@unchecked Sendable`).
class QueryOperation: OperationBody, @unchecked Sendable {
    let query: LogQuery
    let id: UInt64
    var handle: OperationHandle?

    init(query: LogQuery) {
        self.query = query
        self.id = query.pending.makeID()
    }

    func attach(_ operation: OperationHandle, to reactor: Reactor) {
        handle = operation
        query.enqueue(self)
    }

    func timerFired(_ operation: OperationHandle, on reactor: Reactor) {
        timedOut()
    }

    func end(_ operation: OperationHandle, with ending: OperationEnding, on reactor: Reactor) {
        query.dequeue(self)
        query.pending.complete(id)
        fail(LogQueryError(ending))
    }

    /// Ends the operation with `error` if it wins its gate; returns `.done` either way.
    @discardableResult
    func finish(failing error: LogQueryError) -> QueryStepResult {
        guard let handle, query.reactor.finish(handle) else { return .done }
        query.dequeue(self)
        query.pending.complete(id)
        fail(error.naming(query.path))
        return .done
    }

    /// Wins the gate for a result: true when the caller must now run the success completion.
    func winGate() -> Bool {
        guard let handle, query.reactor.finish(handle) else { return false }
        query.dequeue(self)
        query.pending.complete(id)
        return true
    }

    // Supplied by each operation.

    /// Advances the operation until `deadline` (MonotonicClock ns) at the latest.
    func step(until deadline: UInt64) -> QueryStepResult { fatalError("QueryOperation.step is abstract") }
    /// Runs the completion with an error (the gate is already won).
    func fail(_ error: LogQueryError) { fatalError("QueryOperation.fail is abstract") }
    /// The operation's timer expired.
    func timedOut() { finish(failing: .timeout) }
}
