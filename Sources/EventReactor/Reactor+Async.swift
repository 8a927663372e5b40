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
