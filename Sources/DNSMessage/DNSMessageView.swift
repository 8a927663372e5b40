/// A non-allocating, read-only view of a message in a caller's buffer, for the hot path: header
/// fields, the question check against a sent query, and record iteration, all without allocation.
///
/// Creating a view checks the header, that the counts can fit, and walks the question section;
/// records are checked as they are iterated. The buffer must outlive the view (it is not copied).
public struct DNSMessageView {
    /// The packet bytes.
    public let bytes: UnsafeRawBufferPointer
    /// Offset of the first answer record (just after the question section).
    public let answerOffset: Int

    /// Views `bytes` as a message.
    /// - Throws: `DNSParseError` if the header is short, the counts cannot fit, or a question is malformed.
    public init(_ bytes: UnsafeRawBufferPointer) throws(DNSParseError) {
        guard bytes.count >= 12 else { throw DNSParseError(.truncated, at: bytes.count) }
        self.bytes = bytes
        var reader = DNSWireReader(bytes, offset: 12)
        let qd = Self.u16(bytes, 4)
        try DNSMessage.checkCounts(qd: qd, an: Self.u16(bytes, 6), ns: Self.u16(bytes, 8), ar: Self.u16(bytes, 10),
                                   available: bytes.count - 12)
        for _ in 0..<qd {
            try reader.skipName()
            guard reader.offset + 4 <= bytes.count else { throw DNSParseError(.truncated, at: reader.offset) }
            reader.offset += 4
        }
        answerOffset = reader.offset
    }

    /// A view whose question section was checked by the caller and ends at `answerOffset`.
    private init(checked bytes: UnsafeRawBufferPointer, answerOffset: Int) {
        self.bytes = bytes
        self.answerOffset = answerOffset
    }

    /// `init(_:)` followed by `questionMatches(plainName:type:class:caseSensitive:)`, for a reply to
    /// a query that asked `plainName` (a whole uncompressed wire name, as `DNSName.wire` always is).
    /// Servers repeat the question as asked: when the reply's one question name is `plainName` byte
    /// for byte, that name is valid as it stands and is not walked again. The view, the errors thrown
    /// and the verdict are those of the two calls. Never allocates.
    package static func reply(_ bytes: UnsafeRawBufferPointer, askedName plainName: UnsafeRawBufferPointer,
                              type: DNSType, class: DNSClass, caseSensitive: Bool) throws(DNSParseError)
        -> (view: DNSMessageView, questionMatches: Bool)
    {
        let end = 12 + plainName.count
        guard bytes.count >= end + 4, u16(bytes, 4) == 1, bytesEqual(bytes, at: 12, plainName) else {
            // Not the name byte for byte: what `questionMatches(plainName:…)` does after its own
            // byte compare, which has just failed.
            let view = try DNSMessageView(bytes)
            return (view, view.questionCount == 1 && view.labelsMatch(name: plainName, type: type, class: `class`,
                                                                      caseSensitive: caseSensitive))
        }
        try DNSMessage.checkCounts(qd: 1, an: u16(bytes, 6), ns: u16(bytes, 8), ar: u16(bytes, 10),
                                   available: bytes.count - 12)
        let matches = u16(bytes, end) == type.rawValue && u16(bytes, end + 2) == `class`.rawValue
        return (DNSMessageView(checked: bytes, answerOffset: end + 4), matches)
    }

