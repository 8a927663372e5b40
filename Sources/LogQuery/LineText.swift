/// Turning byte ranges of a line into strings (invalid UTF-8 repaired with U+FFFD).
enum LineText {
    /// The bytes of `range` decoded as UTF-8, repairing invalid sequences.
    @inline(__always)
    static func string(_ b: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: b[range]), as: UTF8.self)
    }

    /// Whether `b` is valid UTF-8 (fast path: all ASCII).
    static func isValidUTF8(_ b: UnsafeBufferPointer<UInt8>) -> Bool {
        var i = 0
        let n = b.count
        if let base = UnsafeRawPointer(b.baseAddress) {
            while i + 8 <= n {
                if base.loadUnaligned(fromByteOffset: i, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
                i += 8
            }
        }
        while i < n, b[i] < 0x80 { i += 1 }
        if i == n { return true }
        return String(validating: UnsafeBufferPointer(rebasing: b[i...]), as: UTF8.self) != nil
    }
}
