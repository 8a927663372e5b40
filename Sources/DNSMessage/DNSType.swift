/// A resource record type (RFC 1035 TYPE/QTYPE), any 16-bit value; names for the ones this module knows.
public struct DNSType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 16-bit wire value.
    public var rawValue: UInt16
    /// Wraps any 16-bit value.
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// Wraps any 16-bit value.
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// IPv4 address.
    public static let a = DNSType(1)
    /// Authoritative name server.
    public static let ns = DNSType(2)
    /// Canonical name.
    public static let cname = DNSType(5)
    /// Start of authority.
    public static let soa = DNSType(6)
    /// Domain name pointer.
    public static let ptr = DNSType(12)
    /// Mail exchange.
    public static let mx = DNSType(15)
    /// Text strings.
    public static let txt = DNSType(16)
    /// IPv6 address.
    public static let aaaa = DNSType(28)
    /// Service locator.
    public static let srv = DNSType(33)
    /// EDNS(0) pseudo-record.
    public static let opt = DNSType(41)
    /// QTYPE `*`.
    public static let any = DNSType(255)
    /// Certification authority authorization.
    public static let caa = DNSType(257)

    static let mnemonics: [(DNSType, String)] = [
        (.a, "A"), (.ns, "NS"), (.cname, "CNAME"), (.soa, "SOA"), (.ptr, "PTR"), (.mx, "MX"), (.txt, "TXT"),
        (.aaaa, "AAAA"), (.srv, "SRV"), (.opt, "OPT"), (.any, "ANY"), (.caa, "CAA"),
    ]

    /// The mnemonic (`"A"`), or the RFC 3597 form `"TYPE65280"` for types without one.
    public var description: String {
        for (type, name) in Self.mnemonics where type == self { return name }
        return "TYPE\(rawValue)"
    }

    /// Parses a mnemonic (case-insensitive) or `TYPEnnn`; nil if it is neither.
    public init?(mnemonic: String) {
        let upper = mnemonic.uppercased()
        for (type, name) in Self.mnemonics where name == upper {
            self = type
            return
        }
        guard upper.hasPrefix("TYPE"), let value = UInt16(upper.dropFirst(4)) else { return nil }
        self.init(value)
    }
}
