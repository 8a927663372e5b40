import Atomics
import Dispatch

/// Start/stop rendezvous between a reactor and the threads that create and shut it down.
final class LifecycleLatch: Sendable {
    private let started = DispatchSemaphore(value: 0)
    private let stopped = DispatchGroup()
    private let shutdownBegun = ManagedAtomic<Bool>(false)

    init() { stopped.enter() }
    func signalStarted() { started.signal() }
    func waitStarted() { started.wait() }
    func signalStopped() { stopped.leave() }
    func waitStopped() { stopped.wait() }
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
