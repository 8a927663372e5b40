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
