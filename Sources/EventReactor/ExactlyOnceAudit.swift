import Atomics
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// Counts how often each operation's completion ran, independently of the reactor, so that a
/// double or a missing completion is seen even if the reactor's own counters were wrong.
/// Any thread.
public final class CompletionLedger: @unchecked Sendable {
    /// How many operations the ledger can track.
    public let capacity: Int
    private let counts: UnsafeMutablePointer<UnsafeAtomic<UInt32>.Storage>
    private let doubles = ManagedAtomic<Int>(0)

    /// A ledger for operations numbered `0..<capacity` by the caller.
    public init(capacity: Int) {
        self.capacity = capacity
        guard let memory = calloc(max(capacity, 1), MemoryLayout<UnsafeAtomic<UInt32>.Storage>.stride) else {
            fatalError("cannot allocate a ledger of \(capacity)")
        }
        counts = memory.bindMemory(to: UnsafeAtomic<UInt32>.Storage.self, capacity: capacity)
    }

    deinit { free(counts) }

    /// Records one completion of operation `index`; returns false (and counts a double) if it had
    /// already completed.
    @discardableResult
    public func record(_ index: Int) -> Bool {
        let previous = UnsafeAtomic<UInt32>(at: counts + index).loadThenWrappingIncrement(ordering: .relaxed)
        if previous != 0 { doubles.wrappingIncrement(ordering: .relaxed) }
        return previous == 0
    }

    /// How many times operation `index` completed.
    public func completions(of index: Int) -> UInt32 {
        UnsafeAtomic<UInt32>(at: counts + index).load(ordering: .relaxed)
    }

    /// Completions beyond the first, over all operations.
    public var doubleCompletions: Int { doubles.load(ordering: .relaxed) }

    /// Operations among `0..<started` whose completion never ran.
    public func missed(started: Int) -> Int {
        (0..<started).reduce(0) { $0 + (completions(of: $1) == 0 ? 1 : 0) }
    }
}

/// What a reactor has registered with libevent and in its timer heap: must be back to its
/// baseline once every operation has completed.
public struct EventFootprint: Sendable, Equatable, CustomStringConvertible {
    /// libevent's own count of added events (`event_base_get_num_events`).
    public var libeventEvents: Int
    /// Operation timers in the reactor's heap.
    public var timers: Int
    /// Operations whose gate is still open or whose ending is still queued.
    public var inFlight: Int

    /// The sum of two footprints (for reactor groups).
    public static func + (a: EventFootprint, b: EventFootprint) -> EventFootprint {
        EventFootprint(libeventEvents: a.libeventEvents + b.libeventEvents, timers: a.timers + b.timers,
                       inFlight: a.inFlight + b.inFlight)
    }

    public var description: String { "libevent=\(libeventEvents) timers=\(timers) inFlight=\(inFlight)" }
}

/// The exactly-once audit (docs/performance.md "Measures"): started = completed, no double or missed
/// completion, and the loop's events back to their baseline after the drain.
public struct ExactlyOnceAudit: Sendable, Equatable, Codable, CustomStringConvertible {
    public var started: Int
    public var completed: Int
    public var doubleCompletions: Int
    public var missed: Int
    public var eventsAfterDrain: Int
    public var eventsBaseline: Int
    public var timersAfterDrain: Int

    /// Whether every rule holds.
    public var ok: Bool {
        started == completed && doubleCompletions == 0 && missed == 0 && eventsAfterDrain == eventsBaseline
            && timersAfterDrain == 0
    }

    /// Makes an audit from its figures.
    public init(started: Int, completed: Int, doubleCompletions: Int, missed: Int, eventsAfterDrain: Int,
                eventsBaseline: Int, timersAfterDrain: Int) {
        self.started = started
        self.completed = completed
        self.doubleCompletions = doubleCompletions
        self.missed = missed
        self.eventsAfterDrain = eventsAfterDrain
        self.eventsBaseline = eventsBaseline
        self.timersAfterDrain = timersAfterDrain
    }

    public var description: String {
        "started=\(started) completed=\(completed) double=\(doubleCompletions) missed=\(missed) "
            + "events_after_drain=\(eventsAfterDrain) events_baseline=\(eventsBaseline) "
            + "timers_after_drain=\(timersAfterDrain) \(ok ? "OK" : "VIOLATED")"
    }

    private enum CodingKeys: String, CodingKey {
        case started, completed, doubleCompletions, missed, eventsAfterDrain, eventsBaseline, timersAfterDrain, ok
    }

