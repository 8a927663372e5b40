/// A record class (RFC 1035 CLASS/QCLASS), any 16-bit value.
public struct DNSClass: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The 16-bit wire value.
    public var rawValue: UInt16
    /// Wraps any 16-bit value.
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// Wraps any 16-bit value.
    public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    /// The Internet.
    public static let `in` = DNSClass(1)
    /// Chaos.
    public static let ch = DNSClass(3)
    /// Hesiod.
    public static let hs = DNSClass(4)
    /// QCLASS `*`.
    public static let any = DNSClass(255)

    /// `"IN"`, `"CH"`, `"HS"`, `"ANY"`, else the RFC 3597 form `"CLASS42"`.
    public var description: String {
        switch rawValue {
        case 1: return "IN"
        case 3: return "CH"
        case 4: return "HS"
        case 255: return "ANY"
        default: return "CLASS\(rawValue)"
        }
    }

    /// Parses `IN`, `CH`, `HS`, `ANY` (case-insensitive) or `CLASSnnn`; nil otherwise.
    public init?(mnemonic: String) {
        switch mnemonic.uppercased() {
        case "IN": self = .in
        case "CH": self = .ch
        case "HS": self = .hs
        case "ANY": self = .any
        case let upper where upper.hasPrefix("CLASS"):
            guard let value = UInt16(upper.dropFirst(5)) else { return nil }
            self.init(value)
        default: return nil
        }
    }
}
