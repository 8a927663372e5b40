extension DNSRecordData {
    /// Decodes RDATA of `type` occupying exactly `length` bytes at `reader.offset`. Names inside may be
    /// compressed (pointing anywhere earlier in the packet) but must sit within the RDATA. Types kept
    /// as `.unknown` whose layout holds names (MINFO, RP, AFSDB, NAPTR, RRSIG, …: `RDataLayout`) are
    /// walked field by field and kept with their names decompressed, so the bytes mean the same
    /// outside this packet; such RDATA that does not fit its layout is `.badRecordData`.
    static func parse(type: DNSType, length: Int, reader: inout DNSWireReader) throws(DNSParseError) -> DNSRecordData {
        let start = reader.offset
        let end = start + length
        guard end <= reader.bytes.count else { throw DNSParseError(.truncated, at: start) }
        let data: DNSRecordData
        switch type {
        case .a where length == 4:
            data = .a(DNSIPv4Address(try reader.u32(limit: end)))
        case .aaaa where length == 16:
            let high = UInt64(try reader.u32(limit: end)) << 32 | UInt64(try reader.u32(limit: end))
            let low = UInt64(try reader.u32(limit: end)) << 32 | UInt64(try reader.u32(limit: end))
            data = .aaaa(DNSIPv6Address(high: high, low: low))
        case .cname:
            data = .cname(try reader.name(limit: end))
        case .ns:
            data = .ns(try reader.name(limit: end))
        case .ptr:
            data = .ptr(try reader.name(limit: end))
        case .mx:
            data = .mx(preference: try reader.u16(limit: end), exchange: try reader.name(limit: end))
        case .txt where length > 0:
            var strings: [[UInt8]] = []
            while reader.offset < end {
                let count = Int(try reader.u8(limit: end))
                strings.append(try reader.bytes(count, limit: end))
            }
            data = .txt(strings)
        case .srv:
            data = .srv(priority: try reader.u16(limit: end), weight: try reader.u16(limit: end),
                        port: try reader.u16(limit: end), target: try reader.name(limit: end))
        case .soa:
            data = .soa(DNSSOA(
                mname: try reader.name(limit: end), rname: try reader.name(limit: end),
                serial: try reader.u32(limit: end), refresh: try reader.u32(limit: end),
                retry: try reader.u32(limit: end), expire: try reader.u32(limit: end),
                minimum: try reader.u32(limit: end)))
        case .caa where length >= 2:
            let flags = try reader.u8(limit: end)
            let tagLength = Int(try reader.u8(limit: end))
            guard tagLength > 0 else { throw DNSParseError(.badRecordData, at: start) }
            let tag = try reader.bytes(tagLength, limit: end)
            data = .caa(flags: flags, tag: tag, value: try reader.bytes(end - reader.offset, limit: end))
        case .a, .aaaa, .txt, .caa:
            throw DNSParseError(.badRecordData, at: start)
        default:
            if let layout = RDataLayout.of(type), layout.hasNames {
                data = .unknown(try layout.decompress(&reader, end: end))
            } else {
                data = .unknown(try reader.bytes(length, limit: end))
            }
        }
        guard reader.offset == end else { throw DNSParseError(.badRecordData, at: reader.offset) }
        return data
    }

    /// Appends the RDATA (without its length). Names in CNAME, NS, PTR, MX and SOA are compressed
    /// (RFC 3597 section 4 allows it only for these); SRV's target is not (RFC 2782).
    func write(into writer: inout DNSWireWriter) {
        switch self {
        case .a(let address):
            writer.u32(address.value)
        case .aaaa(let address):
            writer.u32(UInt32(truncatingIfNeeded: address.high >> 32))
            writer.u32(UInt32(truncatingIfNeeded: address.high))
            writer.u32(UInt32(truncatingIfNeeded: address.low >> 32))
            writer.u32(UInt32(truncatingIfNeeded: address.low))
        case .cname(let name), .ns(let name), .ptr(let name):
            writer.name(name)
        case .mx(let preference, let exchange):
            writer.u16(preference)
            writer.name(exchange)
        case .txt(let strings):
            for string in strings {
                let count = min(string.count, 255)
                writer.u8(UInt8(count))
                writer.bytes(string.prefix(count))
            }
        case .srv(let priority, let weight, let port, let target):
            writer.u16(priority)
            writer.u16(weight)
            writer.u16(port)
            writer.name(target, compress: false)
        case .soa(let soa):
            writer.name(soa.mname)
            writer.name(soa.rname)
            for value in [soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum] { writer.u32(value) }
        case .caa(let flags, let tag, let value):
            writer.u8(flags)
            writer.u8(UInt8(min(tag.count, 255)))
            writer.bytes(tag.prefix(255))
            writer.bytes(value)
        case .unknown(let bytes):
            writer.bytes(bytes)
        }
    }
}
