import CoreMetrics
import DNSMessage
import DNSQuery
import DNSResponder
import EventReactor
import EvqueryTestSupport
import Logging
import MetricsTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// swift-metrics and swift-log from the engine: every outcome counted with its dimensions, the
/// events an operator acts on logged with their metadata, and a backend that blocks never holding
/// the loop.
@Suite struct ObservabilityTests {
    /// Queries answered NOERROR, NXDOMAIN, SERVFAIL and REFUSED by a scripted server, and one
    /// cancelled: each is counted once under its outcome and rcode.
    @Test func everyOutcomeIsCountedWithItsOutcomeAndRcode() throws {
        let server = ScriptedServer()
        let metrics = TestMetrics()
        var configuration = testConfiguration(server.address)
        firstAttemptWaitsLong(&configuration)
        configuration.attempts = 1
        configuration.metricsFactory = metrics
        configuration.metricsInterval = .milliseconds(10)
        let script: [DNSRcode?] = [.noError, .noError, .noError, .nxDomain, .nxDomain, .servFail, .refused, nil]
        let outcomes = Outcomes()
        let shard = Locked<String>("")
        try withEngine(configuration, operations: script.count) { reactor, engine, ledger in
            shard.withLock { $0 = "evq-reactor" }
            var handles: [String: QueryHandle] = [:]
            for index in script.indices {
                let request = try DNSQueryRequest("q\(index).example.test.", type: .a)
                handles["q\(index).example.test."] = engine.start(request, completion: recording(index, ledger, outcomes))
            }
            for _ in script.indices {
                guard let query = server.receive() else { Issue.record("a query did not arrive"); break }
                let name = query.message.questions[0].name.description.lowercased()
                guard let index = Int(name.dropFirst().prefix { $0 != "." }) else { continue }
                if let rcode = script[index] {
                    server.send(ScriptedServer.answer(query, rcode: rcode), to: query)
                } else {
                    handles[name]?.cancel()
                }
            }
            return script.count
        }
        let dimensions = { (outcome: String, rcode: String) in
            [("shard", shard.withLock { $0 }), ("outcome", outcome), ("rcode", rcode)]
        }
        let expected: [(String, String, Int64)] = [
            ("answered", "NOERROR", 3), ("answered", "NXDOMAIN", 2), ("server_failure", "SERVFAIL", 1),
            ("server_failure", "REFUSED", 1), ("cancelled", "none", 1),
        ]
        // The engine's last snapshot is published from its own queue after shutdown, counters before
        // timers: wait for the whole of it.
        #expect(eventually {
            metrics.counterTotal(label: "evquery_dns_queries_completed") == Int64(script.count)
                && (try? metrics.expectTimer("evquery_dns_latency", [("shard", "evq-reactor")]))?.values.count
                    == script.count - 1
                && (try? metrics.expectTimer("evquery_dns_cancel_latency", [("shard", "evq-reactor")]))?.values.count == 1
        }, "completions counted: \(metrics.counterTotal(label: "evquery_dns_queries_completed"))")
        for (outcome, rcode, count) in expected {
            #expect(metrics.counterTotal(label: "evquery_dns_queries_completed", dimensions: dimensions(outcome, rcode))
                == count, "\(outcome) \(rcode)")
        }
        #expect(metrics.counterTotal(label: "evquery_dns_queries_started") == Int64(script.count))
        let latency = try metrics.expectTimer("evquery_dns_latency", [("shard", "evq-reactor")])
        #expect(latency.values.count == script.count - 1)
        let cancelLatency = try metrics.expectTimer("evquery_dns_cancel_latency", [("shard", "evq-reactor")])
        #expect(cancelLatency.values.count == 1)
        let outstanding = try metrics.expectGauge("evquery_dns_outstanding", [("shard", "evq-reactor")])
        #expect(outstanding.lastValue == 0)
        _ = outcomes
    }

    /// Replies with a wrong id are dropped and counted under their reason.
    @Test func droppedRepliesAreCountedByReason() throws {
        let server = ScriptedServer()
        let metrics = TestMetrics()
        var configuration = testConfiguration(server.address)
        firstAttemptWaitsLong(&configuration)
        configuration.metricsFactory = metrics
        let outcomes = Outcomes()
        try withEngine(configuration, operations: 1) { reactor, engine, ledger in
            engine.start(try DNSQueryRequest("drop.example.test.", type: .a), completion: recording(0, ledger, outcomes))
            guard let query = server.receive() else { Issue.record("no query"); return 1 }
            server.send(ScriptedServer.answer(query, id: query.id &+ 1), to: query)
            server.send(ScriptedServer.answer(query, name: try DNSName(parsing: "other.example.test.")), to: query)
            server.send(ScriptedServer.answer(query), to: query)
            return 1
        }
        #expect(eventually {
            metrics.counterTotal(label: "evquery_dns_queries_completed") == 1
                && metrics.counterTotal(label: "evquery_dns_replies_dropped") == 2
        })
        #expect(metrics.counterTotal(label: "evquery_dns_replies_dropped",
                                     dimensions: [("shard", "evq-reactor"), ("reason", "wrong_id")]) == 1)
        #expect(metrics.counterTotal(label: "evquery_dns_replies_dropped",
                                     dimensions: [("shard", "evq-reactor"), ("reason", "wrong_question")]) == 1)
        #expect(outcomes[0]?.result != nil)
    }

    /// A metrics backend that blocks in every call holds its publisher's queue, not the loop: all
    /// queries complete while it is stuck, later snapshots are skipped rather than queued, and once
    /// it is released the totals are exact (snapshots are cumulative, so skipping loses nothing).
    @Test func aMetricsBackendThatBlocksDoesNotStallTheLoop() throws {
        let gate = BlockingMetrics()
        let responder = try DNSResponder(DNSResponder.Configuration())
        try responder.start()
        var configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: responder.port))
        firstAttemptWaitsLong(&configuration)
        configuration.metricsFactory = gate
        configuration.metricsInterval = .milliseconds(1)
        let count = 2_000
        let outcomes = Outcomes()
        try withEngine(configuration, operations: count) { reactor, engine, ledger in
            // The backend blocks from the first publish on: wait until it is stuck in it.
            #expect(eventually { gate.blockedCalls > 0 }, "the backend was never called")
            for index in 0..<count {
                engine.start(try DNSQueryRequest("b\(index).load.evq.test.", type: .a),
                             completion: recording(index, ledger, outcomes))
            }
            // The audit's drain waits for every completion: with a stalled loop it would not come.
            #expect(reactor.waitForDrain(timeoutNanos: 60_000_000_000), "the loop stalled behind the backend")
            #expect(engine.metricsSnapshotsSkipped > 0)
            return count
        }
        #expect(outcomes.all.values.filter { $0.result != nil }.count == count)
        gate.release()
        #expect(eventually { gate.total(of: "evquery_dns_queries_completed") == count })
        responder.stop()
    }
}

