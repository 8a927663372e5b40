import DNSQuery
import DNSResponder
import EventReactor
import EvqueryLifecycle
import Logging
import ServiceLifecycle
import Testing

/// Starts queries against `server` until graceful shutdown, each recorded in `ledger`; keeps up to
/// `outstanding` in flight (a closed loop from the task, one start per completion).
struct LoadService: Service {
    let engine: DNSQueryEngine
    let ledger: CompletionLedger
    let outcomes: Locked<[Int: DNSQueryOutcome]>
    let started: Locked<Int>
    let capacity: Int

    func run() async throws {
        let slots = AsyncStream<Void>.makeStream()
        for _ in 0..<100 { slots.continuation.yield() }
        for await _ in slots.stream {
            if Task.isShuttingDownGracefully || Task.isCancelled { break }
            let index = started.withLock { count -> Int? in
                guard count < capacity else { return nil }
                defer { count += 1 }
                return count
            }
            guard let index else { break }
            let request = try DNSQueryRequest("l\(index).load.evq.test.", type: .a)
            engine.start(request) { [ledger, outcomes] outcome in
                ledger.record(index)
                outcomes.withLock { $0[index] = outcome }
                slots.continuation.yield()
            }
        }
        slots.continuation.finish()
    }
}

@Suite struct ServiceGroupTests {
    /// A graceful shutdown during load: the engine's run() cancels what is outstanding, each query
    /// completes once (answered, or cancelled with the shutdown reason), and the loop is back to its
    /// baseline of events.
    @Test func gracefulShutdownDuringLoadCompletesEveryQueryOnce() async throws {
        var responderConfiguration = DNSResponder.Configuration()
        responderConfiguration.faults.delayed = 0.5  // half the replies late: queries are in flight
        responderConfiguration.faults.delay = .fixed(200_000_000)
        let responder = try DNSResponder(responderConfiguration)
        try responder.start()
        defer { responder.stop() }
        let reactor = try Reactor()
        let baseline = reactor.auditBaseline()
        var configuration = DNSQueryEngine.Configuration()
        configuration.servers = [DNSServer(ipv4: 127, 0, 0, 1, port: responder.port)]
        configuration.timeout = .seconds(30)
        configuration.retransmitInterval = .seconds(30)
        let engine = DNSQueryEngine(reactor: reactor, configuration: configuration)
        let capacity = 1_000_000
        let ledger = CompletionLedger(capacity: capacity)
        let outcomes = Locked<[Int: DNSQueryOutcome]>([:])
        let started = Locked(0)
        let load = LoadService(engine: engine, ledger: ledger, outcomes: outcomes, started: started, capacity: capacity)
        let group = ServiceGroup(services: [engine, load], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            // Shut down once some queries have completed and more are in flight.
            while outcomes.withLock({ $0.count }) < 500 { try await Task.sleep(for: .milliseconds(5)) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        // Shutting down twice is fine.
        await engine.shutdown()
        let blocking: () -> Void = { engine.shutdown() }
        blocking()
        let count = started.withLock { $0 }
        #expect(reactor.waitForDrain())
        let all = outcomes.withLock { $0 }
        #expect(all.count == count)
        let cancelled = all.values.filter {
            if case .failure(.cancelled(let info)) = $0 { return info.reason == .shutdown }
            return false
        }
        let answered = all.values.filter { (try? $0.get()) != nil }
        #expect(cancelled.count + answered.count == count, "every query answered or cancelled by the shutdown")
        let audit = reactor.audit(since: baseline, ledger: ledger, started: count)
        #expect(audit.ok, "\(audit)")
        await reactor.shutdown()
    }

    /// A reactor group as a service: its graceful shutdown completes every pending operation once,
    /// with the shutdown reason, and run() returns after the loops stopped; a second shutdown is fine.
    @Test func aReactorGroupServiceCancelsPendingOperationsOnceOnGracefulShutdown() async throws {
        let reactors = try ReactorGroup(count: 2)
        let count = 2_000
        let ledger = CompletionLedger(capacity: count)
        let reasons = Locked<[CancelReason]>([])
        for index in 0..<count {
            reactors.next().startTimer(after: .seconds(60)) { outcome in
                ledger.record(index)
                if case .cancelled(let info) = outcome { reasons.withLock { $0.append(info.reason) } }
            }
        }
        let group = ServiceGroup(services: [reactors], logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(ledger.missed(started: count) == 0)
        #expect(ledger.doubleCompletions == 0)
        #expect(reasons.withLock { $0 }.count == count)
        #expect(reasons.withLock { $0 }.allSatisfy { $0 == .shutdown })
        let counters = reactors.totalCounters
        #expect(counters.started == count && counters.completed == count)
        await reactors.shutdown()
        let blocking: () -> Void = { reactors.shutdown() }
        blocking()
    }
}
