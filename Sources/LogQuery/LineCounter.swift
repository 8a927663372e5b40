#if canImport(Glibc)
    import Glibc
#endif

/// Counts the lines of a file up to an offset in bounded reads, so that a subscription starting at
/// the end (`.future`) numbers its records exactly without stalling the loop.
struct LineCounter {
    let end: Int64
    private(set) var offset: Int64 = 0
    private(set) var lines: Int64 = 0
    /// Where the line after the last newline seen starts.
    private(set) var lastLineStart: Int64 = 0

    init(end: Int64) { self.end = end }

    var isDone: Bool { offset >= end }

    /// Reads up to `budget` bytes at `fd`; returns false on a read error (errno set).
    mutating func advance(fd: Int32, buffer: UnsafeMutableRawBufferPointer, budget: Int) -> Bool {
        var used = 0
        while offset < end, used < budget {
            let count = Int(min(Int64(buffer.count), end - offset))
            let n = pread(fd, buffer.baseAddress, count, off_t(offset))
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            if n == 0 {
                offset = end  // the file shrank under the count
                break
            }
            let base = UnsafeRawPointer(buffer.baseAddress!)
            lines += Int64(ByteSearch.countNewlines(in: base, from: 0, to: n))
            if let last = ByteSearch.lastIndex(of: 0x0A, in: base, from: 0, to: n) {
                lastLineStart = offset + Int64(last) + 1
            }
            offset += Int64(n)
            used += n
        }
        return true
    }
}
