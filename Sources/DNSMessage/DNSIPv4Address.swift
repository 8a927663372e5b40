/// An IPv4 address as its four bytes in network order (the A record's data).
public struct DNSIPv4Address: Hashable, Sendable, CustomStringConvertible {
    /// The address, most significant byte first (192.0.2.1 is 0xC000_0201).
    public var value: UInt32
    /// Wraps a host-order value whose top byte is the first octet.
    public init(_ value: UInt32) { self.value = value }
    /// Builds an address from its four octets.
    public init(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) {
        value = UInt32(a) << 24 | UInt32(b) << 16 | UInt32(c) << 8 | UInt32(d)
    }

    /// The four octets in order.
    public var bytes: [UInt8] { [UInt8(value >> 24), UInt8(truncatingIfNeeded: value >> 16),
                                 UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)] }

    /// Dotted quad, `"192.0.2.1"`.
    public var description: String { bytes.map(String.init).joined(separator: ".") }

    /// Parses a dotted quad of four decimal octets; nil otherwise.
    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard (1...3).contains(part.count), part.utf8.allSatisfy(PresentationText.isDigit),
                  let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        self.value = value
    }
}
