import DNSQuery
import EventReactor
import Testing

/// `cancelAll` reaches every query of the engine, including one parked between attempts (it holds
/// no transaction id on any socket then).
@Suite struct CancelAllTests {
    @Test func cancelAllCancelsAQueryParkedBetweenAttempts() throws {
        let outcomes = Outcomes()
        let cancelResult = Locked<CancelResult?>(nil)
        try withEngine(testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: 9)), operations: 1) {
            reactor, engine, ledger in
            // An empty server list parks the query's failure (EDESTADDRREQ) for the next loop turn;
            // cancelAll runs in the same turn, before it is delivered.
            let request = try DNSQueryRequest("parked.example.test", type: .a, servers: [])
            reactor.execute {
                let handle = engine.start(request, completion: recording(0, ledger, outcomes))
                engine.cancelAll()
                cancelResult.withLock { $0 = handle.cancel() }
            }
            return 1
        }
        guard case .failure(.cancelled(let info))? = outcomes[0] else {
            Issue.record("expected cancelled(cancelAll), got \(String(describing: outcomes[0]))")
            return
        }
        #expect(info.reason == .cancelAll)
        #expect(cancelResult.withLock { $0 } == .alreadyCompleted)
    }

    @Test func aCompletionThatShutsTheEngineDownEndsTheDrainOfItsSocket() throws {
        let server = ScriptedServer()
        var configuration = testConfiguration(server.address)
        // One socket and one reply per read: after a reply, the drain would read the socket again.
        configuration.receiveBatch = 1
        configuration.socketsPerServer = 1
        let count = 4
        let outcomes = Outcomes()
        var counters = DNSQueryCounters()
        try withEngine(configuration, operations: count) { reactor, engine, ledger in
            for index in 0..<count {
                let request = try DNSQueryRequest("s\(index).example.test.", type: .a)
                engine.start(request) { outcome in
                    ledger.record(index)
                    outcomes.set(index, outcome)
                    engine.shutdown()  // on the loop, inside the drain of the socket this reply came on
                }
            }
            let queries = (0..<count).compactMap { _ in server.receive() }
            #expect(queries.count == count)
            for query in queries { server.send(ScriptedServer.answer(query), to: query) }
            #expect(reactor.waitForDrain(timeoutNanos: 10_000_000_000))
            counters = engine.counters()
            return count
        }
        #expect(counters.receiveErrors == 0, "the drain read its socket after the shutdown closed it")
        let all = outcomes.all
        #expect(all.count == count)
        #expect(all.values.filter { $0.result != nil }.count == 1)
        #expect(all.values.filter(\.isCancelled).count == count - 1)
    }
}
