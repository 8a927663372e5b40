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

/// A tiny deterministic PRNG (SplitMix64) so stress runs replay under a seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

#if canImport(Glibc)
import Glibc
#endif
