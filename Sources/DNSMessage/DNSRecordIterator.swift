/// Walks the records of a `DNSMessageView` without allocating; each step checks the owner name fully
/// and that the fixed fields and RDATA lie within the packet.
public struct DNSRecordIterator {
    let bytes: UnsafeRawBufferPointer
    var offset: Int
    var remaining: (answer: Int, authority: Int, additional: Int)
    /// Whether the first question's name (at offset 12) was checked when the view was made: an owner
    /// name that is just a pointer to it (`C0 0C`, how most answers name their owner) is then not
    /// walked again.
    let questionChecked: Bool

    init(bytes: UnsafeRawBufferPointer, offset: Int, counts: (Int, Int, Int), questionChecked: Bool) {
        self.bytes = bytes
        self.offset = offset
        self.remaining = counts
        self.questionChecked = questionChecked
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
        let nameOffset = offset
        var reader = DNSWireReader(bytes, offset: try Self.ownerEnd(bytes, at: offset, questionChecked: questionChecked))
        let type = DNSType(try reader.u16())
        let classField = try reader.u16()
        let ttl = try reader.u32()
        let length = Int(try reader.u16())
        guard reader.offset + length <= bytes.count else { throw DNSParseError(.truncated, at: reader.offset) }
        offset = reader.offset + length
        return DNSRecordView(bytes: bytes, section: section, nameOffset: nameOffset, type: type,
                             classField: classField, ttl: ttl, rdataOffset: reader.offset, rdataLength: length)
    }

    /// Where the owner name of the record at `offset` ends. An owner that is just a pointer to the
    /// question name (`C0 0C`, how most answers name their owner) is valid as it stands when that name
    /// was checked (`questionChecked`), as is the root; any other is walked and checked in full.
    @inline(__always)
    static func ownerEnd(_ bytes: UnsafeRawBufferPointer, at offset: Int, questionChecked: Bool) throws(DNSParseError)
        -> Int
    {
        if questionChecked && offset + 2 <= bytes.count && bytes[offset] == 0xC0 && bytes[offset + 1] == 12 {
            return offset + 2
        }
        if offset < bytes.count && bytes[offset] == 0 { return offset + 1 }  // the root (an OPT record's owner)
        var reader = DNSWireReader(bytes, offset: offset)
        try reader.skipName()
        return reader.offset
    }
}
