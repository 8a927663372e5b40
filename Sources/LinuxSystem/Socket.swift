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
    ///   - source: the local address to `bind` first (port 0: the kernel's choice), nil for none.
    ///   - withAddress: calls its argument with the `sockaddr` and its length.
    /// - Throws: `SystemError` of `socket`, `bind` (`Cannot assign requested address` for an
    ///   address this host does not have) or `connect`.
    public static func connected(
        ipv6: Bool, stream: Bool, receiveBuffer: Int, sendBuffer: Int = 0, source: DatagramAddress? = nil,
        withAddress: ((UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32
    ) throws(SystemError) -> Int32 {
        let kind = Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue)
            | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(ipv6 ? AF_INET6 : AF_INET, kind, 0)
        guard fd >= 0 else { throw .current("socket") }
        if receiveBuffer > 0 { setOption(fd, SOL_SOCKET, SO_RCVBUF, Int32(clamping: receiveBuffer)) }
        if sendBuffer > 0 { setOption(fd, SOL_SOCKET, SO_SNDBUF, Int32(clamping: sendBuffer)) }
        if stream { setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1) }
        if let source, source.withSockaddr({ bind(fd, $0, $1) }) != 0 {
            let code = errno
            Glibc.close(fd)
            throw SystemError("bind", errno: code)
        }
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

    /// A non-blocking, close-on-exec socket bound to `address` (of its family), for a server: with
    /// `reusePort`, `SO_REUSEPORT` and `SO_REUSEADDR` (every thread of a server has a socket of its
    /// own on one port); with only `reuseAddress`, `SO_REUSEADDR` (a TCP port left in TIME_WAIT may
    /// be bound again, one that is listened on may not). Asks for `bufferBytes` of receive and send
    /// buffer when not 0 (past the sysctl limits when the process may, `SO_RCVBUFFORCE`). No fd is
    /// left open when it throws.
    /// - Throws: `SystemError` of `socket` or `bind` (`Address already in use`, `Cannot assign
    ///   requested address`).
    public static func bound(
        _ address: DatagramAddress, stream: Bool, reusePort: Bool, reuseAddress: Bool = false, bufferBytes: Int = 0
    ) throws(SystemError) -> Int32 {
        let kind = Int32(stream ? SOCK_STREAM.rawValue : SOCK_DGRAM.rawValue)
            | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(address.isIPv6 ? AF_INET6 : AF_INET, kind, 0)
        guard fd >= 0 else { throw .current("socket") }
        if reusePort { setOption(fd, SOL_SOCKET, SO_REUSEPORT, 1) }
        if reusePort || reuseAddress { setOption(fd, SOL_SOCKET, SO_REUSEADDR, 1) }
        if bufferBytes > 0 {
            let size = Int32(clamping: bufferBytes)
            for (forced, plain) in [(SO_RCVBUFFORCE, SO_RCVBUF), (SO_SNDBUFFORCE, SO_SNDBUF)] {
                var value = size
                if setsockopt(fd, SOL_SOCKET, forced, &value, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                    setOption(fd, SOL_SOCKET, plain, size)
                }
            }
        }
        guard address.withSockaddr({ bind(fd, $0, $1) }) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SystemError("bind", errno: code)
        }
        return fd
    }

    /// The address a socket is bound to (`getsockname`): the kernel's choice of port when it was
    /// asked for 0. Nil if the call fails (not a socket).
    public static func localAddress(_ fd: Int32) -> DatagramAddress? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let rc = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return rc == 0 ? DatagramAddress(storage: storage, length: length) : nil
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

/// An IPv4 or IPv6 socket address (`sockaddr_in` or `sockaddr_in6` in a `sockaddr_storage`): a
/// datagram's peer copied out of a `DatagramBatch` (the source of a received datagram, to answer
/// it later), or an address to bind or connect to.
public struct DatagramAddress: Sendable, CustomStringConvertible {
    @usableFromInline var storage: sockaddr_storage
    @usableFromInline var length: socklen_t

    @inlinable init(storage: sockaddr_storage, length: socklen_t) {
        self.storage = storage
        self.length = length
    }

    /// A copy of the `length` bytes of `address` (at most a `sockaddr_storage`).
    public init(copying address: UnsafePointer<sockaddr>, length: socklen_t) {
        var storage = sockaddr_storage()
        let count = min(Int(length), MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutableBytes(of: &storage) { $0.copyMemory(from: UnsafeRawBufferPointer(start: address, count: count)) }
        self.init(storage: storage, length: socklen_t(count))
    }

    /// The numeric IPv4 (`127.0.0.1`) or IPv6 (`::1`, no brackets) address `host` and `port`; nil
    /// if `host` is neither (names are not resolved). The C function is `inet_pton`.
    public init?(numericHost host: String, port: UInt16) {
        var storage = sockaddr_storage()
        let length: socklen_t? = withUnsafeMutableBytes(of: &storage) { raw in
            let v4 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in.self)
            if inet_pton(AF_INET, host, &v4.pointee.sin_addr) == 1 {
                v4.pointee.sin_family = sa_family_t(AF_INET)
                return socklen_t(MemoryLayout<sockaddr_in>.size)
            }
            let v6 = raw.baseAddress!.assumingMemoryBound(to: sockaddr_in6.self)
            guard inet_pton(AF_INET6, host, &v6.pointee.sin6_addr) == 1 else { return nil }
            v6.pointee.sin6_family = sa_family_t(AF_INET6)
            return socklen_t(MemoryLayout<sockaddr_in6>.size)
        }
        guard let length else { return nil }
        self.init(storage: storage, length: length)
        self.port = port
    }

    /// Whether it is an IPv6 address (`AF_INET6`).
    public var isIPv6: Bool { storage.ss_family == sa_family_t(AF_INET6) }

    /// The port, host order (the same place in `sockaddr_in` and `sockaddr_in6`).
    public var port: UInt16 {
        get { withUnsafeBytes(of: storage) { UInt16(bigEndian: $0.load(fromByteOffset: 2, as: UInt16.self)) } }
        set { withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: newValue.bigEndian, toByteOffset: 2, as: UInt16.self) } }
    }

    /// The address alone, as `inet_ntop` writes it: `127.0.0.1`, `::1`.
    public var host: String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        withUnsafeBytes(of: storage) { raw in
            let offset = isIPv6 ? MemoryLayout<sockaddr_in6>.offset(of: \.sin6_addr)!
                : MemoryLayout<sockaddr_in>.offset(of: \.sin_addr)!
            _ = inet_ntop(isIPv6 ? AF_INET6 : AF_INET, raw.baseAddress! + offset, &text, socklen_t(text.count))
        }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// `127.0.0.1:53` or `[::1]:53`.
    public var description: String { isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)" }

    /// Calls `body` with the address as a `sockaddr` and its length.
    public func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        withUnsafeBytes(of: storage) { body($0.baseAddress!.assumingMemoryBound(to: sockaddr.self), length) }
    }
}
