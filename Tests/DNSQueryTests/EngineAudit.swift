import DNSQuery
import EventReactor
import EvqueryTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Runs `body` with a fresh reactor and an engine on it, then `withAudit`: drains, closes the
/// engine's sockets and asserts the exactly-once audit over the queries the body numbered.
func withEngine(
    _ configuration: DNSQueryEngine.Configuration, operations: Int,
    _ body: (Reactor, DNSQueryEngine, CompletionLedger) throws -> Int,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let reactor = try Reactor()
    defer { reactor.shutdown() }
    var engine: DNSQueryEngine?
    try withAudit(reactor, operations: operations, close: { engine?.shutdown() }, sourceLocation: sourceLocation) {
        reactor, ledger in
        let made = DNSQueryEngine(reactor: reactor, configuration: configuration)
        engine = made
        return try body(reactor, made, ledger)
    }
}

/// `withEngine` for a body that awaits: the engine and the reactor end with their `async` forms.
func withEngine(
    _ configuration: DNSQueryEngine.Configuration, operations: Int,
    _ body: (Reactor, DNSQueryEngine, CompletionLedger) async throws -> Int,
    sourceLocation: SourceLocation = #_sourceLocation
) async throws {
    let reactor = try Reactor()
    var engine: DNSQueryEngine?
    do {
        try await withAudit(reactor, operations: operations, close: { await engine?.shutdown() },
                            sourceLocation: sourceLocation) { reactor, ledger in
            let made = DNSQueryEngine(reactor: reactor, configuration: configuration)
            engine = made
            return try await body(reactor, made, ledger)
        }
    } catch {
        await reactor.shutdown()
        throw error
    }
    await reactor.shutdown()
}

/// Outcomes by query number, written from the reactor thread and read by the test.
final class Outcomes: Sendable {
    private let store = Locked<[Int: DNSQueryOutcome]>([:])
    func set(_ index: Int, _ outcome: DNSQueryOutcome) { store.withLock { $0[index] = outcome } }
    subscript(index: Int) -> DNSQueryOutcome? { store.withLock { $0[index] } }
    var all: [Int: DNSQueryOutcome] { store.withLock { $0 } }
}

/// A completion that records into a ledger and an outcome store.
func recording(_ index: Int, _ ledger: CompletionLedger, _ outcomes: Outcomes)
    -> @Sendable (DNSQueryOutcome) -> Void
{
    { outcome in
        ledger.record(index)
        outcomes.set(index, outcome)
    }
}

/// A configuration asking only `server`, with test-sized timing.
func testConfiguration(_ server: DNSServer, timeout: Duration = .seconds(2)) -> DNSQueryEngine.Configuration {
    var configuration = DNSQueryEngine.Configuration()
    configuration.servers = [server]
    configuration.timeout = timeout
    configuration.retransmitInterval = timeout / 2
    configuration.maxRetransmitInterval = timeout
    configuration.attempts = 2
    configuration.resolvConfPath = "/nonexistent"
    return configuration
}

/// Makes a query's first attempt wait 60 s for its reply, for tests that pin `attempts == 1`: a
/// loaded machine (the tests run in parallel, on 2 cores) delays a reply, it cannot drop it.
func firstAttemptWaitsLong(_ configuration: inout DNSQueryEngine.Configuration) {
    configuration.timeout = .seconds(60)
    configuration.retransmitInterval = .seconds(60)
    configuration.maxRetransmitInterval = .seconds(60)
}

extension DNSQueryOutcome {
    var result: DNSQueryResult? { if case .success(let result) = self { result } else { nil } }
    var error: DNSQueryError? { if case .failure(let error) = self { error } else { nil } }
    var isCancelled: Bool { if case .failure(.cancelled) = self { true } else { false } }
}

/// Starts the next query from each completion, on the loop (a closed loop, as `evq load` runs),
/// until `count` were started: from the third on, each runs in an object an earlier one ended in.
final class ChainTarget: DNSQueryCompletionTarget, @unchecked Sendable {
    let reactor: Reactor
    let ledger: CompletionLedger
    let outcomes = Outcomes()
    let count: Int
    let request: (Int) -> DNSQueryRequest
    var engine: DNSQueryEngine?
    private var next = 0  // loop only

    init(reactor: Reactor, ledger: CompletionLedger, count: Int, request: @escaping (Int) -> DNSQueryRequest) {
        self.reactor = reactor
        self.ledger = ledger
        self.count = count
        self.request = request
    }

    func startNext() {
        reactor.preconditionInLoop()
        guard next < count, let engine else { return }
        engine.start(request(next), tag: UInt64(next), target: self)
        next += 1
    }

    func queryCompleted(tag: UInt64, _ outcome: DNSQueryOutcome) {
        reactor.preconditionInLoop()
        ledger.record(Int(tag))
        outcomes.set(Int(tag), outcome)
        startNext()
    }
}
