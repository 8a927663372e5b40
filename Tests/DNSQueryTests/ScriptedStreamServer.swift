import DNSMessage
import DNSQuery

#if canImport(Glibc)
import EvqueryTestSupport
import Glibc
#endif

/// A TCP listening socket on 127.0.0.1 that the test plays the server with: it accepts the engine's
/// real connections, reads its length-prefixed queries, and writes whatever the test needs (replies
/// out of order, a length prefix longer than its data, a close mid-stream). Blocking, with timeouts.
final class ScriptedStreamServer {
    let listener: Int32
    let port: UInt16
    var address: DNSServer { DNSServer(ipv4: 127, 0, 0, 1, port: port) }

    init() {
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        precondition(Loopback.bind(listener) == 0 && listen(listener, 16) == 0)
        port = Loopback.port(of: listener)
    }

    deinit { close(listener) }

    /// The next connection, waiting at most `millis`; nil if none came.
    func accept(millis: Int32 = 5000) -> Int32? {
        var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, millis) == 1 else { return nil }
        let fd = Glibc.accept(listener, nil, nil)
        return fd >= 0 ? fd : nil
    }

    /// Reads exactly `count` bytes from `fd`, waiting at most `millis` in all; nil on close or timeout.
    private func read(_ fd: Int32, _ count: Int, millis: Int32) -> [UInt8]? {
        var bytes: [UInt8] = []
        while bytes.count < count {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, millis) == 1 else { return nil }
            var chunk = [UInt8](repeating: 0, count: count - bytes.count)
            let n = recv(fd, &chunk, chunk.count, 0)
            guard n > 0 else { return nil }
            bytes += chunk.prefix(n)
        }
        return bytes
    }

    /// The next query on connection `fd` (its length prefix stripped), parsed.
    func receive(on fd: Int32, millis: Int32 = 5000) -> ScriptedServer.Query? {
        guard let prefix = read(fd, 2, millis: millis) else { return nil }
        let length = Int(prefix[0]) << 8 | Int(prefix[1])
        guard let bytes = read(fd, length, millis: millis), let message = try? DNSMessage(parsing: bytes) else {
            return nil
        }
        return ScriptedServer.Query(bytes: bytes, message: message, from: sockaddr_in())
    }

    /// Writes `bytes` as they are (no prefix added) to connection `fd`.
    func write(_ bytes: [UInt8], on fd: Int32) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { return }
            sent += n
        }
    }

    /// `bytes` with its two-byte length prefix.
    static func framed(_ bytes: [UInt8]) -> [UInt8] { [UInt8(bytes.count >> 8), UInt8(bytes.count & 0xff)] + bytes }
}
