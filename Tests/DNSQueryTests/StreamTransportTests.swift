import DNSMessage
import DNSQuery
import DNSResponder
import EventReactor
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// DNS over TCP as a transport of its own (RFC 7766): pooled persistent connections, pipelining,
/// replies in any order, the quarantine of a cancelled query's id on its connection, reconnects, and
/// the bad input a stream can bring. Against the in-process responder's TCP listener and against a
/// TCP socket the test plays.
@Suite struct StreamTransportTests {
    @Test func tcpTransportPipelinesQueriesOverThePoolAndAnswersEachOnce() throws {
        let responder = try DNSResponder(DNSResponder.Configuration())
        try responder.start()
        defer { responder.stop() }
        let count = 2_000
        let outcomes = Outcomes()
        var configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: responder.port))
        configuration.transport = .tcp
        configuration.connectionsPerServer = 4
        firstAttemptWaitsLong(&configuration)
        try withEngine(configuration, operations: count) { _, engine, ledger in
            for index in 0..<count {
                let request = try DNSQueryRequest("q\(index).load.evq.test.", type: .a)
                engine.start(request, completion: recording(index, ledger, outcomes))
            }
            return count
        }
        let results = (0..<count).compactMap { outcomes[$0]?.result }
        #expect(results.count == count)
        #expect(results.allSatisfy { $0.transport == .tcp && $0.rcode == .noError && $0.answers.count == 1 })
    }

    @Test func tcpConnectionsAreCountedAndReopenedAfterTheIdleTimeout() throws {
        let responder = try DNSResponder(DNSResponder.Configuration())
        try responder.start()
        defer { responder.stop() }
        var configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: responder.port))
        configuration.transport = .tcp
        configuration.connectionsPerServer = 2
        configuration.tcpIdle = .milliseconds(20)
        firstAttemptWaitsLong(&configuration)
        let outcomes = Outcomes()
        var counters = DNSQueryCounters()
        try withEngine(configuration, operations: 6) { reactor, engine, ledger in
            for round in 0..<3 {
                for slot in 0..<2 {
                    let index = round * 2 + slot
                    engine.start(try DNSQueryRequest("idle\(index).load.evq.test.", type: .a),
                                 completion: recording(index, ledger, outcomes))
                }
                #expect(reactor.waitForDrain(timeoutNanos: 10_000_000_000))
                // Both connections close after 20 ms with nothing outstanding.
                var waited = 0
                while engine.counters().connectionsClosed < (round + 1) * 2, waited < 500 {
                    usleep(10_000)
                    waited += 1
                }
            }
            counters = engine.counters()
            return 6
        }
        #expect((0..<6).allSatisfy { outcomes[$0]?.result?.transport == .tcp })
        #expect(counters.connectionsOpened == 6)
        #expect(counters.reconnects == 4)
        #expect(counters.connectionsFailed == 0)
    }

    @Test func repliesInReverseOrderOnOneConnectionAreMatchedByID() throws {
        let server = ScriptedStreamServer()
        var configuration = testConfiguration(server.address)
        configuration.transport = .tcp
        firstAttemptWaitsLong(&configuration)
        let outcomes = Outcomes()
        try withEngine(configuration, operations: 3) { reactor, engine, ledger in
            for index in 0..<3 {
                engine.start(try DNSQueryRequest("r\(index).example.test.", type: .a),
                             completion: recording(index, ledger, outcomes))
            }
            let fd = try #require(server.accept())
            defer { close(fd) }
            var queries: [ScriptedServer.Query] = []
            for _ in 0..<3 { queries.append(try #require(server.receive(on: fd))) }
            // Answered last to first, the three replies in one write.
            var bytes: [UInt8] = []
            for (offset, query) in queries.reversed().enumerated() {
                bytes += ScriptedStreamServer.framed(ScriptedServer.answer(
                    query, address: DNSIPv4Address(192, 0, 2, UInt8(10 + offset))))
            }
            server.write(bytes, on: fd)
            #expect(reactor.waitForDrain(timeoutNanos: 10_000_000_000))
            return 3
        }
        for index in 0..<3 {
            let result = try #require(outcomes[index]?.result)
            #expect(result.name == (try DNSName(parsing: "r\(index).example.test.")))
            #expect(result.answers.first?.name == result.name)
            #expect(result.transport == .tcp)
        }
    }

    @Test func cancelledPipelinedQueryKeepsItsIDInQuarantineAndItsLateReplyIsDropped() throws {
        let server = ScriptedStreamServer()
        var configuration = testConfiguration(server.address)
        configuration.transport = .tcp
        firstAttemptWaitsLong(&configuration)
        let outcomes = Outcomes()
        var counters = DNSQueryCounters()
        try withEngine(configuration, operations: 2) { reactor, engine, ledger in
            let cancelled = engine.start(try DNSQueryRequest("gone.example.test.", type: .a),
                                         completion: recording(0, ledger, outcomes))
            engine.start(try DNSQueryRequest("kept.example.test.", type: .a), completion: recording(1, ledger, outcomes))
            let fd = try #require(server.accept())
            defer { close(fd) }
            let first = try #require(server.receive(on: fd))
            let second = try #require(server.receive(on: fd))
            #expect(cancelled.cancel() == .cancelled)
            // The cancelled query's reply, then the other's, on the same connection.
            server.write(ScriptedStreamServer.framed(ScriptedServer.answer(first)), on: fd)
            server.write(ScriptedStreamServer.framed(ScriptedServer.answer(second)), on: fd)
            #expect(reactor.waitForDrain(timeoutNanos: 10_000_000_000))
            var waited = 0
            while engine.counters().replies < 2, waited < 500 {
                usleep(10_000)
                waited += 1
            }
            counters = engine.counters()
            return 2
        }
        #expect(outcomes[0]?.isCancelled == true)
        #expect(outcomes[1]?.result?.rcode == .noError)
        #expect(counters.droppedLate == 1 && counters.answered == 1)
    }

    @Test func lengthPrefixLongerThanItsDataThenCloseFailsTheQueryInWords() throws {
        let server = ScriptedStreamServer()
        var configuration = testConfiguration(server.address)
        configuration.transport = .tcp
        configuration.attempts = 1
        firstAttemptWaitsLong(&configuration)
        let outcomes = Outcomes()
        var counters = DNSQueryCounters()
        try withEngine(configuration, operations: 1) { reactor, engine, ledger in
            engine.start(try DNSQueryRequest("cut.example.test.", type: .a), completion: recording(0, ledger, outcomes))
            let fd = try #require(server.accept())
            let query = try #require(server.receive(on: fd))
            let reply = ScriptedServer.answer(query)
            // The prefix promises 100 bytes more than follow, then the server closes.
            server.write([UInt8((reply.count + 100) >> 8), UInt8((reply.count + 100) & 0xff)] + reply, on: fd)
            close(fd)
            #expect(reactor.waitForDrain(timeoutNanos: 10_000_000_000))
            counters = engine.counters()
            return 1
        }
        #expect(outcomes[0]?.error == .connectionFailed("the server closed the connection inside a reply"))
        #expect(counters.connectionsFailed == 1 && counters.droppedMalformed == 1)
    }

    @Test func serverClosingWithQueriesOutstandingMovesThemToANewConnection() throws {
        let server = ScriptedStreamServer()
        var configuration = testConfiguration(server.address)
        configuration.transport = .tcp
        firstAttemptWaitsLong(&configuration)
        configuration.attempts = 2
        let outcomes = Outcomes()
        var counters = DNSQueryCounters()
        try withEngine(configuration, operations: 2) { reactor, engine, ledger in
            for index in 0..<2 {
                engine.start(try DNSQueryRequest("c\(index).example.test.", type: .a),
                             completion: recording(index, ledger, outcomes))
            }
            let first = try #require(server.accept())
            _ = try #require(server.receive(on: first))
            _ = try #require(server.receive(on: first))
            close(first)  // mid-stream, both queries waiting
            let second = try #require(server.accept())
            defer { close(second) }
            for _ in 0..<2 {
                let query = try #require(server.receive(on: second))
                server.write(ScriptedStreamServer.framed(ScriptedServer.answer(query)), on: second)
            }
            #expect(reactor.waitForDrain(timeoutNanos: 10_000_000_000))
            counters = engine.counters()
            return 2
        }
        #expect((0..<2).allSatisfy { outcomes[$0]?.result?.attempts == 2 })
        #expect(counters.connectionsOpened == 2 && counters.reconnects == 1 && counters.connectionsFailed == 1)
    }

    @Test func refusedConnectionEndsTheQueryWithTheErrnoInWords() throws {
        let port = ScriptedStreamServer().port  // closed again: nothing listens there
        var configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: port))
        configuration.transport = .tcp
        configuration.attempts = 1
        firstAttemptWaitsLong(&configuration)
        let outcomes = Outcomes()
        try withEngine(configuration, operations: 1) { reactor, engine, ledger in
            engine.start(try DNSQueryRequest("refused.example.test.", type: .a), completion: recording(0, ledger, outcomes))
            #expect(reactor.waitForDrain(timeoutNanos: 10_000_000_000))
            return 1
        }
        let error = try #require(outcomes[0]?.error)
        #expect("\(error)".contains("Connection refused"), "\(error)")
    }

    @Test(arguments: [DNSTransport.tcp])
    func cancelStormFromFourThreadsOverAStreamTransportEndsEachQueryOnce(transport: DNSTransport) throws {
        let responder = try DNSResponder(DNSResponder.Configuration())
        try responder.start()
        defer { responder.stop() }
        var configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: responder.port))
        configuration.transport = transport
        configuration.connectionsPerServer = 3
        try cancelStorm(configuration, count: 5_000)
    }
}
