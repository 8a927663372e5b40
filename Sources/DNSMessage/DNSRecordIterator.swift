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
