import DNSMessage
import DNSQuery
import EventReactor
import EvqueryTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A server whose port is closed answers with an ICMP port-unreachable, which the kernel reports on
/// the connected UDP socket as `ECONNREFUSED`: the query must say so, not wait for its timeout.
@Suite struct UnreachableServerTests {
    @Test func closedPortEndsTheQueryWithConnectionRefusedNotATimeout() throws {
        let closed = DNSServer(ipv4: 127, 0, 0, 1, port: Loopback.freeUDPPort())
        // A deadline far beyond the test's wait: only the ICMP error can end the query in time.
        var configuration = testConfiguration(closed, timeout: .seconds(60))
        configuration.attempts = 3
        let outcomes = Outcomes()
        var counters = DNSQueryCounters()
        try withEngine(configuration, operations: 4) { reactor, engine, ledger in
            for index in 0..<4 {
                engine.start(try DNSQueryRequest("refused\(index).example.test", type: .a),
                             completion: recording(index, ledger, outcomes))
            }
            #expect(reactor.waitForDrain(timeoutNanos: 20_000_000_000))
            counters = engine.counters()
            return 4
        }
        for index in 0..<4 {
            #expect(outcomes[index]?.error == .network(errno: ECONNREFUSED), "\(String(describing: outcomes[index]))")
        }
        #expect(counters.unreachable >= 1)
        #expect(counters.timeouts == 0)
    }

    @Test func refusedServerIsSkippedForTheNextOneInTheList() throws {
        let closed = DNSServer(ipv4: 127, 0, 0, 1, port: Loopback.freeUDPPort())
        let live = ScriptedServer()
        var configuration = testConfiguration(closed, timeout: .seconds(60))
        configuration.servers = [closed, live.address]
        configuration.attempts = 2
        let outcomes = Outcomes()
        try withEngine(configuration, operations: 1) { _, engine, ledger in
            engine.start(try DNSQueryRequest("www.example.test", type: .a), completion: recording(0, ledger, outcomes))
            let query = try #require(live.receive())
            live.send(ScriptedServer.answer(query), to: query)
            return 1
        }
        let result = try #require(outcomes[0]?.result)
        #expect(result.server == live.address)
        #expect(result.attempts == 2)
    }
}
