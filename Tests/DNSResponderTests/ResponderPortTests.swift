import DNSResponder
import EvqueryTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A responder keeps its port to itself: `SO_REUSEPORT` is shared only among its own threads, unless
/// it is asked to share; and a misuse is an error, not a trap.
@Suite struct ResponderPortTests {
    private func started(port: UInt16 = 0, share: Bool = false, threads: Int = 2) throws -> DNSResponder {
        var configuration = DNSResponder.Configuration()
        configuration.port = port
        configuration.sharePort = share
        configuration.threads = threads
        let responder = try DNSResponder(configuration)
        try responder.start()
        return responder
    }

    /// `responder.start()` is refused: the UDP port is held by another socket.
    private func expectRefusedAsHeld(_ responder: DNSResponder, port: UInt16,
                                     sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(throws: DNSResponderError(
            "bind", errno: EADDRINUSE,
            detail: "UDP port \(port) is held by another socket (set sharePort, or evq serve --share-port, to share it)"
        ), sourceLocation: sourceLocation) { try responder.start() }
    }

    @Test func aSecondResponderOnATakenPortIsRefusedWithAddressInUse() throws {
        let first = try started()
        defer { first.stop() }
        var configuration = DNSResponder.Configuration()
        configuration.port = first.port
        let second = try DNSResponder(configuration)
        expectRefusedAsHeld(second, port: first.port)
        do { try second.start() } catch {
            #expect(error.description == "bind: UDP port \(first.port) is held by another socket (set sharePort, "
                    + "or evq serve --share-port, to share it): Address already in use (errno 98)")
        }
    }

    @Test func onIPv6LoopbackASecondResponderOnATakenPortIsRefusedToo() throws {
        var configuration = DNSResponder.Configuration()
        configuration.address = "::1"
        configuration.threads = 2
        let first = try DNSResponder(configuration)
        try first.start()
        defer { first.stop() }
        #expect(first.port != 0)
        configuration.port = first.port
        let second = try DNSResponder(configuration)
        expectRefusedAsHeld(second, port: first.port)
    }

    @Test(arguments: ["localhost", "::1:x", "127.0.0.256"])
    func anAddressThatIsNotANumericIPv4OrIPv6AddressIsRefusedInWords(_ address: String) {
        var configuration = DNSResponder.Configuration()
        configuration.address = address
        #expect(throws: DNSResponderError("address", detail: "\(address) is not a numeric IPv4 or IPv6 address")) {
            try DNSResponder(configuration)
        }
    }

    @Test func aPortHeldByAPlainTCPListenerIsRefusedForTCP() throws {
        // A UDP port the kernel chose, whose TCP twin another socket listens on.
        let probe = try started(threads: 1)
        let port = probe.port
        probe.stop()
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        let bound = Loopback.bind(fd, port: port)
        try #require(bound == 0 && listen(fd, 1) == 0)
        #expect(throws: DNSResponderError.self) { try started(port: port, threads: 1) }
    }

    @Test func twoRespondersAskedToShareThePortBothStart() throws {
        let first = try started(share: true)
        defer { first.stop() }
        let second = try started(port: first.port, share: true)
        defer { second.stop() }
        #expect(second.port == first.port)
    }

    @Test func startingTwiceIsAnErrorNotATrap() throws {
        let responder = try started(threads: 1)
        defer { responder.stop() }
        #expect(throws: DNSResponderError("start", detail: "the responder was already started (a responder starts once)")) {
            try responder.start()
        }
    }
}
