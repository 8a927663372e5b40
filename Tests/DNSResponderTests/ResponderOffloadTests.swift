import DNSMessage
import DNSResponder
import EvqueryTestSupport
import LinuxSystem
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The responder's UDP offloads against the real kernel: a client's segmented queries arrive
/// coalesced (UDP GRO) and each is answered; equal-length answers to one client leave as one
/// segmented message (UDP GSO) and reach a client without GRO one per datagram; a client that
/// sends singly is answered as before; a socket that refuses segmentation falls back.
@Suite struct ResponderOffloadTests {
    /// 40 queries of equal length (q10…q49, ids 1000…1039).
    private let queries = (0..<40).map { ResponderClient.query("q\(10 + $0).load.evq.test.", .a, id: UInt16(1000 + $0)) }

    /// A UDP socket connected to the responder on 127.0.0.1.
    private func connectedSocket(to port: UInt16) throws -> Int32 {
        try Socket.connected(ipv6: false, stream: false, receiveBuffer: 1 << 20) { connect in
            Loopback.withAddress(port: port) { connect($0, $1) }
        }
    }

    /// Sends `queries` on `fd` as one segmented message (they are of one length).
    private func sendSegmented(_ queries: [[UInt8]], on fd: Int32) throws {
        try #require(DatagramBatch.segmentOffloadSupported(on: fd))
        let batch = DatagramBatch(capacity: queries.count, slotSize: 512, segmentable: true)
        for (index, query) in queries.enumerated() {
            query.withUnsafeBytes { batch.slot(index).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
            batch.setVectorLength(index, query.count)
        }
        batch.setMessage(0, firstVector: 0, vectorCount: queries.count, segmentSize: queries[0].count)
        #expect(batch.send(on: fd, count: 1) == .sent(1))
    }

    /// Reads `count` answers from `fd` (a client without GRO: one datagram each), 2 s at most each.
    private func answers(_ count: Int, on fd: Int32) throws -> [DNSMessage] {
        var messages: [DNSMessage] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while messages.count < count, poll(&poller, 1, 2000) == 1 {
            let length = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard length > 0 else { continue }
            messages.append(try DNSMessage(parsing: Array(buffer[0..<length])))
        }
        return messages
    }

    /// Each of the 40 queries answered once, with its own id and question.
    private func expectEachAnswered(_ messages: [DNSMessage]) {
        #expect(messages.map(\.header.id).sorted() == (0..<40).map { UInt16(1000 + $0) })
        for message in messages {
            let number = Int(message.header.id) - 1000 + 10
            #expect(message.questions.first?.name.description.lowercased() == "q\(number).load.evq.test.")
            #expect(message.rcode == .noError && message.answers.count == 1)
        }
    }

    @Test func segmentedQueriesArriveCoalescedAndTheirAnswersLeaveAsOneSegmentedMessage() throws {
        try withResponder { responder, _ in
            let fd = try connectedSocket(to: responder.port)
            defer { Socket.close(fd) }
            try sendSegmented(queries, on: fd)
            expectEachAnswered(try answers(40, on: fd))
            let counters = responder.counters()
            #expect(counters.received == 40 && counters.receivedCoalesced == 40, "\(counters)")
            #expect(counters.sentSegmented == 40 && counters.sendErrors == 0, "\(counters)")
        }
    }

    @Test func withoutOffloadsTheSameQueriesGetTheSameAnswersOneMessageEach() throws {
        try withResponder({ $0.receiveCoalescing = false; $0.segmentOffload = false }) { responder, _ in
            let fd = try connectedSocket(to: responder.port)
            defer { Socket.close(fd) }
            try sendSegmented(queries, on: fd)
            expectEachAnswered(try answers(40, on: fd))
            let counters = responder.counters()
            #expect(counters.received == 40 && counters.receivedCoalesced == 0 && counters.sentSegmented == 0)
        }
    }

    @Test func aClientThatSendsSinglyIsAnsweredQueryByQuery() throws {
        try withResponder { responder, client in
            for query in queries { client.send(query) }
            var messages: [DNSMessage] = []
            while messages.count < 40, let reply = client.receive() {
                messages.append(try DNSMessage(parsing: reply.bytes))
            }
            expectEachAnswered(messages)
            let counters = responder.counters()
            #expect(counters.received == 40 && counters.receivedCoalesced == 0 && counters.sendErrors == 0)
        }
    }

    /// 50 equal answers of about 1.4 KB each (`big.example.test.` TXT with EDNS): more than one
    /// segmented message may carry (64 KiB in all), and longer than a datagram fits a usual path
    /// MTU; each is still answered.
    @Test func largeAnswersToSegmentedQueriesAllArrive() throws {
        try withResponder({ try $0.loadZone(text: exampleZone) }) { responder, _ in
            let fd = try connectedSocket(to: responder.port)
            defer { Socket.close(fd) }
            let big = (0..<50).map { ResponderClient.query("big.example.test.", .txt, id: UInt16(2000 + $0), ednsSize: 4096) }
            try sendSegmented(big, on: fd)
            let messages = try answers(50, on: fd)
            #expect(messages.map(\.header.id).sorted() == (0..<50).map { UInt16(2000 + $0) })
            #expect(messages.allSatisfy { $0.answers.count == 12 && !$0.header.isTruncated })
            let counters = responder.counters()
            #expect(counters.receivedCoalesced == 50 && counters.sendErrors == 0, "\(counters)")
            #expect(counters.segmentOffloadRefused == 0, "\(counters)")
        }
    }

    /// 60 equal answers of about 1.2 KB (ten TXT strings of 100 bytes): short enough to be segmented,
    /// too many bytes for one segmented message; they leave in two, and all arrive.
    @Test func aRunOfAnswersIsCutBeforeItOutgrowsOneSegmentedMessage() throws {
        let zone = ["$ORIGIN example.test.", "$TTL 300", "@ IN SOA ns.example.test. admin.example.test. 7 3600 600 86400 60",
                    "@ IN NS ns", "ns IN A 192.0.2.53"]
            + (0..<10).map { "mid IN TXT \"" + String(repeating: Character(String($0)), count: 100) + "\"" }
        try withResponder({ try $0.loadZone(text: zone.joined(separator: "\n")) }) { responder, _ in
            let fd = try connectedSocket(to: responder.port)
            defer { Socket.close(fd) }
            let mid = (0..<60).map { ResponderClient.query("mid.example.test.", .txt, id: UInt16(3000 + $0), ednsSize: 4096) }
            try sendSegmented(mid, on: fd)
            let messages = try answers(60, on: fd)
            #expect(messages.map(\.header.id).sorted() == (0..<60).map { UInt16(3000 + $0) })
            #expect(messages.allSatisfy { $0.answers.count == 10 && !$0.header.isTruncated })
            let counters = responder.counters()
            #expect(counters.sentSegmented == 60 && counters.sendErrors == 0, "\(counters)")
        }
    }

    /// `SO_NO_CHECK` on the responder's socket: the kernel refuses UDP GSO there (EINVAL), as a
    /// device without checksum offload refuses it (EIO).
    @Test func aRefusedSegmentedSendGoesOutOneAnswerAtATimeAndOffloadStaysOff() throws {
        try withResponder { responder, _ in
            var on: Int32 = 1
            let server = try #require(Self.udpDescriptor(boundTo: responder.port))
            #expect(setsockopt(server, SOL_SOCKET, SO_NO_CHECK, &on, socklen_t(MemoryLayout<Int32>.size)) == 0)
            let fd = try connectedSocket(to: responder.port)
            defer { Socket.close(fd) }
            try sendSegmented(queries, on: fd)
            expectEachAnswered(try answers(40, on: fd))
            try sendSegmented(queries, on: fd)
            expectEachAnswered(try answers(40, on: fd))
            let counters = responder.counters()
            #expect(counters.segmentOffloadRefused == 1 && counters.sentSegmented == 0, "\(counters)")
            #expect(counters.sendErrors == 0 && counters.receivedCoalesced == 80, "\(counters)")
        }
    }

    /// This process's UDP socket bound to 127.0.0.1:`port`.
    private static func udpDescriptor(boundTo port: UInt16) -> Int32? {
        for fd in Int32(3)..<Int32(4096) {
            var type: Int32 = 0
            var typeLength = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &typeLength) == 0, type == Int32(SOCK_DGRAM.rawValue)
            else { continue }
            var address = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let found = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
            }
            if found, address.sin_family == sa_family_t(AF_INET), UInt16(bigEndian: address.sin_port) == port {
                return fd
            }
        }
        return nil
    }
}
