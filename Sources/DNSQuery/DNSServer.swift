import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// A DNS server's address: an IPv4 or IPv6 address and a UDP/TCP port (53 by default).
///
/// Parsed from `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353` (the forms of `--server` and of
/// resolv.conf's `nameserver`). Windows counterpart: an entry of `DNS_ADDR_ARRAY`.
public struct DNSServer: Hashable, Sendable, CustomStringConvertible {
    /// The address family's raw bytes: 4 (IPv4) or 16 (IPv6) bytes, network order.
    public var addressBytes: [UInt8] { withAddressBytes { Array($0) } }
    /// The port, host order.
    public let port: UInt16
    /// The address bytes in place (the first `addressCount` of 16), so that a server is a plain value:
    /// every result carries one, and copying it then needs no reference counting.
    private let address: (UInt64, UInt64)
    private let addressCount: UInt8

    private init(bytes: [UInt8], port: UInt16) {
        var address: (UInt64, UInt64) = (0, 0)
        withUnsafeMutableBytes(of: &address) { $0.copyBytes(from: bytes.prefix(16)) }
        self.address = address
        addressCount = UInt8(min(bytes.count, 16))
        self.port = port
    }

    /// Runs `body` over the address bytes (4 or 16).
    private func withAddressBytes<T>(_ body: (UnsafeRawBufferPointer) -> T) -> T {
        withUnsafeBytes(of: address) { body(UnsafeRawBufferPointer(rebasing: $0[..<Int(addressCount)])) }
    }

    public static func == (a: DNSServer, b: DNSServer) -> Bool {
        a.address == b.address && a.addressCount == b.addressCount && a.port == b.port
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(address.0)
        hasher.combine(address.1)
        hasher.combine(addressCount)
        hasher.combine(port)
    }

    /// Parses `HOST[:PORT]` or `[V6]:PORT`; nil if it is not a numeric address (see
    /// `init(parsing:defaultPort:)` for the reason).
    public init?(_ text: String, defaultPort: UInt16 = 53) {
        guard let server = try? DNSServer(parsing: text, defaultPort: defaultPort) else { return nil }
        self = server
    }

    /// Parses `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]` or `[::1]:5353`: a numeric address (host
    /// names are not resolved) and a port 1…65535, `defaultPort` when none is given. A bare IPv6
    /// address that could also be read as an address and a port (`::1:53`: `[::1]:53`, or the
    /// address `::1:53`?) is refused with the two bracketed forms to choose from.
    /// - Throws: `DNSServerParseError` saying what was expected and at which offset.
    public init(parsing text: String, defaultPort: UInt16 = 53) throws(DNSServerParseError) {
        try self.init(parsing: text, defaultPort: defaultPort, portAllowed: true)
    }

    /// Parses a source address to bind to: `127.0.0.2`, `::1` or `[::1]`, with no port (the
    /// kernel picks one); its `port` is 0.
    /// - Throws: `DNSServerParseError`, also for a port.
    public init(parsingSource text: String) throws(DNSServerParseError) {
        try self.init(parsing: text, defaultPort: 0, portAllowed: false)
    }

