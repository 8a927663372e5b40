#if canImport(Glibc)
import Glibc
#endif

/// The responder's sockets, made and bound once.
enum ResponderSockets {
    /// An IPv4 address and port.
    static func address(_ host: String, port: UInt16) throws(DNSResponderError) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw DNSResponderError("address", detail: "\(host) is not an IPv4 address")
        }
        return address
    }

    /// A non-blocking socket of `type`, bound to `address` (with `SO_REUSEPORT`, so that every UDP
    /// thread has a socket of its own on the same port), with `bufferBytes` socket buffers.
    static func bound(_ type: Int32, to address: sockaddr_in, bufferBytes: Int) throws(DNSResponderError) -> Int32 {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw DNSResponderError("socket", errno: errno) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if bufferBytes > 0 {
            var size = Int32(clamping: bufferBytes)
            // As root the FORCE forms pass the sysctl limits; otherwise the plain ones cap there.
            for (forced, plain) in [(SO_RCVBUFFORCE, SO_RCVBUF), (SO_SNDBUFFORCE, SO_SNDBUF)]
            where setsockopt(fd, SOL_SOCKET, forced, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                setsockopt(fd, SOL_SOCKET, plain, &size, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        var bound = address
        let rc = withUnsafePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            let code = errno
            close(fd)
            throw DNSResponderError("bind", errno: code, detail: "port \(UInt16(bigEndian: address.sin_port))")
        }
        return fd
    }

    /// Throws `EADDRINUSE` when a socket of `type` (of any process) holds `address`: a socket
    /// bound there without `SO_REUSEPORT` is refused by every holder, and closed at once.
    static func checkFree(_ type: Int32, address: sockaddr_in) throws(DNSResponderError) {
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { throw DNSResponderError("socket", errno: errno) }
        defer { close(fd) }
        var one: Int32 = 1
        // SO_REUSEADDR lets TCP pass a port left in TIME_WAIT, not one that is listened on.
        if type == Int32(SOCK_STREAM.rawValue) {
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var probe = address
        let rc = withUnsafePointer(to: &probe) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let code = errno
            let port = UInt16(bigEndian: address.sin_port)
            let what = type == Int32(SOCK_STREAM.rawValue) ? "TCP" : "UDP"
            throw DNSResponderError(
                "bind", errno: code,
                detail: code == EADDRINUSE
                    ? "\(what) port \(port) is held by another socket (set sharePort, or evq serve --share-port, to share it)"
                    : "\(what) port \(port)")
        }
    }

    /// The port a bound socket got (the kernel's choice when asked for 0).
    static func port(of fd: Int32) -> UInt16 {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return UInt16(bigEndian: address.sin_port)
    }
}
