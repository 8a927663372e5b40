import DNSMessage
import DNSQuery
import EventReactor
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Queries of equal length that one loop callback sends to one socket leave as one UDP GSO message
/// (`segmentOffload`): the server must still see one well-formed datagram per query.
@Suite struct SegmentOffloadTests {
    /// 25 queries started in one callback on one socket: ten names of one length, ten of another,
    /// five of a third (one group's own, under its own id each). Every datagram the server reads
    /// parses as a query the engine asked, each is answered, and each answer reaches its query.
    private func sendTwentyFiveInOneCallback(segmentOffload: Bool) throws -> DNSQueryCounters {
        let server = ScriptedServer()
        var configuration = testConfiguration(server.address, timeoutMillis: 60_000)
        firstAttemptWaitsLong(&configuration)
        configuration.socketsPerServer = 1
        configuration.segmentOffload = segmentOffload
        let names = (0..<10).map { "a\($0).example.test" } + (0..<10).map { "bb\($0).example.test" }
            + (0..<5).map { "cccc\($0).example.test" }
        let requests = try names.map { try DNSQueryRequest($0, type: .a) }
        let outcomes = Outcomes()
        var counters = DNSQueryCounters()
        try withEngine(configuration, operations: names.count) { reactor, engine, ledger in
            reactor.execute {
                for (index, request) in requests.enumerated() {
                    engine.start(request, completion: recording(index, ledger, outcomes))
                }
            }
            var asked: [String] = []
            for _ in names {
                let query = try #require(server.receive(), "\(asked.count) of \(names.count) queries arrived")
                asked.append(query.message.questions[0].name.description.lowercased())
                server.send(ScriptedServer.answer(query), to: query)
            }
            #expect(server.receive(millis: 100) == nil, "more datagrams than queries")
            #expect(Set(asked) == Set(names.map { $0 + "." }), "\(asked)")
            #expect(reactor.waitForDrain(timeoutNanos: 20_000_000_000))
            counters = engine.counters()
            return names.count
        }
        for index in names.indices {
            #expect(outcomes[index]?.result?.attempts == 1, "\(names[index]): \(String(describing: outcomes[index]))")
        }
        #expect(counters.sentUDP == names.count)
        return counters
    }

    @Test func equalLengthQueriesInOneBatchLeaveAsSegmentsAndEachArrivesAsItsOwnDatagram() throws {
        let counters = try sendTwentyFiveInOneCallback(segmentOffload: true)
        #expect(counters.sentSegmented == 25, "\(counters)")
        #expect(counters.segmentOffloadRefused == 0)
    }

    @Test func withoutSegmentOffloadEachQueryIsItsOwnMessage() throws {
        let counters = try sendTwentyFiveInOneCallback(segmentOffload: false)
        #expect(counters.sentSegmented == 0, "\(counters)")
    }

    /// A socket whose kernel refuses segmentation (here: `SO_NO_CHECK`, under which UDP GSO sends
    /// fail with EINVAL, as they fail with EIO on a device without checksum offload): the refused
    /// group goes out again one message per query, and the shard sends that way from then on.
    @Test func aRefusedSegmentedSendGoesOutAgainOneMessagePerQueryAndOffloadStaysOff() throws {
        let server = ScriptedServer()
        var configuration = testConfiguration(server.address, timeoutMillis: 60_000)
        firstAttemptWaitsLong(&configuration)
        configuration.socketsPerServer = 1
        let requests = try (0..<15).map { try DNSQueryRequest("n\($0 % 10).example.test", type: .a) }
        let outcomes = Outcomes()
        var counters = DNSQueryCounters()
        try withEngine(configuration, operations: requests.count) { reactor, engine, ledger in
            // The first query opens the engine's socket; the test then finds it by its peer.
            engine.start(requests[0], completion: recording(0, ledger, outcomes))
            let first = try #require(server.receive())
            server.send(ScriptedServer.answer(first), to: first)
            var on: Int32 = 1
            let socket = try #require(Self.descriptor(connectedTo: server.port))
            #expect(setsockopt(socket, SOL_SOCKET, SO_NO_CHECK, &on, socklen_t(MemoryLayout<Int32>.size)) == 0)
            // Ten, then four, equal-length queries, each group in one callback.
            for range in [1..<11, 11..<15] {
                reactor.execute {
                    for index in range { engine.start(requests[index], completion: recording(index, ledger, outcomes)) }
                }
                for _ in range {
                    let query = try #require(server.receive())
                    server.send(ScriptedServer.answer(query), to: query)
                }
            }
            #expect(reactor.waitForDrain(timeoutNanos: 20_000_000_000))
            counters = engine.counters()
            return requests.count
        }
        for index in requests.indices { #expect(outcomes[index]?.result != nil, "\(String(describing: outcomes[index]))") }
        #expect(counters.segmentOffloadRefused == 1, "\(counters)")
        #expect(counters.sentSegmented == 0 && counters.sentUDP == 15 && counters.sendErrors == 0, "\(counters)")
    }

    /// The UDP socket of this process whose peer is 127.0.0.1:`port`.
    private static func descriptor(connectedTo port: UInt16) -> Int32? {
        for fd in Int32(3)..<Int32(4096) {
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let found = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) == 0 }
            }
            if found, address.sin_family == sa_family_t(AF_INET), UInt16(bigEndian: address.sin_port) == port {
                return fd
            }
        }
        return nil
    }
}
