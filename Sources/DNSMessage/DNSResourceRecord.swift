/// A question: the name, type and class a query asks for.
public struct DNSQuestion: Hashable, Sendable {
    /// The name asked for, case as sent.
    public var name: DNSName
    /// The type asked for.
    public var type: DNSType
    /// The class asked for.
    public var `class`: DNSClass

    /// Creates a question (class IN unless given).
    public init(name: DNSName, type: DNSType, class: DNSClass = .in) {
        self.name = name
        self.type = type
        self.class = `class`
    }
}

/// A resource record of the answer, authority or additional section (OPT is kept in `DNSEDNS`).
public struct DNSResourceRecord: Hashable, Sendable {
    /// The owner name, case as received.
    public var name: DNSName
    /// The record type (authoritative even when `data` is `.unknown`).
    public var type: DNSType
    /// The class.
    public var `class`: DNSClass
    /// The time to live, seconds.
    public var ttl: UInt32
    /// The decoded data.
    public var data: DNSRecordData

    /// Creates a record; `type` is derived from `data` unless the data is `.unknown`.
    public init(name: DNSName, type: DNSType? = nil, class: DNSClass = .in, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.type = type ?? data.impliedType ?? DNSType(0)
        self.class = `class`
        self.ttl = ttl
        self.data = data
    }
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

/// One EDNS option (RFC 6891), kept raw.
public struct DNSEDNSOption: Hashable, Sendable {
    /// The option code.
    public var code: UInt16
    /// The option data.
    public var data: [UInt8]
    /// Creates an option.
    public init(code: UInt16, data: [UInt8]) {
        self.code = code
        self.data = data
    }
}

/// The EDNS(0) OPT pseudo-record of a message (RFC 6891).
public struct DNSEDNS: Hashable, Sendable {
    /// The sender's UDP payload size (the OPT record's class).
    public var udpPayloadSize: UInt16
    /// The upper 8 bits of the 12-bit response code.
    public var extendedRcode: UInt8
    /// The EDNS version.
    public var version: UInt8
    /// DO: DNSSEC answers OK.
    public var dnssecOK: Bool
    /// The other 15 flag bits (Z), kept as received.
    public var zFlags: UInt16
    /// The options, raw, in order.
    public var options: [DNSEDNSOption]

    /// Creates EDNS(0) data (version 0, no options unless given).
    public init(udpPayloadSize: UInt16 = 1232, dnssecOK: Bool = false, extendedRcode: UInt8 = 0,
                version: UInt8 = 0, zFlags: UInt16 = 0, options: [DNSEDNSOption] = []) {
        self.udpPayloadSize = udpPayloadSize
        self.extendedRcode = extendedRcode
        self.version = version
        self.dnssecOK = dnssecOK
        self.zFlags = zFlags & 0x7FFF
        self.options = options
    }

    /// The OPT record's TTL field: extended rcode, version, DO and Z.
    var ttlField: UInt32 {
        UInt32(extendedRcode) << 24 | UInt32(version) << 16 | (dnssecOK ? 0x8000 : 0) | UInt32(zFlags & 0x7FFF)
    }
}
