import Atomics
import Dispatch

/// Start/stop rendezvous between a reactor and the threads that create and shut it down, and the
/// tasks that wait for the stop without blocking a thread.
final class LifecycleLatch: Sendable {
    private let started = DispatchSemaphore(value: 0)
    private let stopped = DispatchGroup()
    private let shutdownBegun = ManagedAtomic<Bool>(false)
    /// nil once the loop has stopped; until then, the tasks waiting for it.
    private let stopWaiters = Locked<[CheckedContinuation<Void, Never>]?>([])

    init() { stopped.enter() }
    func signalStarted() { started.signal() }
    func waitStarted() { started.wait() }
    func signalStopped() {
        let waiters = stopWaiters.withLock { waiters in
            defer { waiters = nil }
            return waiters ?? []
        }
        stopped.leave()
        for waiter in waiters { waiter.resume() }
    }
    func waitStopped() { stopped.wait() }
    /// Whether the loop has stopped (its thread signalled it).
    var isStopped: Bool { stopWaiters.withLock { $0 == nil } }
    /// Returns once the loop has stopped; suspends the task, not a thread.
    func stoppedAsync() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let queued = stopWaiters.withLock { waiters in
                guard waiters != nil else { return false }
                waiters!.append(continuation)
                return true
            }
            if !queued { continuation.resume() }
        }
    }
    /// True for the first caller only.
    func beginShutdown() -> Bool { !shutdownBegun.exchange(true, ordering: .acquiringAndReleasing) }
}

/// A value handed from one thread to one waiting thread.
final class ResultBox<T: Sendable>: Sendable {
    private let value = Locked<T?>(nil)
    private let ready = DispatchSemaphore(value: 0)

    func set(_ result: T) {
        value.withLock { $0 = result }
        ready.signal()
    }

    func wait() -> T {
        ready.wait()
        return value.withLock { $0! }
    }
}

/// Carries a value the compiler cannot prove `Sendable` across one hand-off whose safety the
/// caller argues at the use site.
struct UncheckedSendableBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
