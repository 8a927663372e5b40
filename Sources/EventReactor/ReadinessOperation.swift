import LinuxSystem
/// An operation that waits for an fd to become readable (or writable), with an optional timeout.
/// It owns one libevent event of its own, created when the loop installs it and freed before its
/// completion runs on every path. Loop-bound: `watcher` is touched only on the reactor thread.
final class ReadinessOperation: OperationBody, @unchecked Sendable {
    private let fd: Int32
    private let interest: Readiness
    private let completion: @Sendable (OperationOutcome<Readiness>) -> Void
    private var watcher: LibeventEvent?

    init(fd: Int32, interest: Readiness,
         completion: @escaping @Sendable (OperationOutcome<Readiness>) -> Void) {
        self.fd = fd
        self.interest = interest
        self.completion = completion
    }

    func attach(_ operation: OperationHandle, to reactor: Reactor) {
        // The closure holds the body strongly: once `finish` frees the slot, nothing else does.
        // `release()` breaks the cycle by freeing the watcher.
        let watcher = LibeventEvent(reactor: reactor, fd: fd, interest: interest, persistent: false) {
            [self] _, readiness in
            guard reactor.finish(operation) else { return }
            release()
            completion(.completed(readiness))
        }
        watcher.arm()
        self.watcher = watcher
    }

    func timerFired(_ operation: OperationHandle, on reactor: Reactor) {
        guard reactor.finish(operation) else { return }
        release()
        completion(.failed(ReactorError(.timedOut)))
    }

    func end(_ operation: OperationHandle, with ending: OperationEnding, on reactor: Reactor) {
        release()
        completion(OperationOutcome(ending))
    }

    private func release() {
        watcher?.free()
        watcher = nil
    }
}

extension Reactor {
    /// Starts an operation that completes when `fd` is ready for `interest`, with `.completed(what)`,
    /// or fails with `.timedOut` after `timeout`. Any thread; the caller keeps the fd open until the
    /// completion has run. The completion runs once, on the reactor thread, after the operation's
    /// watcher has left the loop.
    @discardableResult
    public func startReadinessWait(
        fd: Int32, interest: Readiness = .read, timeout: Duration? = nil,
        completion: @escaping @Sendable (OperationOutcome<Readiness>) -> Void
    ) -> OperationHandle {
        startReadinessWait(fd: fd, interest: interest, timeoutNanos: timeout?.clampedNanoseconds,
                           completion: completion)
    }

    /// `startReadinessWait(fd:interest:timeout:completion:)` with the timeout in nanoseconds.
    @discardableResult
    package func startReadinessWait(
        fd: Int32, interest: Readiness = .read, timeoutNanos: UInt64?,
        completion: @escaping @Sendable (OperationOutcome<Readiness>) -> Void
    ) -> OperationHandle {
        start(ReadinessOperation(fd: fd, interest: interest, completion: completion), timeoutNanos: timeoutNanos)
    }
}
