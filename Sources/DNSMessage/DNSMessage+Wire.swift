extension DNSMessage {
    /// The smallest wire size of a question (root name, type, class) and of a record (plus TTL, RDLENGTH).
    static let minimumQuestionSize = 5
    static let minimumRecordSize = 11

    /// Parses a message from its wire bytes.
    ///
    /// Guarantees: every read bounds-checked; pointers only strictly backwards with bounded hops; names
    /// ≤ 255 bytes; counts that promise more than the packet can hold rejected before any allocation;
    /// at most one OPT record, owned by the root, in the additional section. Bytes after the last record
    /// are ignored here; `DNSMessageView.checkRecordsToEnd()` says where the records end.
    /// - Throws: `DNSParseError` with the reason and the byte offset.
    public init(parsing bytes: UnsafeRawBufferPointer) throws(DNSParseError) {
        var reader = DNSWireReader(bytes)
        let id = try reader.u16()
        let flags = try reader.u16()
        let counts = (try reader.u16(), try reader.u16(), try reader.u16(), try reader.u16())
        try Self.checkCounts(qd: counts.0, an: counts.1, ns: counts.2, ar: counts.3, available: bytes.count - 12)
        var message = DNSMessage(header: DNSHeader(id: id, flags: flags))
        message.questions.reserveCapacity(Int(counts.0))
        for _ in 0..<counts.0 {
            let name = try reader.name()
            message.questions.append(DNSQuestion(name: name, type: DNSType(try reader.u16()),
                                                 class: DNSClass(try reader.u16())))
        }
        message.answers = try Self.parseSection(count: counts.1, reader: &reader, edns: nil)
        message.authorities = try Self.parseSection(count: counts.2, reader: &reader, edns: nil)
        message.additionals = try Self.parseSection(count: counts.3, reader: &reader, edns: &message.edns)
        self = message
    }

    /// Parses a message from a byte array; see `init(parsing:)` for the guarantees.
    public init(parsing bytes: [UInt8]) throws(DNSParseError) {
        let result: Result<DNSMessage, DNSParseError> = bytes.withUnsafeBytes { buffer in
            do throws(DNSParseError) { return .success(try DNSMessage(parsing: buffer)) } catch {
                return .failure(error)
            }
        }
        self = try result.get()
    }

    /// Rejects counts whose minimal encoding would not fit in `available` bytes (e.g. 65,535 questions
    /// promised by a 40-byte packet), so no section reserves memory the packet cannot back.
    static func checkCounts(qd: UInt16, an: UInt16, ns: UInt16, ar: UInt16, available: Int) throws(DNSParseError) {
        let needed = Int(qd) * minimumQuestionSize + (Int(an) + Int(ns) + Int(ar)) * minimumRecordSize
        guard needed <= available else { throw DNSParseError(.countsExceedPacket, at: 4) }
    }

    private static func parseSection(
        count: UInt16, reader: inout DNSWireReader, edns: UnsafeMutablePointer<DNSEDNS?>?
    ) throws(DNSParseError) -> [DNSResourceRecord] {
        var records: [DNSResourceRecord] = []
        records.reserveCapacity(Int(count))
        for _ in 0..<count {
            let recordStart = reader.offset
            let name = try reader.name()
            let type = DNSType(try reader.u16())
            let rclass = try reader.u16()
            let ttl = try reader.u32()
            let length = Int(try reader.u16())
            if type == .opt {
                guard let edns, edns.pointee == nil, name.isRoot else {
                    throw DNSParseError(.badOPT, at: recordStart)
                }
                edns.pointee = try parseOPT(size: rclass, ttl: ttl, length: length, reader: &reader)
                continue
            }
            let data = try DNSRecordData.parse(type: type, length: length, reader: &reader)
            records.append(DNSResourceRecord(name: name, type: type, class: DNSClass(rclass), ttl: ttl, data: data))
        }
        return records
    }

    private static func parseOPT(
        size: UInt16, ttl: UInt32, length: Int, reader: inout DNSWireReader
    ) throws(DNSParseError) -> DNSEDNS {
        let end = reader.offset + length
        guard end <= reader.bytes.count else { throw DNSParseError(.truncated, at: reader.offset) }
        var options: [DNSEDNSOption] = []
        while reader.offset < end {
            let code = try reader.u16(limit: end)
            let optionLength = Int(try reader.u16(limit: end))
            options.append(DNSEDNSOption(code: code, data: try reader.bytes(optionLength, limit: end)))
        }
        return DNSEDNS(udpPayloadSize: size, dnssecOK: ttl & 0x8000 != 0, extendedRcode: UInt8(ttl >> 24),
                       version: UInt8(truncatingIfNeeded: ttl >> 16), zFlags: UInt16(truncatingIfNeeded: ttl),
                       options: options)
    }

    /// The wire form, names compressed, the OPT record (if `edns` is set) last in the additional section.
    /// Counts above 65,535 and RDATA above 65,535 bytes are the caller's error and are cut to fit.
    public func serialized() -> [UInt8] {
        var writer = DNSWireWriter()
        writer.u16(header.id)
        writer.u16(header.flags)
        writer.u16(UInt16(clamping: questions.count))
        writer.u16(UInt16(clamping: answers.count))
        writer.u16(UInt16(clamping: authorities.count))
        writer.u16(UInt16(clamping: additionals.count + (edns == nil ? 0 : 1)))
        for question in questions.prefix(0xFFFF) {
            writer.name(question.name)
            writer.u16(question.type.rawValue)
            writer.u16(question.class.rawValue)
        }
        for record in answers.prefix(0xFFFF) { record.write(into: &writer) }
        for record in authorities.prefix(0xFFFF) { record.write(into: &writer) }
        for record in additionals.prefix(0xFFFE) { record.write(into: &writer) }
        if let edns {
            writer.u8(0)
            writer.u16(DNSType.opt.rawValue)
            writer.u16(edns.udpPayloadSize)
            writer.u32(edns.ttlField)
            let lengthOffset = writer.bytes.count
            writer.u16(0)
            for option in edns.options {
                writer.u16(option.code)
                writer.u16(UInt16(clamping: option.data.count))
                writer.bytes(option.data.prefix(0xFFFF))
            }
            writer.patchU16(UInt16(clamping: writer.bytes.count - lengthOffset - 2), at: lengthOffset)
        }
        return writer.bytes
    }
}

extension DNSResourceRecord {
    /// Appends the record in wire form (owner compressed, RDLENGTH patched after the data).
    func write(into writer: inout DNSWireWriter) {
        writer.name(name)
        writer.u16(type.rawValue)
        writer.u16(self.class.rawValue)
        writer.u32(ttl)
        let lengthOffset = writer.bytes.count
        writer.u16(0)
        data.write(into: &writer)
        writer.patchU16(UInt16(clamping: writer.bytes.count - lengthOffset - 2), at: lengthOffset)
    }

    /// The RDATA alone in uncompressed wire form (as RFC 3597 `\#` shows it).
    public var rdataWire: [UInt8] {
        var writer = DNSWireWriter()
        switch data {
        case .cname(let name), .ns(let name), .ptr(let name):
            writer.name(name, compress: false)
        case .mx(let preference, let exchange):
            writer.u16(preference)
            writer.name(exchange, compress: false)
        case .soa(let soa):
            writer.name(soa.mname, compress: false)
            writer.name(soa.rname, compress: false)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { writer.u32(value) }
        default:
            data.write(into: &writer)
        }
        return writer.bytes
    }
}
