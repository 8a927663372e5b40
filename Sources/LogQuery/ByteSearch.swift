import LinuxSystem
#if canImport(Glibc)
    import Glibc
#endif

/// Byte-string search over raw memory (glibc `memmem`/`memchr`/`memrchr`), shared by the
/// filter and the scanner.
enum ByteSearch {
    /// Index of the first occurrence of `needle` in `hay[from..<to]`, or `nil`.
    @inline(__always)
    static func find(_ needle: UnsafeRawBufferPointer, in hay: UnsafeRawPointer, from: Int, to: Int) -> Int? {
        guard to - from >= needle.count else { return nil }
        guard let p = Memory.find(needle.baseAddress, length: needle.count, in: hay + from, length: to - from)
        else { return nil }
        return hay.distance(to: UnsafeRawPointer(p))
    }

    /// Index of the first `byte` in `hay[from..<to]`, or `nil`.
    @inline(__always)
    static func firstIndex(of byte: UInt8, in hay: UnsafeRawPointer, from: Int, to: Int) -> Int? {
        guard to > from, let p = memchr(hay + from, Int32(byte), to - from) else { return nil }
        return hay.distance(to: UnsafeRawPointer(p))
    }

    /// Index of the last `byte` in `hay[from..<to]`, or `nil`.
    @inline(__always)
    static func lastIndex(of byte: UInt8, in hay: UnsafeRawPointer, from: Int, to: Int) -> Int? {
        guard to > from, let p = Memory.lastIndex(of: byte, in: hay + from, length: to - from) else { return nil }
        return hay.distance(to: UnsafeRawPointer(p))
    }

    /// Number of `\n` bytes in `hay[from..<to]` (eight bytes at a time).
    static func countNewlines(in hay: UnsafeRawPointer, from: Int, to: Int) -> Int {
        var count = 0
        var i = from
        let ones: UInt64 = 0x0101_0101_0101_0101
        let pattern = ones &* 0x0A
        while i + 8 <= to {
            let x = hay.loadUnaligned(fromByteOffset: i, as: UInt64.self) ^ pattern
            // High bit set in each byte that was 0 (i.e. was '\n'); exact, no false positives.
            let t = (x & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F
            count += (~(t | x | 0x7F7F_7F7F_7F7F_7F7F)).nonzeroBitCount
            i += 8
        }
        while i < to {
            if hay.load(fromByteOffset: i, as: UInt8.self) == 0x0A { count += 1 }
            i += 1
        }
        return count
    }

    /// Whether `bytes` and `other` are the same bytes (`memcmp`, not a generic element loop).
    static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ other: [UInt8]) -> Bool {
        guard bytes.count == other.count else { return false }
        guard let base = bytes.baseAddress, !other.isEmpty else { return true }
        return other.withUnsafeBytes { memcmp(base, $0.baseAddress!, other.count) == 0 }
    }

    /// Whether `hay` contains `needle` byte for byte.
    static func contains(_ hay: UnsafeBufferPointer<UInt8>, _ needle: [UInt8]) -> Bool {
        if needle.isEmpty { return true }
        guard let base = hay.baseAddress else { return false }
        return needle.withUnsafeBytes { n in find(n, in: UnsafeRawPointer(base), from: 0, to: hay.count) != nil }
    }
}
