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
