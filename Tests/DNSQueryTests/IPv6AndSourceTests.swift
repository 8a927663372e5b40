import DNSMessage
import DNSQuery
import DNSResponder
import EventReactor
import Testing

/// The engine over IPv6 loopback and from chosen source addresses, against the project's responder:
/// over UDP and TCP every query ends exactly once with its answer, a source address the host does
/// not have fails the query in words, and a server with no source of its family fails likewise.
@Suite struct IPv6AndSourceTests {
    private func responder(address: String) throws -> DNSResponder {
        var configuration = DNSResponder.Configuration()
        configuration.address = address
        let responder = try DNSResponder(configuration)
        try responder.start()
        return responder
    }

    /// Asks `count` synthesized names (TCP only with `tcp`), all at once; the outcomes by number.
    private func ask(_ count: Int, _ configuration: DNSQueryEngine.Configuration, tcp: Bool = false,
                     counters: ((DNSQueryCounters) -> Void)? = nil) throws -> [DNSQueryOutcome] {
        let outcomes = Outcomes()
        try withEngine(configuration, operations: count) { reactor, engine, ledger in
            var options = DNSQueryOptions()
            options.tcpOnly = tcp
            for index in 0..<count {
                let request = try DNSQueryRequest("q\(index).load.evq.test.", type: .aaaa, options: options)
                engine.start(request, completion: recording(index, ledger, outcomes))
            }
            #expect(reactor.waitForDrain(timeoutNanos: 30_000_000_000))
            counters?(engine.counters())
            return count
        }
        return (0..<count).compactMap { outcomes[$0] }
    }

    @Test(arguments: [false, true])
    func aResponderOnIPv6LoopbackAnswersEveryQueryOnce(tcp: Bool) throws {
        let responder = try responder(address: "::1")
        defer { responder.stop() }
        let server = try DNSServer(parsing: "[::1]:\(responder.port)")
        let outcomes = try ask(200, testConfiguration(server), tcp: tcp)
        #expect(outcomes.count == 200)
        for outcome in outcomes {
            let result = try #require(outcome.result, "\(outcome)")
            #expect(result.rcode == .noError && result.summary.answerCount == 1)
            #expect(result.server == server && result.transport == (tcp ? .tcp : .udp))
        }
    }

    @Test func theSocketsSpreadOverTheSourceAddressesOfTheServersFamily() throws {
        let responder = try responder(address: "127.0.0.1")
        defer { responder.stop() }
        var configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: responder.port))
        configuration.localAddresses = try ["127.0.0.2", "::1", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.6"]
            .map { try DNSServer(parsingSource: $0) }
        var opened = 0
        let outcomes = try ask(400, configuration) { opened = $0.socketsOpened }
        #expect(outcomes.count == 400 && outcomes.allSatisfy { $0.result?.rcode == .noError })
        // Five IPv4 sources: the pool grows past its 4 sockets, to a socket per source at least.
        #expect(opened >= 5, "sockets opened: \(opened)")
    }

    @Test func aSourceTheHostLacksOrOfTheOtherFamilyFailsTheQueryInWords() throws {
        let responder = try responder(address: "127.0.0.1")
        defer { responder.stop() }
        var configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: responder.port))
        configuration.attempts = 1
        // 198.18.0.0/15, the benchmarking range: no interface here has it.
        configuration.localAddresses = [try DNSServer(parsingSource: "198.18.0.1")]
        let missing = try ask(1, configuration)
        #expect(missing.first?.error.map { "\($0)" }?.contains("Cannot assign requested address") == true,
                "\(missing)")
        configuration.localAddresses = [try DNSServer(parsingSource: "::1")]
        let otherFamily = try ask(1, configuration)
        #expect(otherFamily.first?.error.map { "\($0)" }?.contains("Address family not supported") == true,
                "\(otherFamily)")
    }
}
