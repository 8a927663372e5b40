import DNSMessage
import DNSQuery
import DNSResponder
import EventReactor
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// UDP GRO on both sides: the engine's segmented queries reach the responder as one message, its
/// equal-length answers leave as one segmented message and reach the engine as one message. Each
/// side reads every datagram of such a message as if it came alone, so the answers are the same
/// with the offloads on or off, on either side.
@Suite struct ReceiveCoalescingTests {
    struct Run {
        var answers: [String]
        var engine: DNSQueryCounters
        var responder: DNSResponderCounters
    }

    /// Asks 300 synthesized names of equal length (q100…q399), started in one loop callback, of a
    /// responder with or without its offloads, from an engine with or without its own; every query
    /// must be answered on its first attempt. Returns each answer's presentation, in query order.
    private func run(serverOffloads: Bool, clientOffloads: Bool) throws -> Run {
        var serverConfiguration = DNSResponder.Configuration()
        serverConfiguration.receiveCoalescing = serverOffloads
        serverConfiguration.segmentOffload = serverOffloads
        let responder = try DNSResponder(serverConfiguration)
        try responder.start()
        defer { responder.stop() }
        var configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: responder.port))
        firstAttemptWaitsLong(&configuration)
        configuration.receiveCoalescing = clientOffloads
        configuration.segmentOffload = clientOffloads
        configuration.socketsPerServer = 1
        let count = 300
        let requests = try (0..<count).map { try DNSQueryRequest("q\(100 + $0).load.evq.test.", type: .a) }
        let outcomes = Outcomes()
        var engineCounters = DNSQueryCounters()
        try withEngine(configuration, operations: count) { reactor, engine, ledger in
            reactor.execute {
                for index in 0..<count { engine.start(requests[index], completion: recording(index, ledger, outcomes)) }
            }
            // The queries reach the loop through its inbox: wait for their completions, not just a drain.
            for _ in 0..<30_000 where outcomes.all.count < count { usleep(1000) }
            #expect(reactor.waitForDrain(timeoutNanos: 30_000_000_000))
            engineCounters = engine.counters()
            return count
        }
        var answers: [String] = []
        for index in 0..<count {
            let result = try #require(outcomes[index]?.result, "q\(100 + index): \(String(describing: outcomes[index]))")
            #expect(result.attempts == 1 && result.rcode == .noError)
            #expect(result.answers.count == 1 && result.answers[0].name.isIdentical(to: requests[index].name))
            answers.append(result.answers.map { "\($0)" }.joined())
        }
        return Run(answers: answers, engine: engineCounters, responder: responder.counters())
    }

    @Test func answersAreTheSameWithTheOffloadsOnOrOffOnEitherSide() throws {
        let both = try run(serverOffloads: true, clientOffloads: true)
        let neither = try run(serverOffloads: false, clientOffloads: false)
        let serverOnly = try run(serverOffloads: true, clientOffloads: false)
        let clientOnly = try run(serverOffloads: false, clientOffloads: true)
        #expect(both.answers == neither.answers)
        #expect(serverOnly.answers == neither.answers)
        #expect(clientOnly.answers == neither.answers)

        // Both on: segmented queries arrived coalesced, answers left segmented and arrived coalesced.
        #expect(both.responder.receivedCoalesced > 0 && both.responder.sentSegmented > 0, "\(both.responder)")
        #expect(both.engine.repliesCoalesced > 0, "\(both.engine)")
        #expect(both.engine.replies == 300 && both.responder.received == 300)
        // Neither: one datagram per message each way.
        #expect(neither.responder.receivedCoalesced == 0 && neither.responder.sentSegmented == 0)
        #expect(neither.engine.repliesCoalesced == 0 && neither.engine.sentSegmented == 0)
        // A server with offloads and a client without: it sends segmented answers, which the
        // client's kernel cuts up for it; the client's single queries come one per message.
        #expect(serverOnly.responder.sentSegmented > 0 && serverOnly.responder.receivedCoalesced == 0)
        #expect(serverOnly.engine.repliesCoalesced == 0 && serverOnly.engine.replies == 300)
        // A client with offloads and a server without: the server's kernel cuts the segmented
        // queries up for it, and each answer comes alone.
        #expect(clientOnly.engine.sentSegmented > 0 && clientOnly.responder.receivedCoalesced == 0)
        #expect(clientOnly.engine.repliesCoalesced == 0 && clientOnly.responder.received == 300)
    }
}
