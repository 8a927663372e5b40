import DNSMessage

/// Writes the answer to one query into a caller's buffer, without allocating: the header, the
/// question copied byte for byte as it was asked (the client checks its 0x20 case), the records
/// (prebuilt, or synthesized from a hash of the name), the zone's SOA for negative answers, and
/// an OPT record when the query had one. An answer larger than the client's buffer (512 bytes, or
/// its EDNS size) is cut to the header and question with TC set.
enum AnswerWriter {
    /// What to do with a datagram.
    enum Verdict: Equatable {
        /// Send the first `length` bytes of the buffer.
        case reply(length: Int)
        /// Send nothing: it is not a query.
        case drop
    }

    /// Our EDNS UDP payload size.
    static let ednsSize: UInt16 = 1232

    /// Answers `query` into `out` (at least 512 bytes; over UDP the client's buffer size limits
    /// the answer, over TCP only `out`), counting what it did in `counters`.
    static func answer(
        _ query: UnsafeRawBufferPointer, book: AnswerBook, into out: UnsafeMutableRawBufferPointer, tcp: Bool,
        counters: inout DNSResponderCounters
    ) -> Verdict {
        counters.received += 1
        // Shorter than a header, or a response: never answered (a reply to a reply could loop).
        guard query.count >= 12, query[2] & 0x80 == 0 else {
            counters.droppedNotAQuery += 1
            return .drop
        }
        let opcode = query[2] >> 3 & 0x0F
        guard opcode == 0 else {
            counters.notimp += 1
            return .reply(length: headerOnly(query, into: out, rcode: DNSRcode.notImp))
        }
        let view: DNSMessageView
        let opt: DNSRecordView?
        do {
            view = try DNSMessageView(query)
            opt = try view.optRecord()
        } catch {
            counters.formerr += 1
            return .reply(length: headerOnly(query, into: out, rcode: DNSRcode.formErr))
        }
        // One question, its name uncompressed (a query has nothing earlier to point at).
        guard view.questionCount == 1, let nameLength = uncompressedNameLength(query),
            12 + nameLength + 4 <= query.count
        else {
            counters.formerr += 1
            return .reply(length: headerOnly(query, into: out, rcode: DNSRcode.formErr))
        }
        let name = UnsafeRawBufferPointer(rebasing: query[12..<(12 + nameLength)])
        let type = UInt16(query[12 + nameLength]) << 8 | UInt16(query[13 + nameLength])
        let recordClass = UInt16(query[14 + nameLength]) << 8 | UInt16(query[15 + nameLength])
        let limit = tcp ? out.count : min(out.count, Int(max(512, min(opt?.ednsHeader?.udpPayloadSize ?? 512, 4096))))

        var writer = PacketWriter(out)
        let questionEnd = 12 + nameLength + 4
        writer.bytes(UnsafeRawBufferPointer(rebasing: query[0..<questionEnd]))
        var flags: UInt16 = 0x8000 | UInt16(query[2] & 0x01) << 8  // QR, RD copied
        var answers: UInt16 = 0
        var authorities: UInt16 = 0
        var rcode = DNSRcode.noError
        let lookup = recordClass == DNSClass.in.rawValue ? book.lookup(name, type: type) : .refused
        switch lookup {
        case .records(let index):
            let rrset = book.rrsets[index]
            flags |= 0x0400
            rrset.bytes.withUnsafeBytes { writer.bytes($0) }
            answers = rrset.count
        case .synthesized:
            synthesize(name: name, type: type, ttl: book.synthesisTTL, into: &writer)
            answers = 1
        case .noData(let zone):
            if zone != nil { flags |= 0x0400 }
            authorities = soa(of: zone, book: book, nameLength: nameLength, into: &writer)
        case .nxdomain(let zone):
            flags |= 0x0400
            rcode = .nxDomain
            authorities = soa(of: zone, book: book, nameLength: nameLength, into: &writer)
        case .refused:
            rcode = .refused
        }
        if opt != nil { writeOPT(into: &writer) }
        var length = writer.count
        if writer.overflowed || length > limit {
            // Too big for the client: header, question and OPT only, with TC.
            counters.truncatedBySize += 1
            writer = PacketWriter(out)
            writer.bytes(UnsafeRawBufferPointer(rebasing: query[0..<questionEnd]))
            if opt != nil { writeOPT(into: &writer) }
            length = writer.count
            flags |= 0x0200
            answers = 0
            authorities = 0
        }
        switch rcode {
        case .noError: counters.answered += 1
        case .nxDomain: counters.nxdomain += 1
        default: counters.refused += 1
        }
        flags |= rcode.rawValue & 0x0F
        put16(out, 2, flags)
        put16(out, 4, 1)
        put16(out, 6, answers)
        put16(out, 8, authorities)
        put16(out, 10, opt != nil ? 1 : 0)
        return .reply(length: length)
    }

