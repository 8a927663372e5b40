import LogQuery

#if canImport(Glibc)
    import Glibc
#endif

/// Standard output for `evq scan`: records rendered by a `LogRecordWriter` into one buffer, written
/// with one `write` per megabyte. Notes (the final bookmark, rotations) go to standard output in the
/// text formats and to standard error with `raw` and `json`, so that those stay one line per record.
final class ScanOutput {
    private var writer: LogRecordWriter
    private static let flushAt = 1 << 20

    init(format: LogOutputFormat) { writer = LogRecordWriter(format: format, capacity: Self.flushAt + (64 << 10)) }

    /// The output format.
    var format: LogOutputFormat { writer.format }

    /// Whether the format wants the lines' bytes from the file (`raw`, and `json` for lines that
    /// are not UTF-8).
    var needsLineBytes: Bool { writer.format == .raw || writer.format == .json }

    /// Renders `records` of the file with `identity`; `lines` reads their bytes where the format
    /// wants them.
    func records(_ records: [LogRecord], in identity: FileIdentity, lines: LineBytes?) {
        let wantsBookmark = writer.format == .json
        let wantsLine: (LogRecord) -> Bool =
            writer.format == .raw ? { _ in true } : { $0.flags.contains(.invalidUTF8) }
        if let lines, needsLineBytes {
            lines.forEach(records, of: identity, where: wantsLine) { record, line in
                writer.append(record, bookmark: wantsBookmark ? LogBookmark(record: record, in: identity) : nil, line: line)
                if writer.bytes.count >= Self.flushAt { flush() }
            }
        } else {
            for record in records {
                writer.append(record, bookmark: wantsBookmark ? LogBookmark(record: record, in: identity) : nil)
                if writer.bytes.count >= Self.flushAt { flush() }
            }
        }
    }

    /// A line of text on standard output.
    func line(_ text: String) {
        writer.appendLine(text)
        if writer.bytes.count >= Self.flushAt { flush() }
    }

    /// A note: on standard output in the text formats, else (after what is buffered) on standard error.
    func note(_ text: String) {
        if needsLineBytes {
            flush()
            Self.toStandardError(text + "\n")
        } else {
            line(text)
        }
    }

    /// Bytes to print as they are (lines kept by the scanner for `raw`): after what is buffered, in
    /// one `write`.
    func write(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        flush()
        Self.write(bytes, to: 1)
    }

    func flush() {
        guard !writer.bytes.isEmpty else { return }
        writer.bytes.withUnsafeBytes { Self.write($0, to: 1) }
        writer.removeAll()
    }

    /// Writes `text` to standard error at once (unbuffered).
    static func toStandardError(_ text: String) {
        Array(text.utf8).withUnsafeBytes { write($0, to: 2) }
    }

    private static func write(_ raw: UnsafeRawBufferPointer, to fd: Int32) {
        var done = 0
        while done < raw.count {
            let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
            if n < 0, errno == EINTR { continue }
            if n <= 0 { break }
            done += n
        }
    }
}

/// Reads records' lines as they are in the file, for `--output raw` (and `json` for lines that are
/// not UTF-8): one `pread` for a batch's span when it is at most 4 MiB and the lines fill at least a
/// quarter of it, else one per record. A
/// line the file no longer holds whole (truncated since) is given as nil.
final class LineBytes {
    private let path: String
    private var fd: Int32 = -1
    private var opened: FileIdentity?
    private var compressed = false
    private var buffer: UnsafeMutableRawBufferPointer
    private static let spanLimit = 4 << 20

    init(path: String) {
        self.path = path
        buffer = .allocate(byteCount: 1 << 20, alignment: 64)
    }

    deinit {
        buffer.deallocate()
        if fd >= 0 { close(fd) }
    }

    /// Calls `body` for each record in order, with its line's bytes (without the newline) when
    /// `wanted` says so and they can be read.
    func forEach(
        _ records: [LogRecord], of identity: FileIdentity, where wanted: (LogRecord) -> Bool,
        _ body: (LogRecord, UnsafeRawBufferPointer?) -> Void
    ) {
        guard !records.isEmpty, reopen(for: identity) else {
            for record in records { body(record, nil) }
            return
        }
        let wantedRecords = records.filter(wanted)
        let start = wantedRecords.map(\.offset).min() ?? 0
        let end = wantedRecords.map { $0.offset + $0.length }.max() ?? 0
        // One read for the span when the lines fill a good part of it; sparse matches are read one
        // by one (reading the span would read most of the file again).
        let wantedBytes = wantedRecords.reduce(Int64(0)) { $0 + $1.length }
        var spanRead: Int64 = -1
        if end - start <= Int64(Self.spanLimit), end > start, end - start <= 4 * wantedBytes + 65_536 {
            grow(to: Int(end - start))
            spanRead = read(at: start, count: Int(end - start)) ? start : -1
        }
        for record in records {
            guard wanted(record) else {
                body(record, nil)
                continue
            }
            let content = Int(record.length) - (record.flags.contains(.partial) ? 0 : 1)
            if spanRead >= 0 {
                let at = Int(record.offset - spanRead)
                body(record, UnsafeRawBufferPointer(rebasing: buffer[at..<(at + max(0, content))]))
            } else {
                grow(to: Int(record.length))
                body(record, read(at: record.offset, count: max(0, content)) ? UnsafeRawBufferPointer(rebasing: buffer[0..<max(0, content)]) : nil)
            }
        }
    }

    /// Opens the file `identity` names; false for another file, or a `.gz` one (whose offsets are
    /// those of the decompressed stream: its records print from their parsed fields).
    private func reopen(for identity: FileIdentity) -> Bool {
        if let opened, opened.isSameFile(as: identity) { return !compressed }
        if fd >= 0 { close(fd) }
        fd = open(path, O_RDONLY | O_CLOEXEC)
        opened = fd >= 0 ? try? FileIdentity.of(fileDescriptor: fd) : nil
        var magic: (UInt8, UInt8) = (0, 0)
        compressed = fd >= 0 && withUnsafeMutableBytes(of: &magic) { pread(fd, $0.baseAddress, 2, 0) } == 2
            && magic == (0x1F, 0x8B)
        return opened?.isSameFile(as: identity) == true && !compressed
    }

    private func grow(to count: Int) {
        guard count > buffer.count else { return }
        buffer.deallocate()
        buffer = .allocate(byteCount: count, alignment: 64)
    }

    private func read(at offset: Int64, count: Int) -> Bool {
        var done = 0
        while done < count {
            let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset) + off_t(done))
            if n < 0, errno == EINTR { continue }
            if n <= 0 { return false }
            done += n
        }
        return true
    }
}
