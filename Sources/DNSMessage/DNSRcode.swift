/// A response code, 12 bits with the EDNS extension (RFC 6891), 4 bits without.
///
/// The named codes are inlinable constants: the engine compares every reply's code with several.
public struct DNSRcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The value (0...4095).
    public var rawValue: UInt16
    /// Wraps a value; only the low 12 bits are kept.
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }
    /// No error.
    @inlinable public static var noError: DNSRcode { DNSRcode(rawValue: 0) }
    /// The server could not interpret the query.
    @inlinable public static var formErr: DNSRcode { DNSRcode(rawValue: 1) }
    /// The server failed.
    @inlinable public static var servFail: DNSRcode { DNSRcode(rawValue: 2) }
    /// The name does not exist.
    @inlinable public static var nxDomain: DNSRcode { DNSRcode(rawValue: 3) }
    /// The kind of query is not implemented.
    @inlinable public static var notImp: DNSRcode { DNSRcode(rawValue: 4) }
    /// The server refused.
    @inlinable public static var refused: DNSRcode { DNSRcode(rawValue: 5) }
    /// EDNS version not supported (needs the extended bits).
    @inlinable public static var badVers: DNSRcode { DNSRcode(rawValue: 16) }

    /// dig's spelling: `NOERROR`, `NXDOMAIN`, …, else `RCODE<n>`.
    public var description: String {
        let names = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
                     "NXRRSET", "NOTAUTH", "NOTZONE"]
        if Int(rawValue) < names.count { return names[Int(rawValue)] }
        return rawValue == 16 ? "BADVERS" : "RCODE\(rawValue)"
    }
}
