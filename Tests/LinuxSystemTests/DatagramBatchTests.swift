import EvqueryTestSupport
import LinuxSystem
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The system layer against the real kernel: datagrams on 127.0.0.1 through one batch type.
@Suite struct DatagramBatchTests {
    /// A non-blocking UDP socket bound to 127.0.0.1 on a kernel-chosen port, and that port.
    private func boundSocket() throws -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        try #require(fd >= 0)
        try #require(Loopback.bind(fd) == 0)
        return (fd, Loopback.port(of: fd))
    }

    /// A UDP socket connected to 127.0.0.1:`port` through `Socket.connected`.
    private func connectedSocket(to port: UInt16) throws -> Int32 {
        try Socket.connected(ipv6: false, stream: false, receiveBuffer: 1 << 20) { connect in
            Loopback.withAddress(port: port) { connect($0, $1) }
        }
    }

    /// Waits up to 2 s until `fd` is readable.
    private func waitReadable(_ fd: Int32) -> Bool {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 2000) == 1
    }

    @Test func datagramsOfOneSendmmsgArriveWholeAndTheirAnswersReturnToTheirSource() throws {
        let server = try boundSocket()
        defer { Socket.close(server.fd) }
        let client = try connectedSocket(to: server.port)
        defer { Socket.close(client) }

        // Ten datagrams of ten lengths (i + 1 bytes of value i), one sendmmsg.
        let outgoing = DatagramBatch(capacity: 10, slotSize: 64)
        for index in 0..<10 {
            outgoing.slot(index).initializeMemory(as: UInt8.self, repeating: UInt8(index), count: index + 1)
            outgoing.setVectorLength(index, index + 1)
        }
        #expect(outgoing.send(on: client, count: 10) == .sent(10))

        let incoming = DatagramBatch(capacity: 16, slotSize: 64, addressed: true)
        #expect(waitReadable(server.fd))
        var received = 0
        while received < 10 {
            let count = try incoming.receive(on: server.fd, count: 10 - received)
            try #require(count > 0, "\(received) of 10 datagrams arrived")
            for index in 0..<count {
                let datagram = Array(incoming.datagram(index))
                #expect(datagram == [UInt8](repeating: UInt8(received + index), count: received + index + 1))
                #expect(!incoming.isTruncated(index))
            }
            // Each one back to its source, from the unconnected socket.
            let answers = DatagramBatch(capacity: 10)
            for index in 0..<count {
                answers.setVector(index, incoming.slot(index), length: incoming.length(index))
                answers.setMessage(index, firstVector: index, to: incoming, addressOf: index)
            }
            #expect(answers.send(on: server.fd, count: count) == .sent(count))
            received += count
        }

        let replies = DatagramBatch(capacity: 16, slotSize: 64)
        var lengths: [Int] = []
        while lengths.count < 10, waitReadable(client) {
            let count = try replies.receive(on: client)
            lengths += (0..<count).map { replies.length($0) }
        }
        #expect(lengths == Array(1...10))
        // Nothing more: a receive that would block is 0 datagrams, not an error.
        #expect(try replies.receive(on: client) == 0)
    }

    @Test func aDatagramLongerThanItsSlotIsMarkedTruncated() throws {
        let server = try boundSocket()
        defer { Socket.close(server.fd) }
        let client = try connectedSocket(to: server.port)
        defer { Socket.close(client) }
        let bytes = [UInt8](repeating: 7, count: 100)
        #expect(try bytes.withUnsafeBytes { try Socket.send(client, $0) } == 100)
        let incoming = DatagramBatch(capacity: 1, slotSize: 16)
        #expect(waitReadable(server.fd))
        #expect(try incoming.receive(on: server.fd) == 1)
        #expect(incoming.isTruncated(0))
        #expect(incoming.datagram(0).count <= 100)
    }

    @Test func equalLengthDatagramsSentAsOneSegmentedMessageArriveOneByOne() throws {
        let server = try boundSocket()
        defer { Socket.close(server.fd) }
        let client = try connectedSocket(to: server.port)
        defer { Socket.close(client) }
        try #require(DatagramBatch.segmentOffloadSupported(on: client))
        let outgoing = DatagramBatch(capacity: 5, slotSize: 32, segmentable: true)
        for index in 0..<5 {
            outgoing.slot(index).initializeMemory(as: UInt8.self, repeating: UInt8(index), count: 20)
            outgoing.setVectorLength(index, 20)
        }
        outgoing.setMessage(0, firstVector: 0, vectorCount: 5, segmentSize: 20)
        #expect(outgoing.send(on: client, count: 1) == .sent(1))
        let incoming = DatagramBatch(capacity: 8, slotSize: 64)
        var datagrams: [[UInt8]] = []
        while datagrams.count < 5, waitReadable(server.fd) {
            let count = try incoming.receive(on: server.fd)
            datagrams += (0..<count).map { Array(incoming.datagram($0)) }
        }
        #expect(datagrams == (0..<5).map { [UInt8](repeating: UInt8($0), count: 20) })
    }

    /// Reads `fd` with a coalescing batch until `expected` datagrams came (or 2 s passed): each
    /// message cut at its segment size. Returns the datagrams and how many messages held them.
    private func receiveCoalesced(_ fd: Int32, expected: Int) throws -> (datagrams: [[UInt8]], messages: Int) {
        let incoming = DatagramBatch(capacity: 8, slotSize: DatagramBatch.maxCoalescedBytes, coalescing: true)
        var datagrams: [[UInt8]] = [], messages = 0
        while datagrams.count < expected, waitReadable(fd) {
            let count = try incoming.receive(on: fd)
            for index in 0..<count {
                #expect(!incoming.isTruncated(index))
                _ = incoming.forEachDatagram(in: index) { datagram, _ in
                    datagrams.append(Array(datagram))
                    return true
                }
                messages += 1
            }
        }
        return (datagrams, messages)
    }

    /// One segmented send of ten 40-byte datagrams and a shorter last one, then two sent singly.
    private func sendTenSegmentsAndTwoSingles(from client: Int32) throws {
        try #require(DatagramBatch.segmentOffloadSupported(on: client))
        let outgoing = DatagramBatch(capacity: 11, slotSize: 64, segmentable: true)
        for index in 0..<11 {
            let length = index == 10 ? 25 : 40
            outgoing.slot(index).initializeMemory(as: UInt8.self, repeating: UInt8(index), count: length)
            outgoing.setVectorLength(index, length)
        }
        outgoing.setMessage(0, firstVector: 0, vectorCount: 11, segmentSize: 40)
        #expect(outgoing.send(on: client, count: 1) == .sent(1))
        for value in [UInt8(11), 12] {
            let bytes = [UInt8](repeating: value, count: 30)
            #expect(try bytes.withUnsafeBytes { try Socket.send(client, $0) } == 30)
        }
    }

    private var tenSegmentsAndTwoSingles: [[UInt8]] {
        (0..<10).map { [UInt8](repeating: UInt8($0), count: 40) } + [[UInt8](repeating: 10, count: 25)]
            + [[UInt8](repeating: 11, count: 30), [UInt8](repeating: 12, count: 30)]
    }

    @Test func aSegmentedMessageArrivesWholeWithItsSegmentSizeOnASocketThatTakesCoalescedDatagrams() throws {
        let server = try boundSocket()
        defer { Socket.close(server.fd) }
        try #require(DatagramBatch.enableReceiveCoalescing(on: server.fd), "UDP_GRO (Linux 5.0)")
        let client = try connectedSocket(to: server.port)
        defer { Socket.close(client) }
        try sendTenSegmentsAndTwoSingles(from: client)
        let (datagrams, messages) = try receiveCoalesced(server.fd, expected: 13)
        #expect(datagrams == tenSegmentsAndTwoSingles)
        // The segmented send in one message, each single in its own.
        #expect(messages == 3)
    }

    @Test func withoutCoalescingTheSameSendsArriveOneDatagramPerMessageAndReadTheSame() throws {
        let server = try boundSocket()
        defer { Socket.close(server.fd) }
        let client = try connectedSocket(to: server.port)
        defer { Socket.close(client) }
        try sendTenSegmentsAndTwoSingles(from: client)
        let (datagrams, messages) = try receiveCoalesced(server.fd, expected: 13)
        #expect(datagrams == tenSegmentsAndTwoSingles)
        #expect(messages == 13)
    }
}

@Suite struct SystemErrorTests {
    @Test func aFailedCallIsDescribedInWordsWithItsNameAndErrno() {
        #expect(SystemError("connect", errno: ECONNREFUSED).description == "connect: Connection refused (errno 111)")
        #expect(SystemError("open", errno: ENOENT).description == "open: No such file or directory (errno 2)")
    }

    @Test func aSocketCallRefusedByTheKernelThrowsTheCallAndItsErrno() {
        // A UDP "connect" to an AF_INET6 address on an AF_INET socket: the kernel refuses it.
        var address = sockaddr_in6()
        address.sin6_family = sa_family_t(AF_INET6)
        address.sin6_port = UInt16(53).bigEndian
        #expect(throws: SystemError("connect", errno: EAFNOSUPPORT)) {
            try Socket.connected(ipv6: false, stream: false, receiveBuffer: 0) { connect in
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        connect($0, socklen_t(MemoryLayout<sockaddr_in6>.size))
                    }
                }
            }
        }
    }
}
