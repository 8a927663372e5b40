#if canImport(Glibc)
import Glibc
#endif

/// A DNS server's address: an IPv4 or IPv6 address and a UDP/TCP port (53 by default).
///
/// Parsed from `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353` (the forms of `--server` and of
/// resolv.conf's `nameserver`). Windows counterpart: an entry of `DNS_ADDR_ARRAY`.
public struct DNSServer: Hashable, Sendable, CustomStringConvertible {
    /// The address family's raw bytes: 4 (IPv4) or 16 (IPv6) bytes, network order.
    public let addressBytes: [UInt8]
    /// The port, host order.
    public let port: UInt16

    /// Parses `HOST[:PORT]` or `[V6]:PORT`; nil if it is not a numeric address.
    public init?(_ text: String, defaultPort: UInt16 = 53) {
        var host = Substring(text)
        var port = defaultPort
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            if !rest.isEmpty {
                guard rest.hasPrefix(":"), let value = UInt16(rest.dropFirst()) else { return nil }
                port = value
            }
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            guard let value = UInt16(host[host.index(after: colon)...]) else { return nil }
            port = value
            host = host[..<colon]
        }
        if let v4 = Self.parse(String(host), family: AF_INET, size: 4) {
            addressBytes = v4
        } else if let v6 = Self.parse(String(host), family: AF_INET6, size: 16) {
            addressBytes = v6
        } else {
            return nil
        }
        self.port = port
    }

    /// The IPv4 server `a.b.c.d:port`.
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16 = 53) {
        addressBytes = [a, b, c, d]
        self.port = port
    }

    private static func parse(_ host: String, family: Int32, size: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: 16)
        let ok = bytes.withUnsafeMutableBytes { inet_pton(family, host, $0.baseAddress) } == 1
        return ok ? Array(bytes.prefix(size)) : nil
    }

    /// Whether the address is IPv6.
    public var isIPv6: Bool { addressBytes.count == 16 }

    /// `1.2.3.4:53` or `[::1]:53`, as dig prints the server.
    public var description: String {
        var text = [CChar](repeating: 0, count: 64)
        let family = isIPv6 ? AF_INET6 : AF_INET
        _ = addressBytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &text, 64) }
        let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// Calls `body` with this address as a `sockaddr` and its length.
    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        if isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyBytes(from: addressBytes) }
            return Self.rebound(&address, body)
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyBytes(from: addressBytes) }
        return Self.rebound(&address, body)
    }

    private static func rebound<Address, T>(
        _ address: inout Address, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T
    ) -> T {
        withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<Address>.size)) }
        }
    }
}