    private init(parsing text: String, defaultPort: UInt16, portAllowed: Bool) throws(DNSServerParseError) {
        func fail(_ offset: Int, _ reason: String) -> DNSServerParseError {
            DNSServerParseError(text: text, position: offset, reason: reason)
        }
        guard !text.isEmpty else { throw fail(0, "expected an address, HOST[:PORT] or [IPv6]:PORT") }
        var host = Substring(text)
        var port = defaultPort
        var portText: Substring?
        var portOffset = 0
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { throw fail(text.unicodeScalars.count, "expected ']' after the IPv6 address") }
            let rest = host[host.index(after: close)...]
            host = host[host.index(after: host.startIndex)..<close]
            portOffset = text.unicodeScalars.distance(from: text.startIndex, to: close) + 1
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { throw fail(portOffset, "expected ':PORT' after ']'") }
                portText = rest.dropFirst()
                portOffset += 1
            }
        } else if host.filter({ $0 == ":" }).count == 1, let colon = host.firstIndex(of: ":") {
            portText = host[host.index(after: colon)...]
            portOffset = text.unicodeScalars.distance(from: text.startIndex, to: colon) + 1
            host = host[..<colon]
        }
        if let portText {
            guard portAllowed else { throw fail(portOffset, "a source address takes no port (the kernel picks one)") }
            guard !portText.isEmpty, portText.allSatisfy({ $0.isASCII && $0.isNumber }) else {
                throw fail(portOffset, "expected a port number after ':', not \"\(portText)\"")
            }
            guard let value = UInt16(portText), value > 0 else {
                throw fail(portOffset, "port \(portText) is out of range (1…65535)")
            }
            port = value
        }
        if let bytes = Self.parse(String(host), family: AF_INET, size: 4)
            ?? Self.parse(String(host), family: AF_INET6, size: 16)
        {
            if portAllowed && !text.hasPrefix("["), let colon = host.lastIndex(of: ":"),
                case let last = host[host.index(after: colon)...], !last.isEmpty, last.allSatisfy(\.isASCIIDigit),
                case let rest = String(host[..<colon]), rest != "::", rest != ":",
                Self.parse(rest, family: AF_INET6, size: 16) != nil
            {
                throw fail(colon.utf16Offset(in: host), "\"\(host)\" is ambiguous: write [\(rest)]:\(last) for port "
                    + "\(last), or [\(host)] for the address \(host)")
            }
            self.init(bytes: bytes, port: port)
            return
        }
        let hostOffset = text.hasPrefix("[") ? 1 : 0
        if host.isEmpty { throw fail(hostOffset, "expected an address before the port") }
        if host.contains(where: { $0.isLetter && !$0.isHexDigit }) || (!host.contains(":") && host.contains { $0.isLetter }) {
            throw fail(hostOffset, "\"\(host)\" is not a numeric IPv4 or IPv6 address (host names are not resolved)")
        }
        throw fail(hostOffset, "\"\(host)\" is not a valid IPv4 or IPv6 address")
    }

    /// The IPv4 server `a.b.c.d:port`.
    public init(ipv4 a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8, port: UInt16 = 53) {
        self.init(bytes: [a, b, c, d], port: port)
    }

    private static func parse(_ host: String, family: Int32, size: Int) -> [UInt8]? {
        var bytes = [UInt8](repeating: 0, count: 16)
        let ok = bytes.withUnsafeMutableBytes { inet_pton(family, host, $0.baseAddress) } == 1
        return ok ? Array(bytes.prefix(size)) : nil
    }

    /// Whether the address is IPv6.
    public var isIPv6: Bool { addressCount == 16 }

    /// `1.2.3.4:53` or `[::1]:53`, as dig prints the server.
    public var description: String {
        var text = [CChar](repeating: 0, count: 64)
        let family = isIPv6 ? AF_INET6 : AF_INET
        _ = withAddressBytes { inet_ntop(family, $0.baseAddress, &text, 64) }
        let host = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return isIPv6 ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// This address as the system layer takes it, to bind or connect to.
    package var socketAddress: DatagramAddress { withSockaddr { DatagramAddress(copying: $0, length: $1) } }

    /// Calls `body` with this address as a `sockaddr` and its length.
    func withSockaddr<T>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T {
        if isIPv6 {
            var address = sockaddr_in6()
            address.sin6_family = sa_family_t(AF_INET6)
            address.sin6_port = port.bigEndian
            withAddressBytes { bytes in withUnsafeMutableBytes(of: &address.sin6_addr) { $0.copyMemory(from: bytes) } }
            return Self.rebound(&address, body)
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        withAddressBytes { bytes in withUnsafeMutableBytes(of: &address.sin_addr) { $0.copyMemory(from: bytes) } }
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

/// Why a server address text was refused, and where.
public struct DNSServerParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text as given.
    public var text: String
    /// 0-based offset, in Unicode scalars, of the part that is wrong.
    public var position: Int
    /// What was expected, in words.
    public var reason: String

    /// Makes an error.
    public init(text: String, position: Int, reason: String) {
        self.text = text
        self.position = position
        self.reason = reason
    }

    /// `server "localhost:53": "localhost" is not a numeric IPv4 or IPv6 address (…)`.
    public var description: String { "server \"\(text)\": \(reason)" }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
