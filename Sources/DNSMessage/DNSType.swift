/// A resource record type (RFC 1035 TYPE/QTYPE), any 16-bit value, named by its IANA mnemonic or
/// `TYPEnnn` (RFC 3597 section 5) both ways.
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

    /// Every type IANA registers ("Resource Record (RR) TYPEs", dns-parameters), by number. ANY is
    /// QTYPE 255, registered as `*` (both spellings are read).
    static let registered: [(UInt16, String)] = [
        (1, "A"), (2, "NS"), (3, "MD"), (4, "MF"), (5, "CNAME"), (6, "SOA"), (7, "MB"), (8, "MG"), (9, "MR"),
        (10, "NULL"), (11, "WKS"), (12, "PTR"), (13, "HINFO"), (14, "MINFO"), (15, "MX"), (16, "TXT"), (17, "RP"),
        (18, "AFSDB"), (19, "X25"), (20, "ISDN"), (21, "RT"), (22, "NSAP"), (23, "NSAP-PTR"), (24, "SIG"),
        (25, "KEY"), (26, "PX"), (27, "GPOS"), (28, "AAAA"), (29, "LOC"), (30, "NXT"), (31, "EID"), (32, "NIMLOC"),
        (33, "SRV"), (34, "ATMA"), (35, "NAPTR"), (36, "KX"), (37, "CERT"), (38, "A6"), (39, "DNAME"), (40, "SINK"),
        (41, "OPT"), (42, "APL"), (43, "DS"), (44, "SSHFP"), (45, "IPSECKEY"), (46, "RRSIG"), (47, "NSEC"),
        (48, "DNSKEY"), (49, "DHCID"), (50, "NSEC3"), (51, "NSEC3PARAM"), (52, "TLSA"), (53, "SMIMEA"),
        (55, "HIP"), (56, "NINFO"), (57, "RKEY"), (58, "TALINK"), (59, "CDS"), (60, "CDNSKEY"), (61, "OPENPGPKEY"),
        (62, "CSYNC"), (63, "ZONEMD"), (64, "SVCB"), (65, "HTTPS"), (66, "DSYNC"), (67, "HHIT"), (68, "BRID"),
        (99, "SPF"), (100, "UINFO"), (101, "UID"), (102, "GID"), (103, "UNSPEC"), (104, "NID"), (105, "L32"),
        (106, "L64"), (107, "LP"), (108, "EUI48"), (109, "EUI64"), (128, "NXNAME"), (249, "TKEY"), (250, "TSIG"),
        (251, "IXFR"), (252, "AXFR"), (253, "MAILB"), (254, "MAILA"), (255, "ANY"), (256, "URI"), (257, "CAA"),
        (258, "AVC"), (259, "DOA"), (260, "AMTRELAY"), (261, "RESINFO"), (262, "WALLET"), (263, "CLA"),
        (264, "IPN"), (32768, "TA"), (32769, "DLV"),
    ]
    private static let names: [UInt16: String] = Dictionary(uniqueKeysWithValues: registered)
    private static let numbers: [String: UInt16] = Dictionary(
        uniqueKeysWithValues: registered.map { ($0.1, $0.0) } + [("*", 255)])

    /// The IANA mnemonic (`"A"`, `"NSEC3PARAM"`), or the RFC 3597 form `"TYPE65534"` for a number
    /// without one.
    public var description: String { Self.names[rawValue] ?? "TYPE\(rawValue)" }

    /// Parses an IANA mnemonic (case-insensitive; `*` is ANY) or the RFC 3597 form `TYPEnnn`
    /// (0…65535, digits only); nil if it is neither.
    public init?(mnemonic: String) {
        let upper = mnemonic.uppercased()
        if let value = Self.numbers[upper] {
            self.init(value)
            return
        }
        let digits = upper.utf8.dropFirst(4)
        guard upper.hasPrefix("TYPE"), !digits.isEmpty, digits.count <= 5, digits.allSatisfy(PresentationText.isDigit),
              let value = UInt16(upper.dropFirst(4)) else { return nil }
        self.init(value)
    }
}
