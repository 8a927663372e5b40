import Atomics

/// Live counters of one reactor, readable from any thread (relaxed atomics: a snapshot may be
/// a few operations stale while the loop runs, and is exact once it is drained).
///
/// The six counters are one block of raw atomic words the object owns: counting an operation is one
/// atomic add, where a `ManagedAtomic` (an object each) also cost a retain and a release per count.
public final class ReactorCounters: @unchecked Sendable {
    private let words = UnsafeMutablePointer<UnsafeAtomic<Int>.Storage>.allocate(capacity: 6)

    init() { words.initialize(repeating: .init(0), count: 6) }

    deinit {
        words.deinitialize(count: 6)
        words.deallocate()
    }

    var started: UnsafeAtomic<Int> { UnsafeAtomic(at: words) }
    var completed: UnsafeAtomic<Int> { UnsafeAtomic(at: words + 1) }
    var cancelsWon: UnsafeAtomic<Int> { UnsafeAtomic(at: words + 2) }
    var cancelsLost: UnsafeAtomic<Int> { UnsafeAtomic(at: words + 3) }
    var rejected: UnsafeAtomic<Int> { UnsafeAtomic(at: words + 4) }
    var events: UnsafeAtomic<Int> { UnsafeAtomic(at: words + 5) }

    @inline(__always) func eventArmed() { events.wrappingIncrement(ordering: .relaxed) }
    @inline(__always) func eventDisarmed() { events.wrappingDecrement(ordering: .relaxed) }

    /// A copy of the counters at one instant.
    public var snapshot: Snapshot {
        Snapshot(
            started: started.load(ordering: .relaxed),
            completed: completed.load(ordering: .relaxed),
            cancelsWon: cancelsWon.load(ordering: .relaxed),
            cancelsLost: cancelsLost.load(ordering: .relaxed),
            rejected: rejected.load(ordering: .relaxed),
            eventsRegistered: events.load(ordering: .relaxed)
        )
    }

    /// The counters' values at one instant.
    public struct Snapshot: Sendable, Equatable {
        /// Operations started (including rejected starts, which complete with an error).
        public var started: Int
        /// Completions run (every ending path).
        public var completed: Int
        /// `cancel()` calls (and cancelAll/shutdown sweeps) that took effect.
        public var cancelsWon: Int
        /// `cancel()` calls that found the operation already completed or completing.
        public var cancelsLost: Int
        /// Starts refused (limit reached, shut down).
        public var rejected: Int
        /// libevent events armed through `LibeventEvent` (the reactor's own included).
        public var eventsRegistered: Int
        /// Operations started and not yet completed.
        public var inFlight: Int { started - completed }
    }
}
