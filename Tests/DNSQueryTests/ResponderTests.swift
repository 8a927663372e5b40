import DNSMessage
@testable import DNSQuery
import DNSResponder
import EventReactor
import EvqueryTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Against the project's responder (in process, 127.0.0.1, kernel-chosen port) with its fault
/// injection: every query ends exactly once with the outcome its fault calls for, a reply that does
/// not belong to a query is never accepted, and the engine's counters agree with the responder's.
@Suite struct ResponderTests {
    /// One fault mode at a time, 30 % of queries.
    enum Fault: String, CaseIterable, Sendable {
        case drop, delay, truncate, servfail, malformed, wrongID, wrongQuestion, duplicate, wrongSourcePort
    }

    struct Run {
        var outcomes: [DNSQueryOutcome]
        var names: [DNSName]
        var engine: DNSQueryCounters
        var responder: DNSResponderCounters
    }

    /// Asks `count` distinct synthesized names of a responder configured by `faults`, all at once.
    private func run(_ count: Int, faults: DNSFaults, detail: DNSResultDetail = .full,
                     nameOf: (Int) -> String = { "q\($0).load.evq.test." },
                     configure: (inout DNSQueryEngine.Configuration) -> Void = { _ in }) throws -> Run {
        var serverConfiguration = DNSResponder.Configuration()
        serverConfiguration.faults = faults
        serverConfiguration.seed = 7
        let responder = try DNSResponder(serverConfiguration)
        try responder.start()
        defer { responder.stop() }
        var configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: responder.port),
                                              timeout: .milliseconds(1500))
        configuration.retransmitInterval = .milliseconds(150)
        configuration.maxRetransmitInterval = .milliseconds(300)
        configuration.attempts = 4
        configure(&configuration)
        let outcomes = Outcomes()
        var names: [DNSName] = []
        var engineCounters = DNSQueryCounters()
        try withEngine(configuration, operations: count) { reactor, engine, ledger in
            var options = DNSQueryOptions()
            options.resultDetail = detail
            for index in 0..<count {
                let request = try DNSQueryRequest(nameOf(index), type: .a, options: options)
                names.append(request.name)
                engine.start(request, completion: recording(index, ledger, outcomes))
            }
            #expect(reactor.waitForDrain(timeoutNanos: 30_000_000_000))
            engineCounters = engine.counters()
            return count
        }
        return Run(outcomes: (0..<count).compactMap { outcomes[$0] }, names: names, engine: engineCounters,
                   responder: responder.counters())
    }

    /// No answer for another question is ever delivered: the result's name, question and owners are
    /// the asked name's.
    private func expectNoSpoofedAnswer(_ run: Run, sourceLocation: SourceLocation = #_sourceLocation) {
        for (index, outcome) in run.outcomes.enumerated() {
            guard let result = outcome.result else { continue }
            #expect(result.name.isIdentical(to: run.names[index]), sourceLocation: sourceLocation)
            #expect(result.message?.questions.first?.name.isIdentical(to: run.names[index]) == true,
                    sourceLocation: sourceLocation)
            #expect(result.answers.allSatisfy { $0.name.isIdentical(to: run.names[index]) },
                    sourceLocation: sourceLocation)
            #expect(result.answers.count == 1 && result.rcode == .noError, sourceLocation: sourceLocation)
        }
    }

    @Test func summaryResultCarriesRcodeAndCountsButNoRecords() throws {
        let summary = try run(20, faults: DNSFaults(), detail: .summary, configure: firstAttemptWaitsLong)
        let full = try run(20, faults: DNSFaults(), detail: .full, configure: firstAttemptWaitsLong)
        #expect(summary.outcomes.count == 20 && full.outcomes.count == 20)
        for (lean, parsed) in zip(summary.outcomes, full.outcomes) {
            let lean = try #require(lean.result)
            let parsed = try #require(parsed.result)
            #expect(lean.message == nil && lean.answers.isEmpty)
            #expect(parsed.message != nil && parsed.answers.count == 1)
            #expect(lean.rcode == .noError && lean.summary.answerCount == 1)
            #expect(lean.summary.answerCount == parsed.summary.answerCount)
            #expect(lean.summary.additionalCount == parsed.summary.additionalCount)
            #expect(lean.summary.header.isResponse && !lean.isTruncated)
            // The summary keeps the header as its wire words: decoded, it is the parsed message's.
            #expect(parsed.summary.header == parsed.message?.header)
            #expect(lean.summary.header.flags == parsed.summary.header.flags)
            #expect(lean.transport == .udp && lean.attempts == 1)
        }
    }

    @Test func namesOfManyLengthsInMixedCaseAreAskedAndAnsweredByteForByte() throws {
        // A query is sent from its request's wire form, and its reply's question is compared with the
        // query's own copy of the name, inline up to 32 wire bytes, else the request's: names of
        // 18…77 wire bytes cross that size, with mixed case that must come back as sent.
        let run = try run(60, faults: DNSFaults(), nameOf: { index in
            "Q\(index)" + String(repeating: index % 2 == 0 ? "x" : "Y", count: index) + ".load.evq.test."
        })
        #expect(run.outcomes.count == 60 && run.outcomes.allSatisfy { $0.result != nil })
        #expect(run.names.contains { $0.wire.count <= QueryName.inlineCapacity }
            && run.names.contains { $0.wire.count > QueryName.inlineCapacity })
        expectNoSpoofedAnswer(run)
    }

    /// Records what `start(_:tag:target:)` reports: on the loop, once per tag.
    final class TagTarget: DNSQueryCompletionTarget {
        let reactor: Reactor
        let ledger: CompletionLedger
        let outcomes = Outcomes()

        init(reactor: Reactor, ledger: CompletionLedger) {
            self.reactor = reactor
            self.ledger = ledger
        }

        func queryCompleted(tag: UInt64, _ outcome: DNSQueryOutcome) {
            reactor.preconditionInLoop()
            ledger.record(Int(tag))
            outcomes.set(Int(tag), outcome)
        }
    }

    @Test func queriesStartedWithATagReportEachOutcomeOnceUnderItsTagIncludingCancelledOnes() throws {
        let responder = try DNSResponder(DNSResponder.Configuration())
        try responder.start()
        defer { responder.stop() }
        let count = 200
        var target: TagTarget?
        var cancelled: [Int: CancelResult] = [:]
        try withEngine(testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: responder.port)),
                       operations: count) { reactor, engine, ledger in
            let recorder = TagTarget(reactor: reactor, ledger: ledger)
            target = recorder
            var options = DNSQueryOptions()
            options.resultDetail = .summary
            for index in 0..<count {
                let request = try DNSQueryRequest("t\(index).load.evq.test.", type: .a, options: options)
                let handle = engine.start(request, tag: UInt64(index), target: recorder)
                if index % 4 == 0 { cancelled[index] = handle.cancel() }
            }
            return count
        }
        let outcomes = try #require(target).outcomes.all
        #expect(outcomes.count == count)
        for (index, outcome) in outcomes {
            if cancelled[index] == .cancelled {
                #expect(outcome.isCancelled, "query \(index): \(outcome)")
            } else {
                let result = try #require(outcome.result, "query \(index): \(outcome)")
                #expect(result.rcode == .noError && result.summary.answerCount == 1)
                #expect(result.name.isIdentical(to: try DNSName(parsing: "t\(index).load.evq.test.")))
            }
        }
        #expect(cancelled.values.contains(.cancelled))
    }

    /// The request of each tag of the chain tests: it differs from its neighbours' in name length,
    /// 0x20 and result detail.
    static func chainRequest(_ tag: Int) -> DNSQueryRequest {
        var options = DNSQueryOptions()
        options.resultDetail = tag % 2 == 0 ? .full : .summary
        options.randomizeCase = tag % 3 == 0
        let label = tag % 5 == 0 ? String(repeating: "long", count: 10) : "c"
        return try! DNSQueryRequest("\(label)\(tag).load.evq.test.", type: .a, options: options)
    }

    @Test func queriesStartedFromCompletionsReuseEndedQueriesWithNothingCarriedOver() throws {
        let responder = try DNSResponder(DNSResponder.Configuration())
        try responder.start()
        defer { responder.stop() }
        let count = 600
        var outcomes: [Int: DNSQueryOutcome] = [:]
        var counters = DNSQueryCounters()
        weak var released: ChainTarget?
        var configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: responder.port))
        firstAttemptWaitsLong(&configuration)
        try withEngine(configuration, operations: count) { reactor, engine, ledger in
            var chain: ChainTarget? = ChainTarget(reactor: reactor, ledger: ledger, count: count,
                                                  request: Self.chainRequest)
            chain?.engine = engine
            released = chain
            let starter = chain!
            reactor.execute { for _ in 0..<8 { starter.startNext() } }
            #expect(eventually { starter.outcomes.all.count == count })
            #expect(reactor.waitForDrain(timeoutNanos: 30_000_000_000))
            outcomes = chain!.outcomes.all
            counters = engine.counters()
            chain = nil
            return count
        }
        // The engine holds a target only until its call: none is left once every query ended.
        #expect(released == nil)
        #expect(outcomes.count == count)
        #expect(counters.queriesReused > count / 2, "\(counters)")
        for (tag, outcome) in outcomes {
            let result = try #require(outcome.result, "query \(tag): \(outcome)")
            let asked = Self.chainRequest(tag)
            #expect(result.name.isIdentical(to: asked.name), "query \(tag)")
            #expect((result.message != nil) == (asked.options.resultDetail == .full), "query \(tag)")
            #expect(result.attempts == 1 && result.rcode == .noError, "query \(tag)")
        }
    }

    /// Polls `condition` (each poll runs `step`) until it holds or 30 s have passed; returns it.
    private func eventually(_ condition: () -> Bool, step: () -> Void = { usleep(1000) }) -> Bool {
        let giveUp = MonotonicClock.now() + 30_000_000_000
        while !condition() && MonotonicClock.now() < giveUp { step() }
        return condition()
    }

    /// Runs `body` with an engine on a reactor of its own, asking a fresh responder; `body` drops
    /// the engine without `shutdown()` and returns how many queries it numbered in the ledger. Then
    /// the engine's shard must be freed (the loop lets go of the engine's deinit job, and of the
    /// shard it holds, once that batch of jobs is over), and its sockets' events and timers with it:
    /// the audit.
    private func expectShardFreed(
        operations: Int, afterDropping body: (Reactor, inout DNSQueryEngine?, CompletionLedger) throws -> Int
    ) throws {
        let responder = try DNSResponder(DNSResponder.Configuration())
        try responder.start()
        defer { responder.stop() }
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        try withAudit(reactor, operations: operations) { reactor, ledger in
            var engine: DNSQueryEngine? = DNSQueryEngine(
                reactor: reactor, configuration: testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: responder.port)))
            weak var shard = engine?.shards[0]
            let started = try body(reactor, &engine, ledger)
            #expect(engine == nil)
            #expect(eventually({ shard == nil }, step: { reactor.syncOnLoop {} }))
            return started
        }
    }

    @Test func anEngineDroppedWithoutShutdownAfterItsQueriesFreesItsShardAndTheQueryObjectsItKept() throws {
        try expectShardFreed(operations: 50) { reactor, engine, ledger in
            let chain = ChainTarget(reactor: reactor, ledger: ledger, count: 50, request: Self.chainRequest)
            chain.engine = engine
            reactor.execute { chain.startNext() }
            #expect(eventually { chain.outcomes.all.count == 50 })
            #expect(engine?.counters().queriesReused ?? 0 > 0)
            chain.engine = nil
            engine = nil
            return 50
        }
    }

    @Test func anEngineDroppedWithQueriesInFlightKeepsNoneOfThemAndFreesItsShardWithTheLast() throws {
        try expectShardFreed(operations: 100) { reactor, engine, ledger in
            let target = TagTarget(reactor: reactor, ledger: ledger)
            // Started from this thread and left running: they end on the loop after the engine is gone.
            for index in 0..<100 {
                engine?.start(try DNSQueryRequest("f\(index).load.evq.test.", type: .a), tag: UInt64(index),
                              target: target)
            }
            engine = nil
            #expect(eventually { target.outcomes.all.count == 100 })
            return 100
        }
    }

    @Test(arguments: [DNSResultDetail.summary, .full])
    func aReplyWhoseRecordOverrunsThePacketIsRefusedInEitherDetail(_ detail: DNSResultDetail) throws {
        var request = try DNSQueryRequest("overrun.example.test.", type: .a)
        request.options.resultDetail = detail
        let (outcome, counters) = try scriptedQuery(request, configure: { $0.attempts = 1 }) { server in
            let query = try #require(server.receive())
            // The header and question are right (so it is this query's reply); the A record's
            // RDLENGTH (just before its 4 address bytes) promises 255 bytes that are not there.
            var reply = ScriptedServer.answer(query)
            reply[reply.count - 6] = 0
            reply[reply.count - 5] = 0xFF
            server.send(reply, to: query)
        }
        #expect(outcome?.error == .malformedReply)
        #expect(counters.droppedMalformed == 1 && counters.answered == 0)
    }

    @Test(arguments: Fault.allCases)
    func everyFaultEndsEachQueryOnceAndNoSpoofedAnswerIsAccepted(_ fault: Fault) throws {
        var faults = DNSFaults()
        switch fault {
        case .drop: faults.drop = 0.3
        case .delay:
            faults.delayed = 0.3
            faults.delay = .fixed(50_000_000)
        case .truncate: faults.truncate = 0.3
        case .servfail: faults.servfail = 0.3
        case .malformed: faults.malformed = 0.3
        case .wrongID: faults.wrongID = 0.3
        case .wrongQuestion: faults.wrongQuestion = 0.3
        case .duplicate: faults.duplicate = 0.3
        case .wrongSourcePort: faults.wrongSourcePort = 0.3
        }
        let count = 200
        let run = try run(count, faults: faults)
        #expect(run.outcomes.count == count, "every query completed")
        expectNoSpoofedAnswer(run)
        let answered = run.outcomes.filter { $0.result != nil }.count
        let failures = run.outcomes.compactMap(\.error)
        let e = run.engine
        let r = run.responder
        switch fault {
        case .drop:
            #expect(r.faultDropped > 0 && e.retransmits >= r.faultDropped - failures.count)
            #expect(failures.allSatisfy { $0 == .timeout })
        case .delay:
            #expect(r.faultDelayed > 0 && answered == count)
        case .truncate:
            #expect(r.faultTruncated > 0 && e.tcpFallbacks == r.faultTruncated && e.truncated == r.faultTruncated)
            #expect(answered == count)
            let overTCP = run.outcomes.filter { $0.result?.transport == .tcp }.count
            #expect(overTCP == r.faultTruncated)
        case .servfail:
            // One server: a SERVFAIL is the answer's outcome (no other server to ask).
            #expect(r.faultServfail > 0 && failures.count == r.faultServfail)
            #expect(failures.allSatisfy { $0 == .serverFailure(rcode: .servFail) })
        case .malformed:
            #expect(r.faultMalformed > 0 && e.droppedMalformed == r.faultMalformed)
            #expect(failures.allSatisfy { $0 == .malformedReply || $0 == .timeout })
        case .wrongID:
            // Another id lands on no query, on another query (whose question then differs), or on
            // a quarantined or just-answered id: dropped and counted either way; the query is asked again.
            #expect(r.faultWrongID > 0)
            #expect(e.dropped == r.faultWrongID)
            #expect(failures.allSatisfy { $0 == .timeout })
        case .wrongQuestion:
            #expect(r.faultWrongQuestion > 0 && e.droppedWrongQuestion == r.faultWrongQuestion)
            #expect(failures.allSatisfy { $0 == .timeout })
        case .duplicate:
            #expect(r.faultDuplicated > 0 && answered == count)
            #expect(e.droppedDuplicate + e.droppedLate == r.faultDuplicated)
        case .wrongSourcePort:
            // A connected socket never sees an answer from another port: the query is asked again.
            #expect(r.faultWrongSourcePort > 0 && e.replies == r.received - r.faultWrongSourcePort)
            #expect(failures.allSatisfy { $0 == .timeout })
        }
    }
}
