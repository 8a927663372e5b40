import Atomics

/// Live counters of one reactor, readable from any thread (relaxed atomics: a snapshot may be
/// a few operations stale while the loop runs, and is exact once it is drained).
public final class ReactorCounters: Sendable {
    let started = ManagedAtomic<Int>(0)
    let completed = ManagedAtomic<Int>(0)
    let cancelsWon = ManagedAtomic<Int>(0)
    let cancelsLost = ManagedAtomic<Int>(0)
    let rejected = ManagedAtomic<Int>(0)
    let events = ManagedAtomic<Int>(0)

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
