import DNSMessage
import DNSResponder
import EvqueryTestSupport
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking TCP client for the stream tests: length-prefixed DNS messages, raw bytes, and the
/// way the connection ends.
final class StreamClient {
    let fd: Int32

    /// Connected to 127.0.0.1:`port`; reads give up after `timeoutMs`.
    init(port: UInt16, timeoutMs: Int = 3000) throws {
        fd = try Loopback.connectTCP(port: port, receiveTimeout: .milliseconds(timeoutMs))
    }

    deinit { close(fd) }

    /// Writes all of `bytes`.
    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { return }
            sent += count
        }
    }

    /// `message` with its two-byte length in front.
    static func framed(_ message: [UInt8]) -> [UInt8] {
        [UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message
    }

    /// Exactly `count` bytes, or nil if the connection ended or went quiet first.
    func read(_ count: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: count)
        var got = 0
        while got < count {
            let n = bytes.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + got, count - got, 0) }
            guard n > 0 else { return nil }
            got += n
        }
        return bytes
    }

    /// The next length-prefixed message, or nil.
    func readMessage() -> [UInt8]? {
        guard let prefix = read(2) else { return nil }
        return read(Int(prefix[0]) << 8 | Int(prefix[1]))
    }

    /// Everything until the connection ends, and how: 0 for a clean close, else the errno of the
    /// failed read (`ECONNRESET` for a reset, `EAGAIN` when it went quiet instead).
    func readToEnd() -> (bytes: [UInt8], errno: Int32) {
        var all: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return (all, 0) }
            if n < 0 { return (all, errno) }
            all += buffer[0..<n]
        }
    }
}

/// Runs a tool with `input` on its stdin, killed after `timeout` seconds: its exit status and stdout.
@discardableResult
func runTool(_ path: String, _ arguments: [String], input: Data? = nil, timeout: Double = 20) throws
    -> (status: Int32, output: String, data: Data)
{
    let run = try ChildProcess.run(path, arguments, input: input.map { Array($0) } ?? [], stderr: .discard,
                                   timeout: .milliseconds(Int64(timeout * 1000)))
    return (run.status, run.output, Data(run.stdout))
}

/// Starts a responder serving TCP, DoT and DoH with a fresh certificate, runs `body`, stops it and
/// checks that every stream connection it accepted was closed and counted once.
func withStreamResponder<T>(
    _ configure: (inout DNSResponder.Configuration) throws -> Void = { _ in },
    _ body: (DNSResponder, TestCertificate) throws -> T
) throws -> (result: T, counters: DNSResponderCounters) {
    let certificate = try TestCertificate()
    var configuration = DNSResponder.Configuration()
    configuration.dotPort = 0
    configuration.dohPort = 0
    configuration.tlsCertificatePath = certificate.certificate
    configuration.tlsKeyPath = certificate.key
    try configure(&configuration)
    let responder = try DNSResponder(configuration)
    try responder.start()
    let result: T
    do {
        result = try body(responder, certificate)
    } catch {
        responder.stop()
        throw error
    }
    responder.stop()
    return (result, responder.counters())
}
