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
    /// Asks `names` on one socket of a scripted server: each range of `groups` is started in one loop
    /// callback and every query of it answered, then `afterGroup` runs with the group's number.
    /// Checks that the server read one well-formed query per name, and each answer reached its query
    /// on the first attempt; returns the engine's counters.
    private func ask(
        _ names: [String], inGroups groups: [Range<Int>],
        configure: (inout DNSQueryEngine.Configuration) -> Void = { _ in },
        afterGroup: (Int, ScriptedServer) throws -> Void = { _, _ in }
    ) throws -> DNSQueryCounters {
        let server = ScriptedServer()
        var configuration = testConfiguration(server.address, timeout: .seconds(60))
        firstAttemptWaitsLong(&configuration)
        configuration.socketsPerServer = 1
        configure(&configuration)
        let requests = try names.map { try DNSQueryRequest($0, type: .a) }
        let outcomes = Outcomes()
        var asked: [String] = []
        var counters = DNSQueryCounters()
        try withEngine(configuration, operations: names.count) { reactor, engine, ledger in
            for (number, group) in groups.enumerated() {
                reactor.execute {
                    for index in group { engine.start(requests[index], completion: recording(index, ledger, outcomes)) }
                }
                for _ in group {
                    let query = try #require(server.receive(), "\(asked.count) of \(names.count) queries arrived")
                    asked.append(query.message.questions[0].name.description.lowercased())
                    server.send(ScriptedServer.answer(query), to: query)
                }
                try afterGroup(number, server)
            }
            #expect(server.receive(millis: 100) == nil, "more datagrams than queries")
            #expect(reactor.waitForDrain(timeoutNanos: 20_000_000_000))
            counters = engine.counters()
            return names.count
        }
        #expect(asked.sorted() == names.map { $0 + "." }.sorted(), "\(asked)")
        for index in names.indices {
            #expect(outcomes[index]?.result?.attempts == 1, "\(names[index]): \(String(describing: outcomes[index]))")
        }
        #expect(counters.sentUDP == names.count, "\(counters)")
        return counters
    }

    /// 25 queries in one callback: ten names of one length, ten of another, five of a third.
    private let threeLengths = (0..<10).map { "a\($0).example.test" } + (0..<10).map { "bb\($0).example.test" }
        + (0..<5).map { "cccc\($0).example.test" }

    @Test func equalLengthQueriesInOneBatchLeaveAsSegmentsAndEachArrivesAsItsOwnDatagram() throws {
        let counters = try ask(threeLengths, inGroups: [0..<25])
        #expect(counters.sentSegmented == 25, "\(counters)")
        #expect(counters.segmentOffloadRefused == 0)
    }

    @Test func withoutSegmentOffloadEachQueryIsItsOwnMessage() throws {
        let counters = try ask(threeLengths, inGroups: [0..<25]) { $0.segmentOffload = false }
        #expect(counters.sentSegmented == 0, "\(counters)")
    }

    /// More equal-length queries than one segmented message may carry leave as several (150: more
    /// than the 128 segments of recent kernels, which would refuse them in one).
    @Test func aRunLongerThanOneMessageMayCarryIsSplit() throws {
        let counters = try ask((100..<250).map { "n\($0).example.test" }, inGroups: [0..<150]) { $0.sendBatch = 150 }
        #expect(counters.sentSegmented == 150, "\(counters)")
    }

    /// A socket whose kernel refuses segmentation (here: `SO_NO_CHECK`, under which UDP GSO sends
    /// fail with EINVAL, as they fail with EIO on a device without checksum offload): the refused
    /// group goes out again one message per query, and the shard sends that way from then on.
    @Test func aRefusedSegmentedSendGoesOutAgainOneMessagePerQueryAndOffloadStaysOff() throws {
        // One query opens the socket (the test then finds it by its peer); in the next group the
        // shorter name is sent alone, first (a batch is sorted by length), so the refused message is
        // not the batch's first; a last group finds offload off.
        let names = (0..<11).map { "n\($0 % 10).example.test" } + ["m.example.test"] + (1..<5).map { "n\($0).example.test" }
        let counters = try ask(names, inGroups: [0..<1, 1..<12, 12..<16], afterGroup: { number, server in
            guard number == 0 else { return }
            var on: Int32 = 1
            let socket = try #require(Self.descriptor(connectedTo: server.port))
            #expect(setsockopt(socket, SOL_SOCKET, SO_NO_CHECK, &on, socklen_t(MemoryLayout<Int32>.size)) == 0)
        })
        #expect(counters.segmentOffloadRefused == 1, "\(counters)")
        #expect(counters.sentSegmented == 0 && counters.sendErrors == 0, "\(counters)")
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
