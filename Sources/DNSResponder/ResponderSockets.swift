import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// The responder's sockets, made and bound once, IPv4 or IPv6 (through the system layer's `Socket`).
enum ResponderSockets {
    /// The numeric IPv4 or IPv6 address `host` (`127.0.0.1`, `::1`; `[::1]` is taken too) and `port`.
    static func address(_ host: String, port: UInt16) throws(DNSResponderError) -> DatagramAddress {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        guard let address = DatagramAddress(numericHost: bare, port: port) else {
            throw DNSResponderError("address", detail: "\(host) is not a numeric IPv4 or IPv6 address")
        }
        return address
    }

    /// A non-blocking socket of `type`, bound to `address` (with `SO_REUSEPORT`, so that every UDP
    /// thread has a socket of its own on the same port), with `bufferBytes` socket buffers.
    static func bound(_ type: Int32, to address: DatagramAddress, bufferBytes: Int) throws(DNSResponderError) -> Int32 {
        do {
            return try Socket.bound(address, stream: type == Int32(SOCK_STREAM.rawValue), reusePort: true,
                                    bufferBytes: bufferBytes)
        } catch {
            throw DNSResponderError(error.call, errno: error.errno, detail: "\(address)")
        }
    }

    /// Throws `EADDRINUSE` when a socket of `type` (of any process) holds `address`: a socket
    /// bound there without `SO_REUSEPORT` is refused by every holder, and closed at once.
    static func checkFree(_ type: Int32, address: DatagramAddress) throws(DNSResponderError) {
        let stream = type == Int32(SOCK_STREAM.rawValue)
        do {
            // SO_REUSEADDR lets TCP pass a port left in TIME_WAIT, not one that is listened on.
            Socket.close(try Socket.bound(address, stream: stream, reusePort: false, reuseAddress: stream))
        } catch {
            let what = stream ? "TCP" : "UDP"
            throw DNSResponderError(
                error.call, errno: error.errno,
                detail: error.errno == EADDRINUSE
                    ? "\(what) port \(address.port) is held by another socket (set sharePort, or evq serve --share-port, to share it)"
                    : "\(what) \(address)")
        }
    }

    /// The port a bound socket got (the kernel's choice when asked for 0).
    static func port(of fd: Int32) -> UInt16 {
        Socket.localAddress(fd)?.port ?? 0
    }
}
