/// The start-of-authority fields (RFC 1035 3.3.13).
public struct DNSSOA: Hashable, Sendable {
    /// The primary name server.
    public var mname: DNSName
    /// The responsible mailbox, as a name.
    public var rname: DNSName
    /// The zone serial.
    public var serial: UInt32
    /// Secondary refresh interval, seconds.
    public var refresh: UInt32
    /// Secondary retry interval, seconds.
    public var retry: UInt32
    /// Secondary expiry, seconds.
    public var expire: UInt32
    /// Negative-caching TTL (RFC 2308), seconds.
    public var minimum: UInt32

    /// Creates the SOA fields.
    public init(mname: DNSName, rname: DNSName, serial: UInt32, refresh: UInt32, retry: UInt32,
                expire: UInt32, minimum: UInt32) {
        self.mname = mname
        self.rname = rname
        self.serial = serial
        self.refresh = refresh
        self.retry = retry
        self.expire = expire
        self.minimum = minimum
    }
}

/// The data of a resource record, decoded for the types this module knows and raw for any other
/// (RFC 3597). The record's type is kept by `DNSResourceRecord`; `.unknown` is valid for any type.
public enum DNSRecordData: Hashable, Sendable {
    /// A: an IPv4 address.
    case a(DNSIPv4Address)
    /// AAAA: an IPv6 address.
    case aaaa(DNSIPv6Address)
    /// CNAME: the canonical name.
    case cname(DNSName)
    /// NS: a name server.
    case ns(DNSName)
    /// PTR: the pointed-to name.
    case ptr(DNSName)
    /// MX: preference and exchange.
    case mx(preference: UInt16, exchange: DNSName)
    /// TXT: one or more character-strings, each at most 255 bytes.
    case txt([[UInt8]])
    /// SRV: priority, weight, port and target (RFC 2782).
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: DNSName)
    /// SOA: the start of authority.
    case soa(DNSSOA)
    /// CAA: flags, tag and value (RFC 8659).
    case caa(flags: UInt8, tag: [UInt8], value: [UInt8])
    /// Any other type (or a known type the caller wants raw): the RDATA bytes as they were.
    case unknown([UInt8])
}
