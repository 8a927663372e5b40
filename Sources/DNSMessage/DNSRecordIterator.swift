/// The section a record belongs to.
public enum DNSSection: Sendable, Hashable {
    /// The answer section.
    case answer
    /// The authority section.
    case authority
    /// The additional section.
    case additional
}

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

/// Walks the records of a `DNSMessageView` without allocating; each step checks the owner name fully
/// and that the fixed fields and RDATA lie within the packet.
public struct DNSRecordIterator {
    let bytes: UnsafeRawBufferPointer
    var offset: Int
    var remaining: (answer: Int, authority: Int, additional: Int)

    init(bytes: UnsafeRawBufferPointer, offset: Int, counts: (Int, Int, Int)) {
        self.bytes = bytes
        self.offset = offset
        self.remaining = counts
    }

    /// The next record, or nil when every counted record was seen.
    /// - Throws: `DNSParseError` when a record is malformed or the packet ends before the counts do.
    public mutating func next() throws(DNSParseError) -> DNSRecordView? {
        let section: DNSSection
        if remaining.answer > 0 {
            remaining.answer -= 1
            section = .answer
        } else if remaining.authority > 0 {
            remaining.authority -= 1
            section = .authority
        } else if remaining.additional > 0 {
            remaining.additional -= 1
            section = .additional
        } else {
            return nil
        }
        var reader = DNSWireReader(bytes, offset: offset)
        let nameOffset = offset
        try reader.skipName()
        let type = DNSType(try reader.u16())
        let classField = try reader.u16()
        let ttl = try reader.u32()
        let length = Int(try reader.u16())
        guard reader.offset + length <= bytes.count else { throw DNSParseError(.truncated, at: reader.offset) }
        offset = reader.offset + length
        return DNSRecordView(bytes: bytes, section: section, nameOffset: nameOffset, type: type,
                             classField: classField, ttl: ttl, rdataOffset: reader.offset, rdataLength: length)
    }
}
