import LinuxSystem

/// The error an `async` form throws when its operation was cancelled (by the caller, `cancelAll`,
/// shutdown, or the Swift task's own cancellation). Windows: `ERROR_CANCELLED`.
public struct OperationCancelled: Error, Sendable, Equatable {
    /// The facts of the cancellation.
    public let info: CancelInfo
    /// Makes the error.
    public init(_ info: CancelInfo) { self.info = info }
}

extension Reactor {
    /// Runs one operation as `async`: starts it with `start` and returns its result.
    ///
    /// Swift task cancellation maps onto `cancel()` of the operation (reason `.task`): the operation
    /// still ends exactly once, and this throws `OperationCancelled` if the cancel took effect. A task
    /// already cancelled when this is called throws `OperationCancelled` (reason `.task`) without
    /// calling `start`: nothing is started, so nothing is sent.
    /// - Throws: `OperationCancelled`, or the `ReactorError` the operation failed with.
    public func run<Success: Sendable>(
        _ start: (@escaping @Sendable (OperationOutcome<Success>) -> Void) -> OperationHandle
    ) async throws -> Success {
        if Task.isCancelled {
            throw OperationCancelled(
                CancelInfo(reason: .task, origin: inLoop ? .loop : .thread, requestedAt: MonotonicClock.now()))
        }
        let slot = Locked<(handle: OperationHandle?, cancelled: Bool)>((nil, false))
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Success, Error>) in
                let handle = start { outcome in
                    switch outcome {
                    case .completed(let value): continuation.resume(returning: value)
                    case .cancelled(let info): continuation.resume(throwing: OperationCancelled(info))
                    case .failed(let error): continuation.resume(throwing: error)
                    }
                }
                let cancelNow = slot.withLock { state in
                    state.handle = handle
                    return state.cancelled
                }
                if cancelNow { _ = cancel(handle, reason: .task) }
            }
        } onCancel: {
            let handle = slot.withLock { state in
                state.cancelled = true
                return state.handle
            }
            if let handle { _ = cancel(handle, reason: .task) }
        }
    }

    /// Waits `duration` on this reactor's timer heap.
    /// - Throws: `OperationCancelled` if the task (or the reactor) cancelled the wait.
    public func sleep(for duration: Duration) async throws {
        try await sleep(nanoseconds: duration.clampedNanoseconds)
    }

    /// `sleep(for:)` in nanoseconds.
    package func sleep(nanoseconds nanos: UInt64) async throws {
        try await run { completion in startTimer(afterNanos: nanos, completion: completion) }
    }
}

extension Reactor {
    /// Runs `work` on the loop and returns its result to the task: the `async` form of
    /// `syncOnLoop`, which suspends the task instead of blocking a thread. When it returns, the
    /// jobs posted before this call (cancels, starts) have run, and so have the jobs `work` itself
    /// deferred (the completions of the cancels it made): the task resumes from a job queued behind
    /// them. After shutdown `work` runs on a global queue, like any job posted then.
    public func onLoop<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
            execute {
                let value = work()
                self.execute { continuation.resume(returning: value) }
            }
        }
    }

    /// Cancels every operation pending now (reason `.cancelAll`) and returns once each of them has
    /// run its completion. Suspends the task; never blocks a thread.
    public func cancelAll() async {
        await onLoop { self.cancelAll() }
    }

    /// Cancels `operation` (reason `.caller`) and returns once its completion has run — whether this
    /// cancel took effect or another ending won first — like a caller of `EvtCancel` that waits.
    /// The completion is never run inside this call: the task suspends until the loop has run it.
    /// - Returns: what the cancel did, as `cancel(_:reason:)` says.
    @discardableResult
    public func cancelAndWait(_ operation: OperationHandle) async -> CancelResult {
        let result = cancel(operation, reason: .caller)
        // The cancel's ending job (or the callback in which another ending won) is on the loop's
        // queue ahead of this hop, which the loop runs in order: the completion has run after it.
        await onLoop {}
        return result
    }
}

extension OperationHandle {
    /// `cancel()`, then waits (suspending the task) until the operation's completion has run.
    @discardableResult
    public func cancelAndWait() async -> CancelResult { await reactor.cancelAndWait(self) }
}

extension ReactorGroup {
    /// `cancelAll() async` on every reactor: returns once every caught operation has completed.
    public func cancelAll() async {
        for reactor in reactors { await reactor.cancelAll() }
    }

    /// `shutdown() async` on every reactor: returns when all have stopped, without blocking a thread.
    public func shutdown() async {
        for reactor in reactors { await reactor.shutdown() }
    }
}
