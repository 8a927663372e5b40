import DNSMessage
import DNSQuery
import EventReactor
import Foundation
import Testing

/// What goes on the wire for a request: every option reaches the query the server receives, a
/// request's copies keep their own fields, and the EDNS fallback asks again without the OPT record.
@Suite struct QueryWireTests {
    /// The query `DNSQueryBuilder` writes for `request` under `id` (the reference the engine's sends
    /// are held to).
    private func expectedQuery(_ request: DNSQueryRequest, id: UInt16, edns: Bool = true) -> [UInt8] {
        let options = request.options
        let option = edns ? options.ednsPayloadSize.map {
            DNSQueryBuilder.EDNS(udpPayloadSize: max($0, 512), dnssecOK: options.dnssecOK)
        } : nil
        var buffer = [UInt8](repeating: 0, count: 512)
        let length = buffer.withUnsafeMutableBytes {
            DNSQueryBuilder.write(into: $0, id: id, name: request.name, type: request.type,
                                  class: request.recordClass, flags: options.recursionDesired ? 0x0100 : 0,
                                  edns: option)
        }
        return Array(buffer.prefix(length ?? 0))
    }

    /// The defaults; no recursion; no EDNS; DO with a 4096 payload; a payload below 512 (sent as 512).
    static let optionSets: [DNSQueryOptions] = {
        var sets = Array(repeating: DNSQueryOptions(), count: 5)
        sets[1].recursionDesired = false
        sets[2].ednsPayloadSize = nil
        sets[3].dnssecOK = true
        sets[3].ednsPayloadSize = 4096
        sets[4].ednsPayloadSize = 100
        return sets
    }()

    /// Names whose wire form is 1, 19 and 32 bytes (kept inline in the query) and 56 bytes (kept as a
    /// `DNSName`).
    static let names = [".", "Wire.Example.test.", String(repeating: "w", count: 30) + ".",
                        String(repeating: "x", count: 40) + ".example.test."]

    @Test(arguments: optionSets, names)
    func theQuerySentIsByteForByteTheOneItsOptionsDescribe(_ options: DNSQueryOptions, name: String) throws {
        let request = try DNSQueryRequest(name, type: .aaaa, recordClass: .ch, options: options)
        _ = try scriptedQuery(request, configure: { $0.attempts = 1 }) { server in
            let query = try #require(server.receive())
            #expect(query.bytes == expectedQuery(request, id: query.id))
            server.send(ScriptedServer.answer(query), to: query)
        }
    }

