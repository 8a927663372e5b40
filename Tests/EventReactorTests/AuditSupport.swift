import Atomics
import EventReactor
import Testing

/// Runs `body` with a fresh reactor (or group), then asserts the exactly-once audit over the
/// operations the body numbered through the ledger, and shuts everything down.
func withAudit<R: Auditable>(
    _ reactors: R, operations: Int, _ body: (R, CompletionLedger) throws -> Int,
    sourceLocation: SourceLocation = #_sourceLocation
) rethrows {
    let baseline = reactors.auditBaseline()
    let ledger = CompletionLedger(capacity: operations)
    let started = try body(reactors, ledger)
    let audit = reactors.audit(since: baseline, ledger: ledger, started: started)
    #expect(audit.ok, "\(audit)", sourceLocation: sourceLocation)
    #expect(audit.started == started, sourceLocation: sourceLocation)
}

/// Polls until `condition` holds, at most `seconds`.
func eventually(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let until = MonotonicClock.now() + UInt64(seconds * 1e9)
    while !condition() {
        if MonotonicClock.now() > until { return false }
        usleep(500)
    }
    return true
}

/// A counter any thread may bump.
final class Counter: Sendable {
    private let value = ManagedAtomic<Int>(0)
    func add(_ n: Int = 1) { value.wrappingIncrement(by: n, ordering: .relaxed) }
    var count: Int { value.load(ordering: .relaxed) }
}

#if canImport(Glibc)
import Glibc
#endif
