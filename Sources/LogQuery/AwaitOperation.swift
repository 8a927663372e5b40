import EventReactor

/// Runs a callback-form operation of this module as `async`: Swift task cancellation cancels it
/// (reason `.task`), and it still ends exactly once.
/// - Throws: the `LogQueryError` the operation failed with.
func awaitOperation<Success: Sendable>(
    _ start: (@escaping @Sendable (Result<Success, LogQueryError>) -> Void) -> OperationHandle
) async throws(LogQueryError) -> Success {
    let slot = Locked<(handle: OperationHandle?, cancelled: Bool)>((nil, false))
    let result: Result<Success, LogQueryError> = await withTaskCancellationHandler {
        await withCheckedContinuation { (continuation: CheckedContinuation<Result<Success, LogQueryError>, Never>) in
            let handle = start { result in continuation.resume(returning: result) }
            let cancelNow = slot.withLock { state in
                state.handle = handle
                return state.cancelled
            }
            if cancelNow { _ = handle.reactor.cancel(handle, reason: .task) }
        }
    } onCancel: {
        let handle = slot.withLock { state in
            state.cancelled = true
            return state.handle
        }
        if let handle { _ = handle.reactor.cancel(handle, reason: .task) }
    }
    return try result.get()
}
