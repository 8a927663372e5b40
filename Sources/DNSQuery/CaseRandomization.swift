/// 0x20 (draft-vixie-dnsext-dns0x20): the letters of a wire name set upper or lower case by the bits
/// of a random seed, so that a forged reply must also guess the case pattern.
enum CaseRandomization {
    /// Rewrites the letters of the uncompressed wire name in `name` in place: the letter at byte
    /// offset i becomes upper case if bit `i % 64` of `seed` is set, lower case otherwise.
    static func apply(seed: UInt64, to name: UnsafeMutableRawBufferPointer) {
        var index = 0
        while index < name.count {
            let length = Int(name[index])
            if length == 0 { return }
            let end = min(index + 1 + length, name.count)
            for offset in (index + 1)..<end {
                let byte = name[offset]
                let lower = byte | 0x20
                guard lower >= 0x61 && lower <= 0x7a else { continue }
                name[offset] = seed >> UInt64(offset & 63) & 1 == 1 ? lower & ~0x20 : lower
            }
            index = end
        }
    }
}
