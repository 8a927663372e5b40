import LinuxSystem
/// An operation that completes when its timer fires: the plainest operation, used by `evq race`,
/// the tests and the benchmarks to exercise the contract. Owns one entry in the reactor's timer heap.
final class TimerOperation: OperationBody {
    private let completion: @Sendable (OperationOutcome<Void>) -> Void

    init(completion: @escaping @Sendable (OperationOutcome<Void>) -> Void) {
        self.completion = completion
    }

    func timerFired(_ operation: OperationHandle, on reactor: Reactor) {
        if reactor.finish(operation) { completion(.completed(())) }
    }

    func end(_ operation: OperationHandle, with ending: OperationEnding, on reactor: Reactor) {
        completion(OperationOutcome(ending))
    }
}

extension Reactor {
    /// Starts an operation that completes with `.completed(())` after `delay`, unless cancelled
    /// first. Any thread; the completion runs once, on the reactor thread.
    @discardableResult
    public func startTimer(
        after delay: Duration, completion: @escaping @Sendable (OperationOutcome<Void>) -> Void
    ) -> OperationHandle {
        startTimer(afterNanos: delay.clampedNanoseconds, completion: completion)
    }

    /// `startTimer(after:completion:)` in nanoseconds.
    @discardableResult
    package func startTimer(
        afterNanos nanos: UInt64, completion: @escaping @Sendable (OperationOutcome<Void>) -> Void
    ) -> OperationHandle {
        start(TimerOperation(completion: completion), timeoutNanos: nanos)
    }
}
