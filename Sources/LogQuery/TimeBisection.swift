#if canImport(Glibc)
    import Glibc
#endif

/// A seek by time in a plain file whose records are in time order: a binary search over byte
/// offsets (each probe parses the first stamped line after a point), instead of parsing every line
/// from the start. The probes also check the order: when their times go backwards, the file is not
/// in order and the caller falls back to a forward scan. A file whose order breaks only between
/// probes (a few records out of place) is not seen as such: its search lands near, not exactly at,
/// the first record in file order at or after the time.
///
/// The result is a line start at most `window` bytes before the first record at or after the time
/// (the caller's forward search finishes there), and that line's ordinal, counted as newlines up to
/// it (a byte count, no parsing).
enum TimeBisection {
    /// Where the search narrows to a forward scan.
    static let window: Int64 = 64 * 1024
    private static let probeBytes = 8 * 1024

    /// A line start at or before the first record stamped at or after `time`, and its ordinal; nil
    /// when the probes found the records out of order or a read failed (then scan forward).
    static func start(
        atOrAfter time: LogTime, fd: Int32, size: Int64, format: LogFormat, options: LogParseOptions
    ) -> LogPosition? {
        guard size > 2 * window else { return LogPosition(offset: 0, ordinal: 0) }
        let parser = LogLineParser(format: format, options: options)
        var probe = [UInt8](repeating: 0, count: probeBytes)
        var low: Int64 = 0  // a line start whose records before it are all earlier than `time`
        var high = size
        var stamps: [(offset: Int64, time: LogTime)] = []
        // The file's start and end are probed too, so that a file whose order breaks outside the
        // narrowing range (two runs back to back) is seen.
        for edge in [0, size - Int64(probeBytes)] {
            guard let (lineStart, stamp) = firstStamp(after: edge, fd: fd, parser: parser, buffer: &probe) else {
                return nil
            }
            if let stamp { stamps.append((lineStart, stamp)) }
        }
        while high - low > window {
            let middle = low + (high - low) / 2
            guard let (lineStart, stamp) = firstStamp(after: middle, fd: fd, parser: parser, buffer: &probe) else {
                return nil
            }
            guard let stamp, lineStart < high else {
                high = middle
                continue
            }
            stamps.append((lineStart, stamp))
            if stamp < time { low = lineStart } else { high = middle }
        }
        // Out of order: the probes' times must rise with their offsets.
        stamps.sort { $0.offset < $1.offset }
        guard zip(stamps, stamps.dropFirst()).allSatisfy({ $0.time <= $1.time }) else { return nil }
        guard let ordinal = newlines(before: low, fd: fd) else { return nil }
        return LogPosition(offset: low, ordinal: ordinal)
    }

    /// The start of the first line after `offset` (a line that starts after a newline at or past
    /// it) that carries a time within the probe, and that time (nil when none in the probe).
    private static func firstStamp(
        after offset: Int64, fd: Int32, parser: LogLineParser, buffer: inout [UInt8]
    ) -> (Int64, LogTime?)? {
        let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        guard n > 0 else { return nil }
        return buffer.withUnsafeBufferPointer { b -> (Int64, LogTime?)? in
            guard var start = b[0..<n].firstIndex(of: 0x0A).map({ $0 + 1 }) else { return (offset, nil) }
            let first = start
            while start < n, let end = b[start..<n].firstIndex(of: 0x0A) {
                let line = UnsafeBufferPointer(rebasing: b[start..<end])
                if let stamp = parser.record(line, offset: 0, ordinal: 0, length: 0, flags: []).timestamp {
                    return (offset + Int64(start), stamp)
                }
                start = end + 1
            }
            return (offset + Int64(first), nil)
        }
    }

    /// The newlines in the file before `offset`: the ordinal of the line starting there.
    private static func newlines(before offset: Int64, fd: Int32) -> Int64? {
        let chunk = 1 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 64)
        defer { buffer.deallocate() }
        var at: Int64 = 0
        var count: Int64 = 0
        while at < offset {
            let n = pread(fd, buffer, Int(min(Int64(chunk), offset - at)), off_t(at))
            guard n > 0 else { return nil }
            count += Int64(ByteSearch.countNewlines(in: buffer, from: 0, to: n))
            at += Int64(n)
        }
        return count
    }
}
