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

    /// Number of `\n` bytes in `hay[from..<to]` (32 bytes a step with AVX2: `Memory.count`).
    @inline(__always)
    static func countNewlines(in hay: UnsafeRawPointer, from: Int, to: Int) -> Int {
        to > from ? Memory.count(of: 0x0A, in: hay + from, length: to - from) : 0
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
