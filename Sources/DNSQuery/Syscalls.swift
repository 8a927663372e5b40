import CSystemShims

#if canImport(Glibc)
import Glibc
#endif

/// The one place where DNSQuery calls the socket API. Each call retries `EINTR`, reports
/// `EAGAIN`/`EWOULDBLOCK` as a value (`nil`, "nothing now") and every other failure as an `errno`.
/// `connectedSocket` is also the load generator's (package access): one way to open a DNS socket.
package enum Syscalls {
    /// A failed system call's `errno`.
    package struct Failure: Error, Equatable {
        package let errno: Int32
        package let call: StaticString
        package static func == (a: Failure, b: Failure) -> Bool { a.errno == b.errno }
    }

    /// A non-blocking, close-on-exec socket `connect()`ed to `server`; for UDP the kernel picks a
    /// random ephemeral port at connect. Asks for `receiveBuffer` bytes of SO_RCVBUF and `sendBuffer`
    /// of SO_SNDBUF when not 0 (the kernel caps them at `rmem_max`/`wmem_max`).
    package static func connectedSocket(
        to server: DNSServer, stream: Bool, receiveBuffer: Int, sendBuffer: Int = 0
    ) throws(Failure) -> Int32 {
        let family = server.isIPv6 ? AF_INET6 : AF_INET
        let kind = Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue)
            | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(family, kind, 0)
        guard fd >= 0 else { throw Failure(errno: errno, call: "socket") }
        if receiveBuffer > 0 {
            var size = Int32(clamping: receiveBuffer)
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if sendBuffer > 0 {
            var size = Int32(clamping: sendBuffer)
            _ = setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        if stream {
            var one: Int32 = 1
            _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var rc: Int32
        repeat {
            rc = server.withSockaddr { connect(fd, $0, $1) }
        } while rc != 0 && errno == EINTR
        if rc != 0 && !(stream && errno == EINPROGRESS) {
            let code = errno
            close(fd)
            throw Failure(errno: code, call: "connect")
        }
        return fd
    }

    /// The pending socket error (`SO_ERROR`), 0 if none: how a non-blocking connect reports.
    static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return errno }
        return value
    }

    /// `send(2)` on a connected socket: the bytes sent, nil for `EAGAIN`.
    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(Failure) -> Int? {
        while true {
            let n = Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL))
            if n >= 0 { return n }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw Failure(errno: errno, call: "send")
            }
        }
    }

    /// What one `sendmmsg` did.
    enum BatchSend {
        /// The first `n` messages went out (n ≥ 1).
        case sent(Int)
        /// The socket's buffer is full (`EAGAIN`).
        case wouldBlock
        /// The first message failed with this errno.
        case failed(Int32)
    }

    /// `sendmmsg(2)` on a connected socket, without waiting.
    static func sendBatch(_ fd: Int32, _ headers: UnsafeMutablePointer<evq_mmsghdr>, count: Int) -> BatchSend {
        while true {
            let n = evq_sendmmsg(fd, headers, UInt32(count), Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            if n > 0 { return .sent(Int(n)) }
            if n == 0 { return .wouldBlock }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: return .failed(errno)
            }
        }
    }

    /// `recv(2)`: the bytes read (0 = the peer closed), nil for `EAGAIN`.
    static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(Failure) -> Int? {
        while true {
            let n = recv(fd, buffer.baseAddress, buffer.count, 0)
            if n >= 0 { return n }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw Failure(errno: errno, call: "recv")
            }
        }
    }

    /// `recvmmsg(2)` without waiting: how many messages were read (0 for `EAGAIN`).
    static func receiveBatch(_ fd: Int32, _ headers: UnsafeMutablePointer<evq_mmsghdr>, count: Int) throws(Failure)
        -> Int
    {
        while true {
            let n = evq_recvmmsg(fd, headers, UInt32(count), Int32(MSG_DONTWAIT), nil)
            if n >= 0 { return Int(n) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return 0
            default: throw Failure(errno: errno, call: "recvmmsg")
            }
        }
    }

    /// `close(2)`.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}