    /// The length of the question's name at offset 12 if it is uncompressed and well formed.
    static func uncompressedNameLength(_ packet: UnsafeRawBufferPointer) -> Int? {
        var offset = 12
        while offset < packet.count {
            let length = Int(packet[offset])
            if length == 0 { return offset + 1 - 12 <= 255 ? offset + 1 - 12 : nil }
            guard length <= 63 else { return nil }
            offset += length + 1
        }
        return nil
    }

    /// A reply of the header alone (id, opcode, RD kept; no sections) with `rcode`.
    static func headerOnly(_ query: UnsafeRawBufferPointer, into out: UnsafeMutableRawBufferPointer, rcode: DNSRcode)
        -> Int
    {
        out[0] = query[0]
        out[1] = query[1]
        out[2] = 0x80 | query[2] & 0x79
        out[3] = UInt8(rcode.rawValue & 0x0F)
        for index in 4..<12 { out[index] = 0 }
        return 12
    }

    private static func synthesize(name: UnsafeRawBufferPointer, type: UInt16, ttl: UInt32,
                                   into writer: inout PacketWriter) {
        let hash = AnswerBook.hash(name)
        writer.u16(0xC00C)
        writer.u16(type)
        writer.u16(DNSClass.in.rawValue)
        writer.u32(ttl)
        switch type {
        case DNSType.a.rawValue:
            // 198.18.0.0/15, the benchmarking range (RFC 2544).
            writer.u16(4)
            writer.u32(0xC612_0000 | UInt32(truncatingIfNeeded: hash) & 0x0001_FFFF)
        case DNSType.aaaa.rawValue:
            // 2001:db8::/32, the documentation range.
            writer.u16(16)
            writer.u32(0x2001_0DB8)
            writer.u32(UInt32(truncatingIfNeeded: hash >> 32))
            writer.u32(UInt32(truncatingIfNeeded: hash))
            writer.u32(UInt32(truncatingIfNeeded: hash >> 16))
        default:
            // TXT: one string, "evq-" and the hash in hex.
            writer.u16(21)
            writer.u8(20)
            for byte in "evq-".utf8 { writer.u8(byte) }
            for shift in stride(from: 60, through: 0, by: -4) {
                let digit = UInt8(truncatingIfNeeded: hash >> UInt64(shift) & 0xF)
                writer.u8(digit < 10 ? 0x30 + digit : 0x57 + digit)
            }
        }
    }

    /// The zone's SOA in the authority section (its owner a pointer to where the zone's name
    /// starts inside the question); returns the record count written.
    private static func soa(of zone: Int?, book: AnswerBook, nameLength: Int, into writer: inout PacketWriter)
        -> UInt16
    {
        guard let zone, let tail = book.zones[zone].soaTail else { return 0 }
        writer.u16(0xC000 | UInt16(12 + nameLength - book.zones[zone].origin.count))
        tail.withUnsafeBytes { writer.bytes($0) }
        return 1
    }

    private static func writeOPT(into writer: inout PacketWriter) {
        writer.u8(0)
        writer.u16(DNSType.opt.rawValue)
        writer.u16(ednsSize)
        writer.u32(0)
        writer.u16(0)
    }

    static func put16(_ out: UnsafeMutableRawBufferPointer, _ offset: Int, _ value: UInt16) {
        out[offset] = UInt8(value >> 8)
        out[offset + 1] = UInt8(value & 0xFF)
    }
}

/// Appends big-endian fields to a fixed buffer; past its end it only notes the overflow.
struct PacketWriter {
    let buffer: UnsafeMutableRawBufferPointer
    private(set) var count = 0
    private(set) var overflowed = false

    init(_ buffer: UnsafeMutableRawBufferPointer) { self.buffer = buffer }

    mutating func bytes(_ source: UnsafeRawBufferPointer) {
        guard count + source.count <= buffer.count else {
            overflowed = true
            return
        }
        if let base = source.baseAddress {
            (buffer.baseAddress! + count).copyMemory(from: base, byteCount: source.count)
        }
        count += source.count
    }

    mutating func u8(_ value: UInt8) {
        guard count + 1 <= buffer.count else {
            overflowed = true
            return
        }
        buffer[count] = value
        count += 1
    }

    mutating func u16(_ value: UInt16) {
        u8(UInt8(value >> 8))
        u8(UInt8(value & 0xFF))
    }

    mutating func u32(_ value: UInt32) {
        u16(UInt16(value >> 16))
        u16(UInt16(value & 0xFFFF))
    }
}
