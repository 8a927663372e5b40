#if canImport(Glibc)
import Glibc
#endif

/// Sockets on 127.0.0.1 for the tests that play a client or hold a port, written once: the address,
/// bind, connect, the port the kernel chose, and a plain HTTP/1.1 exchange.
public enum Loopback {
    /// Calls `body` with 127.0.0.1:`port` as a `sockaddr` and its length.
    public static func withAddress<T>(port: UInt16, _ body: (UnsafePointer<sockaddr>, socklen_t) throws -> T) rethrows -> T {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        return try withUnsafePointer(to: &address) {
            try $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { try body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }

    /// Binds `fd` to 127.0.0.1:`port` (0: the kernel picks): 0, or the errno.
    public static func bind(_ fd: Int32, port: UInt16 = 0) -> Int32 {
        withAddress(port: port) { Glibc.bind(fd, $0, $1) } == 0 ? 0 : errno
    }

    /// The local port `fd` is bound to (0 if none).
    public static func port(of fd: Int32) -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return named == 0 ? UInt16(bigEndian: address.sin_port) : 0
    }

    /// A UDP port of 127.0.0.1 that nothing holds now (the kernel's choice, released at once).
    public static func freeUDPPort() -> UInt16 {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        _ = bind(fd)
        return port(of: fd)
    }

    /// A TCP socket connected to 127.0.0.1:`port`, whose reads give up after `receiveTimeout`.
    /// - Throws: `LoopbackError` with the reason in words when it cannot connect.
    public static func connectTCP(port: UInt16, receiveTimeout: Duration = .seconds(10)) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw LoopbackError("socket", errno) }
        let (seconds, attoseconds) = receiveTimeout.components
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        guard withAddress(port: port, { connect(fd, $0, $1) }) == 0 else {
            let code = errno
            close(fd)
            throw LoopbackError("connect 127.0.0.1:\(port)", code)
        }
        return fd
    }

    /// Sends `request` to 127.0.0.1:`port` over TCP and reads until the server closes: the raw response.
    /// - Throws: `LoopbackError` when it cannot connect.
    public static func exchange(_ request: String, port: UInt16) throws -> String {
        let fd = try connectTCP(port: port)
        defer { close(fd) }
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { break }
            sent += count
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = recv(fd, &chunk, chunk.count, 0)
            if count <= 0 { break }
            response += chunk[..<count]
        }
        return String(decoding: response, as: UTF8.self)
    }

    /// `GET path` from 127.0.0.1:`port` (HTTP/1.1, `Connection: close`): the status line and the body.
    /// - Throws: `LoopbackError` when it cannot connect.
    public static func get(_ path: String, port: UInt16) throws -> (status: String, body: String) {
        let text = try exchange("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", port: port)
        guard let end = text.range(of: "\r\n\r\n") else { return (text, "") }
        let head = text[..<end.lowerBound]
        let statusLine = head.range(of: "\r\n").map { head[..<$0.lowerBound] } ?? head
        return (String(statusLine), String(text[end.upperBound...]))
    }
}

/// A loopback socket call that failed, in words (`connect 127.0.0.1:9: Connection refused`).
public struct LoopbackError: Error, CustomStringConvertible {
    /// What failed, and why.
    public var description: String

    init(_ call: String, _ code: Int32) { description = "\(call): \(String(cString: strerror(code)))" }
}
