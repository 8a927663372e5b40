/// A response code, 12 bits with the EDNS extension (RFC 6891), 4 bits without.
public struct DNSRcode: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The value (0...4095).
    public var rawValue: UInt16
    /// Wraps a value; only the low 12 bits are kept.
    public init(rawValue: UInt16) { self.rawValue = rawValue & 0x0FFF }
    /// No error.
    public static let noError = DNSRcode(rawValue: 0)
    /// The server could not interpret the query.
    public static let formErr = DNSRcode(rawValue: 1)
    /// The server failed.
    public static let servFail = DNSRcode(rawValue: 2)
    /// The name does not exist.
    public static let nxDomain = DNSRcode(rawValue: 3)
    /// The kind of query is not implemented.
    public static let notImp = DNSRcode(rawValue: 4)
    /// The server refused.
    public static let refused = DNSRcode(rawValue: 5)
    /// EDNS version not supported (needs the extended bits).
    public static let badVers = DNSRcode(rawValue: 16)

    /// dig's spelling: `NOERROR`, `NXDOMAIN`, …, else `RCODE<n>`.
    public var description: String {
        let names = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
                     "NXRRSET", "NOTAUTH", "NOTZONE"]
        if Int(rawValue) < names.count { return names[Int(rawValue)] }
        return rawValue == 16 ? "BADVERS" : "RCODE\(rawValue)"
    }
}
