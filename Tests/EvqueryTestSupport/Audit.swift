import Atomics
import EventReactor
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The exactly-once audit every test that starts operations ends with: runs `body` on `reactors`
/// (it numbers the operations it starts through the ledger and returns how many it started), waits
/// at most `drain` for every operation to complete, runs `close` (an engine's shutdown: its sockets'
/// events leave the loop), then expects started = completed, no double or missed completion, and the
/// loop's events and timers back at the baseline taken before `body`.
public func withAudit<R: Auditable>(
    _ reactors: R, operations: Int, drain: Duration = .seconds(30), close: () -> Void = {},
    sourceLocation: SourceLocation = #_sourceLocation, _ body: (R, CompletionLedger) throws -> Int
) rethrows {
    let baseline = reactors.auditBaseline()
    let ledger = CompletionLedger(capacity: operations)
    let started = try body(reactors, ledger)
    expectAudit(reactors, baseline, ledger, started: started, drain: drain, sourceLocation: sourceLocation, close)
}

/// `withAudit` for a body that awaits (the `async` forms); `close` may await too.
public func withAudit<R: Auditable>(
    _ reactors: R, operations: Int, drain: Duration = .seconds(30), close: () async -> Void = {},
    sourceLocation: SourceLocation = #_sourceLocation, _ body: (R, CompletionLedger) async throws -> Int
) async rethrows {
    let baseline = reactors.auditBaseline()
    let ledger = CompletionLedger(capacity: operations)
    let started = try await body(reactors, ledger)
    let drained = reactors.auditedReactors.allSatisfy { $0.waitForDrain(timeout: drain) }
    #expect(drained, "operations still in flight after \(drain)", sourceLocation: sourceLocation)
    await close()
    expectAudit(reactors, baseline, ledger, started: started, drain: nil, countsStarts: false,
                sourceLocation: sourceLocation) {}
}

private func expectAudit<R: Auditable>(
    _ reactors: R, _ baseline: AuditBaseline, _ ledger: CompletionLedger, started: Int, drain: Duration?,
    countsStarts: Bool = true, sourceLocation: SourceLocation, _ close: () -> Void
) {
    if let drain {
        let drained = reactors.auditedReactors.allSatisfy { $0.waitForDrain(timeout: drain) }
        #expect(drained, "operations still in flight after \(drain)", sourceLocation: sourceLocation)
    }
    close()
    let audit = reactors.audit(since: baseline, ledger: ledger, started: started)
    #expect(audit.ok, "\(audit)", sourceLocation: sourceLocation)
    // The reactors' own count of starts; an `async` form's operation (a task's query) may end
    // before it is one, so the async harness checks the ledger only.
    if countsStarts { #expect(audit.started == started, sourceLocation: sourceLocation) }
}

/// `withAudit` on a fresh reactor (shut down at the end) whose operations are numbered as they are
/// started, for tests that do not count their operations ahead.
public func withAuditedReactor(
    capacity: Int = 10_000, configuration: Reactor.Configuration = Reactor.Configuration(),
    sourceLocation: SourceLocation = #_sourceLocation, _ body: (Reactor, OperationLedger) throws -> Void
) throws {
    let reactor = try Reactor(configuration: configuration)
    defer { reactor.shutdown() }
    try withAudit(reactor, operations: capacity, sourceLocation: sourceLocation) { reactor, ledger in
        let numbered = OperationLedger(ledger)
        try body(reactor, numbered)
        return numbered.started
    }
}

/// `withAudit` on a fresh reactor for a body that awaits; the reactor ends with its `async` shutdown.
public func withAuditedReactor(
    operations: Int, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: (Reactor, CompletionLedger) async throws -> Int
) async throws {
    let reactor = try Reactor()
    do {
        try await withAudit(reactor, operations: operations, sourceLocation: sourceLocation, body)
    } catch {
        await reactor.shutdown()
        throw error
    }
    await reactor.shutdown()
}

/// Numbers the completions of the operations a test starts, in the order it starts them.
public final class OperationLedger: Sendable {
    /// The ledger the audit reads.
    public let ledger: CompletionLedger
    private let count = Locked(0)

    /// Numbers into `ledger`, from 0.
    public init(_ ledger: CompletionLedger) { self.ledger = ledger }

    /// How many operations were numbered (started).
    public var started: Int { count.withLock { $0 } }

    /// Wraps a completion so that its runs are recorded against a fresh number.
    public func track<T: Sendable>(_ completion: @escaping @Sendable (T) -> Void) -> @Sendable (T) -> Void {
        let index = count.withLock { n in
            defer { n += 1 }
            return n
        }
        return { [ledger] value in
            _ = ledger.record(index)
            completion(value)
        }
    }
}

/// Whether `condition` becomes true within `limit` (checked every half millisecond).
public func eventually(within limit: Duration = .seconds(20), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + limit
    repeat {
        if condition() { return true }
        usleep(500)
    } while ContinuousClock.now < deadline
    return condition()
}

/// A counter any thread may bump.
public final class Counter: Sendable {
    private let value = ManagedAtomic<Int>(0)

    /// A counter at 0.
    public init() {}

    /// Adds `n`.
    public func add(_ n: Int = 1) { value.wrappingIncrement(by: n, ordering: .relaxed) }

    /// The count so far.
    public var count: Int { value.load(ordering: .relaxed) }
}
