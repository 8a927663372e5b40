/// One record seen through a `DNSMessageView`: the fields decoded, RDATA located, nothing copied.
public struct DNSRecordView {
    /// The packet bytes.
    public let bytes: UnsafeRawBufferPointer
    /// The section the record is in.
    public let section: DNSSection
    /// Offset of the owner name (possibly a pointer).
    public let nameOffset: Int
    /// The record type.
    public let type: DNSType
    /// The class field (the UDP size for OPT).
    public let classField: UInt16
    /// The TTL field.
    public let ttl: UInt32
    /// Offset of the RDATA.
    public let rdataOffset: Int
    /// Length of the RDATA (checked to lie within the packet).
    public let rdataLength: Int

    /// The A address if this is a 4-byte A record.
    public var ipv4Address: DNSIPv4Address? {
        guard type == .a, rdataLength == 4 else { return nil }
        let o = rdataOffset
        return DNSIPv4Address(bytes[o], bytes[o + 1], bytes[o + 2], bytes[o + 3])
    }

    /// The RDATA as a raw slice of the packet.
    public var rdata: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[rdataOffset..<(rdataOffset + rdataLength)])
    }

    /// Decodes this record into a value (allocates).
    public func decoded() throws(DNSParseError) -> DNSResourceRecord {
        var reader = DNSWireReader(bytes, offset: nameOffset)
        let name = try reader.name()
        reader.offset = rdataOffset
        let data = try DNSRecordData.parse(type: type, length: rdataLength, reader: &reader)
        return DNSResourceRecord(name: name, type: type, class: DNSClass(classField), ttl: ttl, data: data)
    }
}
