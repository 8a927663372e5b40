extension RDataLayout {
    /// Copies the RDATA ending at `end` with every name decompressed: the bytes RFC 3597 generic
    /// data shows, which never hold a compression pointer. Names are read as the message's own
    /// names are (pointers strictly backwards, bounded hops, at most 255 bytes).
    /// - Throws: `DNSParseError` when a field runs past `end` or a name is malformed.
    func decompress(_ reader: inout DNSWireReader, end: Int) throws(DNSParseError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(end - reader.offset + 16)
        for field in fields {
            switch field {
            case .name:
                out += try reader.name(limit: end).wire
            case .u8:
                out += try reader.bytes(1, limit: end)
            case .u16, .type:
                out += try reader.bytes(2, limit: end)
            case .u32, .time:
                out += try reader.bytes(4, limit: end)
            case .string, .salt, .base32:
                let count = Int(try reader.u8(limit: end))
                out.append(UInt8(count))
                out += try reader.bytes(count, limit: end)
            case .ipv4:
                out += try reader.bytes(4, limit: end)
            case .eui48:
                out += try reader.bytes(6, limit: end)
            case .eui64, .locator64:
                out += try reader.bytes(8, limit: end)
            case .location:
                out += try reader.bytes(16, limit: end)
            case .strings, .base64, .hex, .typeBitmap, .text, .serviceParameters:
                out += try reader.bytes(end - reader.offset, limit: end)
            }
        }
        return out
    }
}
