/// The operation code of a message (RFC 1035 4.1.1), 4 bits.
public struct DNSOpcode: RawRepresentable, Hashable, Sendable {
    /// The 4-bit value (0...15).
    public var rawValue: UInt8
    /// Wraps a value; only the low 4 bits are kept.
    public init(rawValue: UInt8) { self.rawValue = rawValue & 0x0F }
    /// A standard query.
    public static let query = DNSOpcode(rawValue: 0)
    /// A server status request.
    public static let status = DNSOpcode(rawValue: 2)
    /// A NOTIFY (RFC 1996).
    public static let notify = DNSOpcode(rawValue: 4)
    /// An UPDATE (RFC 2136).
    public static let update = DNSOpcode(rawValue: 5)
}
