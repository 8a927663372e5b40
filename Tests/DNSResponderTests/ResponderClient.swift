import DNSMessage
import DNSResponder
import EvqueryTestSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A plain UDP client for the tests: one unconnected socket on 127.0.0.1, so that answers from any
/// port arrive and their source port can be checked.
final class ResponderClient {
    let fd: Int32
    let port: UInt16

    /// A client of the responder listening on `port`.
    init(port: UInt16) {
        self.port = port
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(fd) }

    /// Sends raw bytes to the responder.
    func send(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { raw in
            Loopback.withAddress(port: port) { sendto(fd, raw.baseAddress, raw.count, 0, $0, $1) }
        }
    }

    /// The next datagram and the port it came from, or nil after `timeoutMs` without one.
    func receive(timeoutMs: Int = 2000) -> (bytes: [UInt8], sourcePort: UInt16)? {
        var timeout = timeval(tv_sec: timeoutMs / 1000, tv_usec: Int((timeoutMs % 1000) * 1000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 65536)
        var source = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let count = buffer.withUnsafeMutableBytes { raw in
            withUnsafeMutablePointer(to: &source) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, raw.baseAddress, raw.count, 0, $0, &length)
                }
            }
        }
        guard count >= 0 else { return nil }
        return (Array(buffer[0..<count]), UInt16(bigEndian: source.sin_port))
    }

    /// A query for `name`/`type` with `id`, optionally with an OPT record advertising `ednsSize`.
    static func query(_ name: String, _ type: DNSType, id: UInt16 = 0x1234, ednsSize: UInt16? = nil) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 512)
        let edns = ednsSize.map { DNSQueryBuilder.EDNS(udpPayloadSize: $0, dnssecOK: false) }
        let length = buffer.withUnsafeMutableBytes {
            DNSQueryBuilder.write(into: $0, id: id, name: try! DNSName(parsing: name), type: type, edns: edns)!
        }
        return Array(buffer[0..<length])
    }

    /// Asks and parses the answer.
    func ask(_ name: String, _ type: DNSType, id: UInt16 = 0x1234, ednsSize: UInt16? = nil) throws -> DNSMessage? {
        send(Self.query(name, type, id: id, ednsSize: ednsSize))
        guard let reply = receive() else { return nil }
        return try DNSMessage(parsing: reply.bytes)
    }
}

/// Starts a responder, runs `body`, stops it.
func withResponder<T>(
    _ configure: (inout DNSResponder.Configuration) throws -> Void = { _ in },
    _ body: (DNSResponder, ResponderClient) throws -> T
) throws -> T {
    var configuration = DNSResponder.Configuration()
    try configure(&configuration)
    let responder = try DNSResponder(configuration)
    try responder.start()
    defer { responder.stop() }
    return try body(responder, ResponderClient(port: responder.port))
}

/// A small zone: `example.test.` with an SOA, A records, a CNAME, and a TXT RRset too big for 512 bytes.
let exampleZone: String = {
    var lines = [
        "$ORIGIN example.test.", "$TTL 300",
        "@ IN SOA ns.example.test. admin.example.test. 7 3600 600 86400 60",
        "@ IN NS ns", "ns IN A 192.0.2.53", "www IN A 192.0.2.1", "www IN A 192.0.2.2", "alias IN CNAME www",
    ]
    for index in 0..<12 {
        let text = String(repeating: Character(String(index % 10)), count: 100)
        lines.append("big IN TXT \"\(text)\"")
    }
    return lines.joined(separator: "\n")
}()
