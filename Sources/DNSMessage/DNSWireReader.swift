/// Bounds-checked big-endian reads over a packet; every read throws `.truncated` rather than trap.
struct DNSWireReader {
    let bytes: UnsafeRawBufferPointer
    var offset: Int

    init(_ bytes: UnsafeRawBufferPointer, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    @inline(__always)
    mutating func u8(limit: Int? = nil) throws(DNSParseError) -> UInt8 {
        guard offset < (limit ?? bytes.count) else { throw DNSParseError(.truncated, at: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    @inline(__always)
    mutating func u16(limit: Int? = nil) throws(DNSParseError) -> UInt16 {
        guard offset + 2 <= (limit ?? bytes.count) else { throw DNSParseError(.truncated, at: offset) }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    @inline(__always)
    mutating func u32(limit: Int? = nil) throws(DNSParseError) -> UInt32 {
        guard offset + 4 <= (limit ?? bytes.count) else { throw DNSParseError(.truncated, at: offset) }
        defer { offset += 4 }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    mutating func bytes(_ count: Int, limit: Int? = nil) throws(DNSParseError) -> [UInt8] {
        guard count >= 0, offset + count <= (limit ?? bytes.count) else {
            throw DNSParseError(.truncated, at: offset)
        }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// Reads a (possibly compressed) name whose in-place part must end by `limit`.
    mutating func name(limit: Int? = nil) throws(DNSParseError) -> DNSName {
        var walker = DNSNameWalker(bytes, at: offset, limit: limit ?? bytes.count)
        var wire: [UInt8] = []
        wire.reserveCapacity(32)
        while let label = try walker.next() {
            wire.append(UInt8(label.count))
            wire.append(contentsOf: bytes[label.start..<(label.start + label.count)])
        }
        wire.append(0)
        offset = walker.endInPlace
        return DNSName(uncheckedWire: wire)
    }

    /// Skips a (possibly compressed) name, checking it fully.
    @inline(__always)
    mutating func skipName(limit: Int? = nil) throws(DNSParseError) {
        var walker = DNSNameWalker(bytes, at: offset, limit: limit ?? bytes.count)
        offset = try walker.skip()
    }
}
