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
}
