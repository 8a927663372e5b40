import DNSMessage
import DNSQuery
import EventReactor
import Testing

/// Against a real authoritative server: knotd on 127.0.0.1 (tools/knot-server.sh).
@Suite struct KnotTests {
    let server: DNSServer

    init() throws {
        server = try KnotPeer.server.get()
    }

    private func ask(_ requests: [DNSQueryRequest], configure: (inout DNSQueryEngine.Configuration) -> Void = { _ in })
        throws -> [DNSQueryOutcome]
    {
        var configuration = testConfiguration(server)
        configure(&configuration)
        let outcomes = Outcomes()
        try withEngine(configuration, operations: requests.count) { _, engine, ledger in
            for (index, request) in requests.enumerated() {
                engine.start(request, completion: recording(index, ledger, outcomes))
            }
            return requests.count
        }
        return (0..<requests.count).compactMap { outcomes[$0] }
    }

    @Test func answersAAndAAAAFromARealServer() throws {
        let outcomes = try ask([try DNSQueryRequest("www.example.test", type: .a),
                                try DNSQueryRequest("www.example.test", type: .aaaa)],
                               configure: firstAttemptWaitsLong)
        let a = try #require(outcomes[0].result)
        #expect(a.rcode == .noError)
        #expect(a.answers.map(\.data) == [.a(DNSIPv4Address(192, 0, 2, 10))])
        #expect(a.transport == .udp && a.attempts == 1 && a.server == server)
        let aaaa = try #require(outcomes[1].result)
        #expect(aaaa.answers.map(\.data) == [.aaaa(DNSIPv6Address("2001:db8::10")!)])
    }

    @Test func nxdomainIsAnAnswerNotAnError() throws {
        let outcomes = try ask([try DNSQueryRequest("missing.example.test", type: .a)])
        let result = try #require(outcomes[0].result)
        #expect(result.rcode == .nxDomain)
        #expect(result.answers.isEmpty && result.authorities.count == 1)
    }

    @Test func unknownNumericTypeIsAskedAndAnsweredWithNoData() throws {
        let outcomes = try ask([try DNSQueryRequest("www.example.test", type: DNSType(65_280))])
        let result = try #require(outcomes[0].result)
        #expect(result.rcode == .noError && result.answers.isEmpty)
        #expect(result.message?.questions.first?.type == DNSType(65_280))
    }

    @Test func truncatedAnswerFallsBackToTCP() throws {
        let outcomes = try ask([try DNSQueryRequest("big.example.test", type: .txt)])
        let result = try #require(outcomes[0].result)
        #expect(result.transport == .tcp)
        #expect(result.answers.count == 12)
        // UDP then TCP; a loaded machine may retransmit the UDP attempt first (1 s wait).
        #expect(result.attempts >= 2)
    }

    @Test func truncatedAnswerIsDeliveredWhenTCPFallbackIsOff() throws {
        var request = try DNSQueryRequest("big.example.test", type: .txt)
        request.options.tcpFallback = false
        let result = try #require(try ask([request])[0].result)
        #expect(result.transport == .udp && result.isTruncated)
    }

    @Test func tcpOnlyAsksOverTCPWithPipelinedQueries() throws {
        var requests: [DNSQueryRequest] = []
        for index in 0..<50 {
            var request = try DNSQueryRequest(index % 2 == 0 ? "www.example.test" : "big.example.test",
                                              type: index % 2 == 0 ? .a : .txt)
            request.options.tcpOnly = true
            requests.append(request)
        }
        let outcomes = try ask(requests)
        #expect(outcomes.count == 50)
        for (index, outcome) in outcomes.enumerated() {
            let result = try #require(outcome.result)
            #expect(result.transport == .tcp)
            #expect(result.answers.count == (index % 2 == 0 ? 1 : 12))
        }
    }