/// A metrics backend whose counters block until `release()`, and then count.
final class BlockingMetrics: MetricsFactory, Sendable {
    private let released = Locked(false)
    private let blocked = Locked(0)
    private let totals = Locked<[String: Int]>([:])

    var blockedCalls: Int { blocked.withLock { $0 } }
    func release() { released.withLock { $0 = true } }
    func total(of label: String) -> Int { totals.withLock { $0[label] ?? 0 } }

    fileprivate func waitForRelease() {
        blocked.withLock { $0 += 1 }
        while !released.withLock({ $0 }) { usleep(1000) }
    }

    fileprivate func add(_ label: String, _ amount: Int64) { totals.withLock { $0[label, default: 0] += Int(amount) } }

    final class Handler: CounterHandler, RecorderHandler, TimerHandler, Sendable {
        let factory: BlockingMetrics
        let label: String
        init(_ factory: BlockingMetrics, _ label: String) {
            self.factory = factory
            self.label = label
        }
        func increment(by amount: Int64) {
            factory.waitForRelease()
            factory.add(label, amount)
        }
        func reset() {}
        func record(_ value: Int64) { factory.waitForRelease() }
        func record(_ value: Double) { factory.waitForRelease() }
        func recordNanoseconds(_ duration: Int64) { factory.waitForRelease() }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Handler(self, label) }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler(self, label)
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Handler(self, label) }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}

/// The events an operator acts on, through a recording swift-log handler.
@Suite struct EngineLoggingTests {
    @Test func aServerPenalisedAndRestoredIsLoggedWithItsAddress() throws {
        let silent = ScriptedServer()  // never answers: its attempt times out and it is penalised
        let responder = try DNSResponder(DNSResponder.Configuration())
        try responder.start()
        defer { responder.stop() }
        let store = RecordingLogHandler.Store()
        var configuration = testConfiguration(silent.address)
        configuration.servers = [silent.address, DNSServer(ipv4: 127, 0, 0, 1, port: responder.port)]
        configuration.timeout = .seconds(30)
        configuration.retransmitInterval = .milliseconds(50)
        configuration.maxRetransmitInterval = .seconds(30)
        configuration.attempts = 2
        configuration.serverPenalty = .milliseconds(200)
        configuration.logger = RecordingLogHandler.logger(store)
        configuration.metricsInterval = .milliseconds(10)
        let outcomes = Outcomes()
        try withEngine(configuration, operations: 1) { reactor, engine, ledger in
            engine.start(try DNSQueryRequest("p.load.evq.test.", type: .a), completion: recording(0, ledger, outcomes))
            #expect(reactor.waitForDrain(timeoutNanos: 30_000_000_000))
            #expect(eventually { store.first(containing: "DNS server restored") != nil }, "\(store.all.map(\.message))")
            return 1
        }
        #expect(outcomes[0]?.result != nil)
        let penalised = try #require(store.first(containing: "DNS server penalised"))
        #expect(penalised.level == .notice)
        #expect(penalised.metadata["server"] == "\(silent.address)")
        #expect(penalised.metadata["shard"] == "evq-reactor")
        let restored = try #require(store.first(containing: "DNS server restored"))
        #expect(restored.metadata["server"] == "\(silent.address)")
        // Nothing per query above trace.
        #expect(store.all.filter { $0.level > .trace && $0.message.contains("p.load") }.isEmpty)
    }

    @Test func aMissingResolvConfIsLoggedWithItsPath() throws {
        let store = RecordingLogHandler.Store()
        var configuration = DNSQueryEngine.Configuration()
        configuration.resolvConfPath = "/nonexistent/resolv.conf"
        configuration.logger = RecordingLogHandler.logger(store)
        try withEngine(configuration, operations: 0) { _, _, _ in 0 }
        let entry = try #require(store.first(containing: "resolv.conf"))
        #expect(entry.level == .warning)
        #expect(entry.metadata["path"] == "/nonexistent/resolv.conf")
    }

    @Test func theDefaultLoggerLogsNothingAndCostsNoTick() throws {
        // No logger and no metrics: the shard runs no tick, so the loop's events are as before.
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let before = reactor.footprint()
        let engine = DNSQueryEngine(reactor: reactor, configuration: testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: 9)))
        #expect(reactor.footprint().libeventEvents == before.libeventEvents)
        engine.shutdown()
    }
}
