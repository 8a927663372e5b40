/// Appends big-endian fields and names to a byte array, compressing names against the suffixes
/// already written (matched case-insensitively; pointers only to offsets below 0x4000).
struct DNSWireWriter {
    var bytes: [UInt8] = []
    private var suffixOffsets: [DNSName: Int] = [:]

    init(capacity: Int = 512) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(truncatingIfNeeded: value))
    }

    mutating func u32(_ value: UInt32) {
        u16(UInt16(value >> 16))
        u16(UInt16(truncatingIfNeeded: value))
    }

    mutating func bytes(_ values: some Sequence<UInt8>) { bytes.append(contentsOf: values) }

    /// Overwrites a 16-bit field written earlier (an RDLENGTH).
    mutating func patchU16(_ value: UInt16, at offset: Int) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(truncatingIfNeeded: value)
    }

    /// Writes a name, replacing its longest already-written suffix by a pointer when `compress`.
    /// Every suffix written in place is remembered for later names either way.
    mutating func name(_ name: DNSName, compress: Bool = true) {
        var suffix = name
        while !suffix.isRoot {
            if compress, let target = suffixOffsets[suffix] {
                u16(0xC000 | UInt16(target))
                return
            }
            if bytes.count < 0x4000 && suffixOffsets[suffix] == nil { suffixOffsets[suffix] = bytes.count }
            let length = Int(suffix.wire[0])
            bytes.append(contentsOf: suffix.wire[0...length])
            suffix = suffix.parent
        }
        bytes.append(0)
    }
}