    @inline(__always)
    static func u16(_ bytes: UnsafeRawBufferPointer, _ offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    /// The transaction id.
    public var id: UInt16 { Self.u16(bytes, 0) }
    /// The 16-bit flags word.
    public var flags: UInt16 { Self.u16(bytes, 2) }
    /// The decoded header (id and flags).
    public var header: DNSHeader { DNSHeader(id: id, flags: flags) }
    /// QR: the message is a response.
    public var isResponse: Bool { flags & 0x8000 != 0 }
    /// TC: the message was truncated.
    public var isTruncated: Bool { flags & 0x0200 != 0 }
    /// The operation code (a reply repeats its query's: RFC 1035 section 4.1.1).
    public var opcode: DNSOpcode { DNSOpcode(rawValue: UInt8(truncatingIfNeeded: flags >> 11)) }
    /// The low 4 bits of the response code (the full code needs the OPT record: `DNSMessage.rcode`).
    public var rcodeLow: UInt8 { UInt8(flags & 0x000F) }
    /// The question count.
    public var questionCount: Int { Int(Self.u16(bytes, 4)) }
    /// The answer count.
    public var answerCount: Int { Int(Self.u16(bytes, 6)) }
    /// The authority count.
    public var authorityCount: Int { Int(Self.u16(bytes, 8)) }
    /// The additional count.
    public var additionalCount: Int { Int(Self.u16(bytes, 10)) }

    /// True if the message has exactly one question equal to (`name`, `type`, `class`).
    ///
    /// `name` is an uncompressed wire name (e.g. `DNSName.wire`, or the bytes of the sent query from
    /// offset 12). Letters compare case-insensitively unless `caseSensitive` (0x20 checking); other bytes exactly.
    /// Never allocates; a malformed name is simply no match.
    public func questionMatches(name: UnsafeRawBufferPointer, type: DNSType, class: DNSClass,
                                caseSensitive: Bool) -> Bool {
        guard Self.isPlainWireName(name) else {
            return questionCount == 1 && labelsMatch(name: name, type: type, class: `class`, caseSensitive: caseSensitive)
        }
        return questionMatches(plainName: name, type: type, class: `class`, caseSensitive: caseSensitive)
    }

    /// `questionMatches(name:type:class:caseSensitive:)` for a caller whose `plainName` is known to be a
    /// whole uncompressed wire name (labels of 1…63 bytes ending with the root label, at most 255
    /// bytes, as `DNSName.wire` always is), which is then not checked again.
    package func questionMatches(plainName name: UnsafeRawBufferPointer, type: DNSType, class: DNSClass,
                                 caseSensitive: Bool) -> Bool {
        guard questionCount == 1 else { return false }
        // Servers repeat the question as asked: when the reply's name is `name` byte for byte (which
        // has no compression pointer, so it is that name), only the type and class are left to check.
        let end = 12 + name.count
        if end + 4 <= bytes.count, Self.bytesEqual(bytes, at: 12, name) {
            return Self.u16(bytes, end) == type.rawValue && Self.u16(bytes, end + 2) == `class`.rawValue
        }
        return labelsMatch(name: name, type: type, class: `class`, caseSensitive: caseSensitive)
    }

    /// The question's name matched against `name` label by label (following compression), then its
    /// type and class.
    private func labelsMatch(name: UnsafeRawBufferPointer, type: DNSType, class: DNSClass,
                             caseSensitive: Bool) -> Bool {
        var walker = DNSNameWalker(bytes, at: 12, limit: bytes.count)
        var expected = 0
        do {
            while let label = try walker.next() {
                guard expected < name.count, Int(name[expected]) == label.count,
                      expected + 1 + label.count <= name.count else { return false }
                for index in 0..<label.count {
                    let got = bytes[label.start + index]
                    let want = name[expected + 1 + index]
                    if got != want && (caseSensitive || DNSName.lower(got) != DNSName.lower(want)) { return false }
                }
                expected += 1 + label.count
            }
        } catch {
            return false
        }
        guard expected + 1 == name.count, name[expected] == 0 else { return false }
        let fields = walker.endInPlace
        return Self.u16(bytes, fields) == type.rawValue && Self.u16(bytes, fields + 2) == `class`.rawValue
    }

    /// Whether `name` is a whole uncompressed wire name: labels of 1…63 bytes ending exactly with the
    /// root label, at most 255 bytes.
    private static func isPlainWireName(_ name: UnsafeRawBufferPointer) -> Bool {
        guard name.count <= 255 else { return false }
        var index = 0
        while index < name.count {
            let length = Int(name[index])
            if length == 0 { return index == name.count - 1 }
            guard length <= 63 else { return false }
            index += 1 + length
        }
        return false
    }

    /// Whether `bytes[offset...]` starts with `expected` (the caller checked the length), compared
    /// eight bytes at a time; the last eight overlap the ones before when the length is not a multiple.
    static func bytesEqual(_ bytes: UnsafeRawBufferPointer, at offset: Int,
                                   _ expected: UnsafeRawBufferPointer) -> Bool {
        let count = expected.count
        guard count >= 8 else {
            for index in 0..<count where bytes[offset + index] != expected[index] { return false }
            return true
        }
        func word(_ buffer: UnsafeRawBufferPointer, _ at: Int) -> UInt64 {
            buffer.loadUnaligned(fromByteOffset: at, as: UInt64.self)
        }
        var index = 0
        while index + 8 < count {
            guard word(bytes, offset + index) == word(expected, index) else { return false }
            index += 8
        }
        return word(bytes, offset + count - 8) == word(expected, count - 8)
    }

    /// `questionMatches` with a `DNSName`.
    public func questionMatches(name: DNSName, type: DNSType, class: DNSClass = .in,
                                caseSensitive: Bool = false) -> Bool {
        name.wire.withUnsafeBytes {
            questionMatches(name: $0, type: type, class: `class`, caseSensitive: caseSensitive)
        }
    }

    /// True if this message's single question matches the single question of `query` (a message this
    /// process sent, e.g. built by `DNSQueryBuilder`). Never allocates.
    public func questionMatches(query: DNSMessageView, caseSensitive: Bool = true) -> Bool {
        guard query.questionCount == 1, query.answerOffset >= 17 else { return false }
        let nameBytes = UnsafeRawBufferPointer(rebasing: query.bytes[12..<(query.answerOffset - 4)])
        let type = DNSType(Self.u16(query.bytes, query.answerOffset - 4))
        let rclass = DNSClass(Self.u16(query.bytes, query.answerOffset - 2))
        return questionMatches(name: nameBytes, type: type, class: rclass, caseSensitive: caseSensitive)
    }

    /// An iterator over every record after the question section (answer, authority, additional in order).
    public func records() -> DNSRecordIterator {
        DNSRecordIterator(bytes: bytes, offset: answerOffset, counts: (answerCount, authorityCount, additionalCount),
                          questionChecked: questionCount > 0)
    }

    /// Checks every record as `records()` would (each owner name, the fixed fields and the data
    /// length within the packet) in one pass that builds nothing per record, and returns the upper 8
    /// bits of the response code from the additional section's OPT record (0 without one; the last
    /// one counts if there are several). What a reply summary needs. Never allocates.
    /// - Throws: `DNSParseError` when a record is malformed or the packet ends before the counts do.
    public func checkRecords() throws(DNSParseError) -> UInt8 {
        try checkRecordsToEnd().extendedRcode
    }

    /// `checkRecords()`, also answering where the last record ends: bytes from `end` to the end of
    /// the buffer follow every record the counts announce (trailing bytes, which no section holds).
    /// Never allocates.
    /// - Throws: `DNSParseError` when a record is malformed or the packet ends before the counts do.
    public func checkRecordsToEnd() throws(DNSParseError) -> (extendedRcode: UInt8, end: Int) {
        let total = answerCount + authorityCount + additionalCount
        let firstAdditional = answerCount + authorityCount
        let questionChecked = questionCount > 0
        var offset = answerOffset
        var extendedRcode: UInt8 = 0
        for index in 0..<total {
            let fields = try DNSRecordIterator.ownerEnd(bytes, at: offset, questionChecked: questionChecked)
            // TYPE, CLASS, TTL and RDLENGTH: 10 bytes, then RDLENGTH bytes of data.
            guard fields + 10 <= bytes.count else {
                // Where the iterator's field-by-field reads stop: TYPE, CLASS, TTL or RDLENGTH.
                let at = fields + 2 > bytes.count ? fields : fields + 4 > bytes.count ? fields + 2
                    : fields + 8 > bytes.count ? fields + 4 : fields + 8
                throw DNSParseError(.truncated, at: at)
            }
            let end = fields + 10 + Int(Self.u16(bytes, fields + 8))
            guard end <= bytes.count else { throw DNSParseError(.truncated, at: fields + 10) }
            if index >= firstAdditional && Self.u16(bytes, fields) == DNSType.opt.rawValue {
                extendedRcode = bytes[fields + 4]  // the TTL field's first byte
            }
            offset = end
        }
        return (extendedRcode, offset)
    }
}
