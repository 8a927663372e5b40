import EventReactor

/// The handles of a query's operations that have not completed yet, so that `cancel()` and
/// `close()` can reach them from any thread. A completion that runs before its handle was
/// registered (a start from another thread racing the loop) leaves a mark, so nothing stale stays.
final class PendingOperations: Sendable {
    private struct State {
        var handles: [UInt64: OperationHandle] = [:]
        var completedEarly: Set<UInt64> = []
        var nextID: UInt64 = 0
        var closed = false
        /// The last id made before `close()`: operations up to it were started before the close.
        var lastIDBeforeClose: UInt64 = .max
    }

    private let state = Locked(State())

    /// A fresh id for an operation about to start.
    func makeID() -> UInt64 {
        state.withLock { s in
            s.nextID += 1
            return s.nextID
        }
    }

    /// Records the handle of operation `id` unless it already completed.
    func register(_ id: UInt64, _ handle: OperationHandle) {
        state.withLock { s in
            if s.completedEarly.remove(id) == nil { s.handles[id] = handle }
        }
    }

    /// Forgets operation `id`: it completed.
    func complete(_ id: UInt64) {
        state.withLock { s in
            if s.handles.removeValue(forKey: id) == nil { s.completedEarly.insert(id) }
        }
    }

    /// The handles pending now.
    var all: [OperationHandle] { state.withLock { Array($0.handles.values) } }

    /// Marks the owner closed; returns whether this call did it (the first one) and the pending handles.
    func close() -> (first: Bool, pending: [OperationHandle]) {
        state.withLock { s in
            defer { s.closed = true }
            if !s.closed { s.lastIDBeforeClose = s.nextID }
            return (!s.closed, Array(s.handles.values))
        }
    }

    /// Whether `close()` was called.
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Whether operation `id` was started before `close()` (so `close()` cancels it rather than
    /// refusing it with `.closed`).
    func startedBeforeClose(_ id: UInt64) -> Bool { state.withLock { id <= $0.lastIDBeforeClose } }
}
