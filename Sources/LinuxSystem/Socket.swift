import CSystemShims

#if canImport(Glibc)
import Glibc
#endif

/// Socket calls on a file descriptor: opening a connected UDP or TCP socket, and the non-blocking
/// reads and writes of a connected one. Each goes through `Syscall.run` (EINTR retried, EAGAIN as
/// `nil`).
public enum Socket {
    /// A non-blocking, close-on-exec socket `connect()`ed to an address; for UDP the kernel picks a
    /// random ephemeral port at connect, for TCP the connect may still be in progress (a write
    /// watcher then sees it end; `pendingError` tells how). Asks for `receiveBuffer` bytes of
    /// `SO_RCVBUF` and `sendBuffer` of `SO_SNDBUF` when not 0 (the kernel caps them at
    /// `rmem_max`/`wmem_max`); TCP gets `TCP_NODELAY`. No fd is left open when it throws.
    /// - Parameters:
    ///   - ipv6: whether the address is IPv6 (`AF_INET6`), else IPv4.
    ///   - withAddress: calls its argument with the `sockaddr` and its length.
    /// - Throws: `SystemError` of `socket` or `connect`.
    public static func connected(
        ipv6: Bool, stream: Bool, receiveBuffer: Int, sendBuffer: Int = 0,
        withAddress: ((UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32
    ) throws(SystemError) -> Int32 {
        let kind = Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue)
            | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, kind, 0)
        guard fd >= 0 else { throw .current("socket") }
        if receiveBuffer > 0 { setOption(fd, SOL_SOCKET, SO_RCVBUF, Int32(clamping: receiveBuffer)) }
        if sendBuffer > 0 { setOption(fd, SOL_SOCKET, SO_SNDBUF, Int32(clamping: sendBuffer)) }
        if stream { setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1) }
        var rc: Int32
        repeat {
            rc = withAddress { connect(fd, $0, $1) }
        } while rc != 0 && errno == EINTR
        if rc != 0 && !(stream && errno == EINPROGRESS) {
            let code = errno
            Glibc.close(fd)
            throw SystemError("connect", errno: code)
        }
        return fd
    }

    /// `setsockopt` of an `Int32` value; the result is not checked (a best-effort hint).
    public static func setOption(_ fd: Int32, _ level: Int32, _ name: Int32, _ value: Int32) {
        var value = value
        _ = setsockopt(fd, level, name, &value, socklen_t(MemoryLayout<Int32>.size))
    }

    /// The pending socket error (`SO_ERROR`), 0 if none: how a non-blocking connect reports.
    public static func pendingError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return errno }
        return value
    }

    /// `send(2)` on a connected socket (`MSG_NOSIGNAL`): the bytes sent, nil when it would block.
    public static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) -> Int? {
        try Syscall.run("send") { Glibc.send(fd, bytes.baseAddress, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    /// `recv(2)`: the bytes read (0 = the peer closed), nil when nothing is there.
    public static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int? {
        try Syscall.run("recv") { recv(fd, buffer.baseAddress, buffer.count, 0) }
    }

    /// `sendto(2)` of one datagram to `address`; whether all of it went.
    public static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, to address: DatagramAddress) -> Bool {
        var storage = address.storage
        let rc = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes.baseAddress, bytes.count, 0, $0, address.length)
            }
        }
        return rc == bytes.count
    }

    /// `close(2)`.
    public static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}

/// A datagram's peer address, copied out of a `DatagramBatch` (the source of a received
/// datagram), to answer it later.
public struct DatagramAddress: Sendable {
    @usableFromInline var storage: sockaddr_storage
    @usableFromInline var length: socklen_t

    @inlinable init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }
}