    @Test func aCopyOfARequestKeepsItsFieldsWhenTheOriginalChanges() throws {
        var original = try DNSQueryRequest("first.example.test.", type: .a, timeout: .seconds(3))
        let copy = original
        original.name = try DNSName(parsing: "second.example.test.")
        original.type = .aaaa
        original.options.recursionDesired = false
        original.timeout = .milliseconds(5)
        original.attempts = 9
        #expect(copy.name.isIdentical(to: try DNSName(parsing: "first.example.test.")))
        #expect(copy.type == .a && copy.options.recursionDesired && copy.timeout == .seconds(3) && copy.attempts == nil)
        #expect(original.name.isIdentical(to: try DNSName(parsing: "second.example.test.")))
        #expect(original.type == .aaaa && !original.options.recursionDesired && original.timeout == .milliseconds(5)
            && original.attempts == 9)
        // Each is asked as it now reads.
        for request in [copy, original] {
            _ = try scriptedQuery(request, configure: { $0.attempts = 1 }) { server in
                let query = try #require(server.receive())
                #expect(query.bytes == expectedQuery(request, id: query.id))
                server.send(ScriptedServer.answer(query), to: query)
            }
        }
    }

    @Test func aRequestsOwnTimeoutAndAttemptsStandOverTheEngines() throws {
        // The engine's would send three times, 100 ms apart, and wait 600 s; the request's send once
        // and end after 300 ms.
        let request = try DNSQueryRequest("own.example.test.", type: .a, timeout: .milliseconds(300), attempts: 1)
        let (outcome, counters) = try scriptedQuery(request, configure: {
            $0.timeout = .seconds(600)
            $0.attempts = 3
            $0.retransmitInterval = .milliseconds(100)
        }) { server in
            _ = try #require(server.receive())
            #expect(server.receive(millis: 1_000) == nil, "a second attempt")
        }
        #expect(outcome?.error == .timeout)
        #expect(counters.retransmits == 0 && counters.timeouts == 1)
    }

    @Test func aRequestsOwnServersStandOverTheEngines() throws {
        let own = ScriptedServer()
        let request = try DNSQueryRequest("own.example.test.", type: .a, servers: [own.address])
        let (outcome, _) = try scriptedQuery(request) { enginesServer in
            let query = try #require(own.receive())
            own.send(ScriptedServer.answer(query), to: query)
            #expect(enginesServer.receive(millis: 200) == nil, "asked the engine's server")
        }
        #expect(outcome?.result?.server == own.address)
    }

    @Test func aServerThatAnswersFormErrToTheOPTRecordIsAskedAgainWithoutIt() throws {
        let request = try DNSQueryRequest("old.example.test.", type: .a)
        let (outcome, counters) = try scriptedQuery(request, configure: { $0.attempts = 1 }) { server in
            let first = try #require(server.receive())
            #expect(first.bytes == expectedQuery(request, id: first.id))
            server.send(ScriptedServer.answer(first, rcode: .formErr), to: first)
            let second = try #require(server.receive())
            #expect(second.bytes == expectedQuery(request, id: second.id, edns: false))
            server.send(ScriptedServer.answer(second), to: second)
        }
        let result = try #require(outcome?.result)
        #expect(result.rcode == .noError && result.answers.count == 1)
        #expect(counters.ednsFallbacks == 1 && counters.answered == 1)
    }

    @Test(arguments: [false, true])
    func aRelativeNameIsAskedUnderEachSearchDomainUntilOneAnswers(randomizeCase: Bool) throws {
        // One file per case: the cases run in parallel.
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("evq-search-\(getpid())-\(randomizeCase).conf").path
        try "search one.test two.test\noptions ndots:1\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        var request = try DNSQueryRequest("Host", type: .a)
        request.options.useSearchList = true
        request.options.randomizeCase = randomizeCase
        let asked = try ["Host.one.test.", "Host.two.test."].map { try DNSName(parsing: $0) }
        let (outcome, counters) = try scriptedQuery(request, configure: {
            $0.attempts = 1
            $0.resolvConfPath = path
        }) { server in
            for (index, name) in asked.enumerated() {
                let query = try #require(server.receive())
                var expected = request
                expected.name = name
                // With 0x20 the name's letters' case is the engine's to choose: compared without it.
                let nameBytes = 12..<(12 + name.wire.count)
                let caseless = { (bytes: [UInt8]) in
                    bytes.enumerated().map { nameBytes.contains($0.offset) ? $0.element | 0x20 : $0.element }
                }
                #expect(caseless(query.bytes) == caseless(expectedQuery(expected, id: query.id)))
                #expect(randomizeCase || query.bytes == expectedQuery(expected, id: query.id))
                server.send(ScriptedServer.answer(query, rcode: index == 0 ? .nxDomain : .noError), to: query)
            }
        }
        let result = try #require(outcome?.result)
        #expect(result.name.isIdentical(to: asked[1]) && result.answers.count == 1)
        #expect(counters.answered == 1)
    }

    @Test func taggedQueriesThatReuseEndedOnesSendWhatTheirOwnOptionsDescribe() throws {
        // From the third query on, each runs in an object an earlier query ended in: its name, type,
        // class, flags and EDNS size must all be the new request's.
        let names = ["a.example.test.", "Longer-Name.For.Reuse.example.test.", "b.test.",
                     "a-much-longer-name-than-thirty-two-bytes.example.test."]
        let types: [DNSType] = [.a, .aaaa, .txt, .mx]
        let requests = try (0..<12).map { index in
            try DNSQueryRequest(names[index % names.count], type: types[index % types.count],
                                recordClass: index % 5 == 0 ? .ch : .in,
                                options: Self.optionSets[index % Self.optionSets.count])
        }
        let server = ScriptedServer()
        var configuration = testConfiguration(server.address)
        configuration.attempts = 1
        var reused = 0
        try withEngine(configuration, operations: requests.count) { reactor, engine, ledger in
            let target = ChainTarget(reactor: reactor, ledger: ledger, count: requests.count) { requests[$0] }
            target.engine = engine
            reactor.execute { target.startNext() }
            for (index, request) in requests.enumerated() {
                let query = try #require(server.receive())
                #expect(query.bytes == expectedQuery(request, id: query.id), "query \(index)")
                server.send(ScriptedServer.answer(query), to: query)
            }
            #expect(reactor.waitForDrain(timeoutNanos: 10_000_000_000))
            #expect(target.outcomes.all.count == requests.count
                && target.outcomes.all.values.allSatisfy { $0.result != nil })
            reused = engine.counters().queriesReused
            return requests.count
        }
        #expect(reused >= requests.count - 2)
    }

    @Test func aQueryStartedByAReplysCompletionGoesOutOnTheSocketThatReplyCameIn() throws {
        let server = ScriptedServer()
        let configuration = testConfiguration(server.address)
        let first = try DNSQueryRequest("first.example.test.", type: .a)
        let next = try DNSQueryRequest("next.example.test.", type: .a)
        let outcomes = Outcomes()
        try withEngine(configuration, operations: 16) { _, engine, ledger in
            // Each of 8 queries, answered, starts one more from its completion (on the loop, while the
            // engine reads the socket the answer came in on).
            for index in 0..<8 {
                let record = recording(index, ledger, outcomes)
                engine.start(first) { outcome in
                    record(outcome)
                    engine.start(next, completion: recording(8 + index, ledger, outcomes))
                }
            }
            let asked = (0..<8).compactMap { _ in server.receive() }
            try #require(asked.count == 8)
            #expect(Set(asked.map(\.from.sin_port)).count == configuration.socketsPerServer)
            for query in asked {
                server.send(ScriptedServer.answer(query), to: query)
                let followUp = try #require(server.receive())
                #expect(followUp.from.sin_port == query.from.sin_port)
                server.send(ScriptedServer.answer(followUp), to: followUp)
            }
            return 16
        }
        #expect(outcomes.all.count == 16 && outcomes.all.values.allSatisfy { $0.result != nil })
    }
}
