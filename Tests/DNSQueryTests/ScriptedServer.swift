import DNSMessage
import DNSQuery
import EvqueryTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A UDP socket on 127.0.0.1 that the test itself plays the server with: it reads the engine's real
/// queries from the kernel and sends whatever replies (right, late, spoofed, broken) a test needs.
final class ScriptedServer {
    struct Query {
        var bytes: [UInt8]
        var message: DNSMessage
        var from: sockaddr_in
        var id: UInt16 { message.header.id }
    }

    let fd: Int32
    let port: UInt16
    var address: DNSServer { DNSServer(ipv4: 127, 0, 0, 1, port: port) }

    init() {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.fd = fd
        precondition(Loopback.bind(fd) == 0)
        port = Loopback.port(of: fd)
    }

    deinit { close(fd) }

    /// The next query the engine sent, waiting at most `millis`.
    func receive(millis: Int32 = 5000) -> Query? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, millis) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = withUnsafeMutablePointer(to: &from) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
        }
        guard n > 0, let message = try? DNSMessage(parsing: Array(buffer.prefix(n))) else { return nil }
        return Query(bytes: Array(buffer.prefix(n)), message: message, from: from)
    }

    /// Sends `bytes` to where `query` came from (from this socket, or from `other` to play a
    /// reply from the wrong source port).
    func send(_ bytes: [UInt8], to query: Query, from other: Int32? = nil) {
        var to = query.from
        _ = withUnsafePointer(to: &to) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(other ?? fd, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    /// A well-formed answer to `query`: its id and question echoed byte for byte, one A record.
    static func answer(_ query: Query, rcode: DNSRcode = .noError, id: UInt16? = nil, name: DNSName? = nil,
                       address: DNSIPv4Address = DNSIPv4Address(192, 0, 2, 1), truncated: Bool = false) -> [UInt8] {
        var header = DNSHeader(id: id ?? query.id)
        header.isResponse = true
        header.recursionDesired = query.message.header.recursionDesired
        header.isTruncated = truncated
        var question = query.message.questions[0]
        if let name { question.name = name }
        var message = DNSMessage(header: header, questions: [question])
        message.rcode = rcode
        if rcode == .noError && !truncated {
            message.answers = [DNSResourceRecord(name: question.name, type: .a, ttl: 60, data: .a(address))]
        }
        return message.serialized()
    }
}

/// Runs one query of `request` against a `ScriptedServer` that `serve` plays (receive, then send
/// whatever the test wants), waits for the query to end and returns its outcome with the engine's
/// counters; the exactly-once audit runs as for every engine test.
func scriptedQuery(
    _ request: DNSQueryRequest, configure: (inout DNSQueryEngine.Configuration) -> Void = { _ in },
    serve: (ScriptedServer) throws -> Void, sourceLocation: SourceLocation = #_sourceLocation
) throws -> (outcome: DNSQueryOutcome?, counters: DNSQueryCounters) {
    let server = ScriptedServer()
    var configuration = testConfiguration(server.address)
    configure(&configuration)
    let outcomes = Outcomes()
    var counters = DNSQueryCounters()
    try withEngine(configuration, operations: 1, { reactor, engine, ledger in
        engine.start(request, completion: recording(0, ledger, outcomes))
        try serve(server)
        #expect(reactor.waitForDrain(timeoutNanos: 10_000_000_000), sourceLocation: sourceLocation)
        counters = engine.counters()
        return 1
    }, sourceLocation: sourceLocation)
    return (outcomes[0], counters)
}
