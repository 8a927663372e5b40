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
    /// Any other type (or a known type the caller wants raw): the RDATA bytes, with the names of a
    /// type whose layout is known decompressed (never a compression pointer into some packet).
    case unknown([UInt8])
}

extension DNSRecordData {
    /// The type this data is decoded for; nil for `.unknown`.
    public var impliedType: DNSType? {
        switch self {
        case .a: return .a
        case .aaaa: return .aaaa
        case .cname: return .cname
        case .ns: return .ns
        case .ptr: return .ptr
        case .mx: return .mx
        case .txt: return .txt
        case .srv: return .srv
        case .soa: return .soa
        case .caa: return .caa
        case .unknown: return nil
        }
    }
}
