import COpenSSL
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// Which protocol a stream listener or connection speaks.
enum StreamKind: Int, CaseIterable {
    /// DNS over TCP: two-byte length, message (RFC 7766).
    case tcp
    /// The same inside TLS (RFC 7858).
    case dot
    /// DNS messages in HTTP/2 requests inside TLS (RFC 8484).
    case doh
}

/// One accepted stream connection, owned by the stream thread that accepted it: its non-blocking
/// socket, its TLS session (DoT, DoH) and HTTP/2 session (DoH), the bytes read but not yet a whole
/// message, and the bytes to send that the socket has not taken yet.
final class StreamConnection {
    let fd: Int32
    let kind: StreamKind
    /// Told apart from a later connection on the same fd number (a delayed answer checks it).
    let serial: UInt64
    /// The TLS session (`SSL *`), nil over plain TCP.
    let tls: OpaquePointer?
    var handshaken: Bool
    var http2: HTTP2Session?
    /// Bytes read, not yet a whole length-prefixed message (TCP, DoT).
    var input: [UInt8] = []
    /// Bytes to send from `outputStart` on (plain text: TLS encrypts as it writes).
    var output: [UInt8] = []
    var outputStart = 0
    /// While the second half of a split answer waits, the answers after it wait here.
    var held: [UInt8]?
    /// The reset fault: reset the connection once `output` is sent.
    var resetAfterFlush = false
    /// The client closed its side: close once every answer owed is sent.
    var peerClosed = false
    /// Delayed answers (and split halves) still to come on this connection.
    var delayedPending = 0
    /// When it last read or wrote (`MonotonicClock`), for the idle timeout.
    var lastActive: UInt64

    init(fd: Int32, kind: StreamKind, serial: UInt64, tls: OpaquePointer?, now: UInt64) {
        self.fd = fd
        self.kind = kind
        self.serial = serial
        self.tls = tls
        handshaken = tls == nil
        lastActive = now
    }

    deinit { if let tls { SSL_free(tls) } }

    /// Bytes waiting to be sent.
    var pendingOutput: Int { output.count - outputStart }

    /// What one read or write did.
    enum IO {
        case bytes(Int)
        case wouldBlock
        /// The peer closed (TLS: close_notify or EOF).
        case closed
        case failed
    }

    /// Reads into `buffer`: `recv`, or `SSL_read_ex` over TLS.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> IO {
        guard let tls else {
            do {
                guard let count = try Socket.receive(fd, into: buffer) else { return .wouldBlock }
                return count == 0 ? .closed : .bytes(count)
            } catch {
                return .failed
            }
        }
        ERR_clear_error()
        var count = 0
        guard SSL_read_ex(tls, buffer.baseAddress, buffer.count, &count) != 1 else { return .bytes(count) }
        return Self.outcome(tls, SSL_get_error(tls, 0))
    }

    /// Sends as much of `output` as the socket takes: `send`, or `SSL_write_ex` over TLS.
    func flush() -> IO {
        var total = 0
        while pendingOutput > 0 {
            let result: IO = output.withUnsafeBytes { bytes in
                let rest = UnsafeRawBufferPointer(rebasing: bytes[outputStart...])
                guard let tls else {
                    do {
                        guard let count = try Socket.send(fd, rest) else { return .wouldBlock }
                        return .bytes(count)
                    } catch {
                        return .failed
                    }
                }
                ERR_clear_error()
                var count = 0
                guard SSL_write_ex(tls, rest.baseAddress, rest.count, &count) != 1 else { return .bytes(count) }
                return Self.outcome(tls, SSL_get_error(tls, 0))
            }
            guard case .bytes(let count) = result else { return result }
            outputStart += count
            total += count
        }
        output.removeAll(keepingCapacity: output.capacity <= 1 << 16)
        outputStart = 0
        return .bytes(total)
    }

    /// Appends an answer to send, behind a split answer's second half if one waits.
    func append(_ bytes: UnsafeRawBufferPointer) {
        if held != nil { held!.append(contentsOf: bytes) } else { output.append(contentsOf: bytes) }
    }

    private static func outcome(_ tls: OpaquePointer, _ code: Int32) -> IO {
        switch code {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: return .wouldBlock
        case SSL_ERROR_ZERO_RETURN:
            return .closed
        default:
            ERR_clear_error()
            return .failed
        }
    }
}