    @Test func randomizedCaseQueriesAreAnsweredByAServerThatEchoesTheCase() throws {
        var requests: [DNSQueryRequest] = []
        for _ in 0..<20 {
            var request = try DNSQueryRequest("mixedcase.example.test", type: .a)
            request.options.randomizeCase = true
            requests.append(request)
        }
        let outcomes = try ask(requests)
        for outcome in outcomes {
            #expect(outcome.result?.answers.map(\.data) == [.a(DNSIPv4Address(192, 0, 2, 20))])
        }
    }

    @Test func thousandsOfQueriesCompleteExactlyOnce() throws {
        let count = 5000
        var requests: [DNSQueryRequest] = []
        let www = try DNSQueryRequest("www.example.test", type: .a)
        let missing = try DNSQueryRequest("nothing.example.test", type: .a)
        for index in 0..<count { requests.append(index % 3 == 0 ? missing : www) }
        let outcomes = try ask(requests) { $0.timeoutNanos = 10_000_000_000 }
        #expect(outcomes.count == count)
        // knotd keeps the kernel's 208 KiB receive buffer, so a burst of 5,000 can lose some
        // queries three times over when other tests load the machine: those end as timeouts,
        // once each. What this pins is one outcome per query, nearly all of them answers.
        let answered = outcomes.filter { $0.result != nil }.count
        let timedOut = outcomes.filter { $0.error == .timeout }.count
        #expect(answered + timedOut == count, "\(outcomes.compactMap(\.error).prefix(3))")
        #expect(answered >= count * 95 / 100)
    }

    @Test func asyncQueryReturnsTheAnswer() async throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let engine = DNSQueryEngine(reactor: reactor, configuration: testConfiguration(server))
        defer { engine.shutdown() }
        let result = try await engine.query(try DNSQueryRequest("www.example.test", type: .a))
        #expect(result.answers.count == 1)
        await #expect(throws: Never.self) {
            _ = try await engine.query(try DNSQueryRequest("missing.example.test", type: .a))
        }
        #expect(reactor.waitForDrain())
    }

    /// Records tagged outcomes on an engine over a group, and which of its reactors each ran on.
    final class GroupTagTarget: DNSQueryCompletionTarget {
        let group: ReactorGroup
        let ledger: CompletionLedger
        let outcomes: Outcomes
        let reactorsReporting = Locked(Set<Int>())

        init(group: ReactorGroup, ledger: CompletionLedger, outcomes: Outcomes) {
            (self.group, self.ledger, self.outcomes) = (group, ledger, outcomes)
        }

        func queryCompleted(tag: UInt64, _ outcome: DNSQueryOutcome) {
            let reactor = group.reactors.firstIndex { $0.inLoop }
            reactorsReporting.withLock { _ = $0.insert(reactor ?? -1) }  // -1: not on a loop
            ledger.record(Int(tag))
            outcomes.set(Int(tag), outcome)
        }
    }

    @Test func groupEngineSpreadsQueriesOverItsReactorsWithClosuresAndWithTags() throws {
        let group = try ReactorGroup(count: 2)
        defer { group.shutdown() }
        let baseline = group.auditBaseline()
        let engine = DNSQueryEngine(group: group, configuration: testConfiguration(server))
        let ledger = CompletionLedger(capacity: 400)
        let outcomes = Outcomes()
        let target = GroupTagTarget(group: group, ledger: ledger, outcomes: outcomes)
        let request = try DNSQueryRequest("www.example.test", type: .a)
        for index in 0..<200 { engine.start(request, completion: recording(index, ledger, outcomes)) }
        // Tagged queries take their own path to a shard (an engine on one reactor borrows its one).
        for index in 200..<400 { engine.start(request, tag: UInt64(index), target: target) }
        #expect(group.waitForAllDrained())
        engine.shutdown()
        let audit = group.audit(since: baseline, ledger: ledger, started: 400)
        #expect(audit.ok, "\(audit)")
        #expect(outcomes.all.count == 400 && outcomes.all.values.allSatisfy { $0.result != nil })
        #expect(group.reactors.allSatisfy { $0.counters.snapshot.started > 0 })
        #expect(target.reactorsReporting.withLock { $0 } == [0, 1])
    }
}