    /// Reads an audit's figures (`ok` is recomputed; `timersAfterDrain` is 0 when absent).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(started: try container.decode(Int.self, forKey: .started),
                  completed: try container.decode(Int.self, forKey: .completed),
                  doubleCompletions: try container.decode(Int.self, forKey: .doubleCompletions),
                  missed: try container.decode(Int.self, forKey: .missed),
                  eventsAfterDrain: try container.decode(Int.self, forKey: .eventsAfterDrain),
                  eventsBaseline: try container.decode(Int.self, forKey: .eventsBaseline),
                  timersAfterDrain: try container.decodeIfPresent(Int.self, forKey: .timersAfterDrain) ?? 0)
    }

    /// Writes the figures and the verdict (`ok`), as the JSON reports show them.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(started, forKey: .started)
        try container.encode(completed, forKey: .completed)
        try container.encode(doubleCompletions, forKey: .doubleCompletions)
        try container.encode(missed, forKey: .missed)
        try container.encode(eventsAfterDrain, forKey: .eventsAfterDrain)
        try container.encode(eventsBaseline, forKey: .eventsBaseline)
        try container.encode(timersAfterDrain, forKey: .timersAfterDrain)
        try container.encode(ok, forKey: .ok)
    }
}

extension Reactor {
    /// The reactor's event footprint, read on its loop. Any thread but the reactor's own.
    public func footprint() -> EventFootprint {
        let counters = counters
        return syncOnLoop { [unowned self] in
            EventFootprint(libeventEvents: libeventEventCount, timers: timerCount,
                           inFlight: counters.snapshot.inFlight)
        }
    }

    /// Waits until no operation is in flight (polling every millisecond), at most `timeout`.
    /// Returns whether the reactor drained. Any thread but the reactor's own.
    @discardableResult
    public func waitForDrain(timeout: Duration = .seconds(10)) -> Bool {
        waitForDrain(timeoutNanos: timeout.clampedNanoseconds)
    }

    /// `waitForDrain(timeout:)` in nanoseconds.
    @discardableResult
    package func waitForDrain(timeoutNanos: UInt64) -> Bool {
        let until = MonotonicClock.now() &+ timeoutNanos
        while counters.snapshot.inFlight > 0 {
            if MonotonicClock.now() > until { return false }
            usleep(1000)
        }
        return true
    }
}

/// What an audit compares against: the footprint and counters before the audited operations.
public struct AuditBaseline: Sendable {
    /// The event footprint before the operations started.
    public var footprint: EventFootprint
    /// The counters before the operations started.
    public var counters: ReactorCounters.Snapshot
}

/// Audits for one reactor or a group alike.
public protocol Auditable: Sendable {
    /// The reactors audited together.
    var auditedReactors: [Reactor] { get }
}

extension Reactor: Auditable {
    public var auditedReactors: [Reactor] { [self] }
}

extension ReactorGroup: Auditable {
    public var auditedReactors: [Reactor] { reactors }
}

extension Auditable {
    /// The summed event footprint. Not from a reactor thread.
    public func totalFootprint() -> EventFootprint {
        auditedReactors.map { $0.footprint() }.reduce(EventFootprint(libeventEvents: 0, timers: 0, inFlight: 0), +)
    }

    /// The summed counters. Any thread.
    public var totalCounters: ReactorCounters.Snapshot {
        auditedReactors.map(\.counters.snapshot).reduce(into: .zero) { total, next in
            total.started += next.started
            total.completed += next.completed
            total.cancelsWon += next.cancelsWon
            total.cancelsLost += next.cancelsLost
            total.rejected += next.rejected
            total.eventsRegistered += next.eventsRegistered
        }
    }

    /// Waits until every reactor drained, at most `timeout` each.
    @discardableResult
    public func waitForAllDrained(timeout: Duration = .seconds(10)) -> Bool {
        auditedReactors.allSatisfy { $0.waitForDrain(timeout: timeout) }
    }

    /// Takes the baseline an audit compares against. Not from a reactor thread.
    public func auditBaseline() -> AuditBaseline {
        AuditBaseline(footprint: totalFootprint(), counters: totalCounters)
    }

    /// Drains and audits the operations started since `baseline`: `ledger` counts each operation's
    /// completions by the caller's numbering, `0..<started`. Not from a reactor thread.
    public func audit(since baseline: AuditBaseline, ledger: CompletionLedger, started: Int) -> ExactlyOnceAudit {
        waitForAllDrained()
        let after = totalFootprint()
        let counted = totalCounters
        return ExactlyOnceAudit(
            started: counted.started - baseline.counters.started,
            completed: counted.completed - baseline.counters.completed,
            doubleCompletions: ledger.doubleCompletions, missed: ledger.missed(started: started),
            eventsAfterDrain: after.libeventEvents, eventsBaseline: baseline.footprint.libeventEvents,
            timersAfterDrain: after.timers)
    }
}
