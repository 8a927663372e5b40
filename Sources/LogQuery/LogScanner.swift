import LinuxSystem

#if canImport(Glibc)
    import Glibc
#endif

/// A log-scan job as a state machine advanced in bounded slices: it `pread`s into one reused
/// buffer, finds the filter's required literal in the raw bytes, and parses only the lines that
/// hold it. It never blocks for longer than one slice (one or a few buffer reads), so a reactor
/// can run it from its loop, re-arming between slices.
///
/// Corresponds to the scan behind the Windows `EvtQuery` + `EvtNext` (batches through
/// `advance`), and with `reposition` to `EvtSeek`.
///
/// Thread affinity: not thread-safe; one thread at a time (the owning loop) may call it.
/// Lines end with `\n` (a trailing `\r` is dropped); a line longer than `maxLineLength` yields a
/// record of its first `maxLineLength` bytes flagged `.cut`; every line is judged as one record
/// (non-format lines `.raw`, never dropped), so offsets and ordinals are exact. A reverse scan first
/// counts the file's newlines (in slices, `.needMore`) so that its ordinals are exact too.
public final class LogScanner {
    /// The file's identity when it was opened (its `size` bounds a reverse scan).
    public let identity: FileIdentity
    /// The filter the records must pass.
    public let filter: LogFilter
    /// The scan's direction.
    public let direction: ScanDirection
    /// Whether a partial last line is held back at the end of the file (follow mode).
    public let follow: Bool
    /// Whether the scan counts matching lines (`.counted`) instead of returning records.
    public let countOnly: Bool
    /// Whether a counting scan also keeps the matching lines' bytes as they are in the file (for
    /// printing them unchanged: `takeKeptLines`), with the position of the last one.
    public let keepsLines: Bool
    /// Lines longer than this are cut to it and flagged `.cut`.
    public let maxLineLength: Int
    /// The resolved format of the file (never `.auto`). With `.auto` and an empty file (a followed
    /// file just created by a rotation) it is decided again from the first bytes that arrive.
    public private(set) var format: LogFormat

    private let fd: Int32
    private let ownsDescriptor: Bool
    /// The parser and the literals, one object read once per buffer (not copied per line).
    private var matching: Matching
    private let parseOptions: LogParseOptions
    private var formatUndecided: Bool
    private let buffer: UnsafeMutableRawBufferPointer

    // Forward: the next file offset to read and the ordinal of the next line to start.
    // Reverse: the end of the part not read yet and the ordinal of the line ending there.
    private var readOffset: Int64
    private var ordinal: Int64
    /// The error of a call that did not fit the scan's direction, for the next `advance`.
    private var refused: LogScanError?
    private var countingOffset: Int64 = 0  // reverse, first phase: lines counted up to here
    private var linesCounted = 0
    private var reverseReady = false
    private var finished = false
    private var isFirstReverseChunk = true

    // A line crossing a buffer boundary: its first `maxLineLength` bytes, its full length, its offset.
    private var carry: [UInt8] = []
    private var carryLength = 0
    private var carryOffset: Int64 = 0
    private var carryActive = false
    private var carryIsPartial = false

    private var pending: [LogRecord] = []
    private var keptLines: [UInt8] = []
    /// The last line kept by a `keepsLines` scan: its offset, ordinal and length (newline included),
    /// for its bookmark.
    public private(set) var lastKeptLine: (offset: Int64, ordinal: Int64, length: Int64)?
    /// Bytes read so far (of the file, or of its decompressed stream), for the scan metrics.
    private(set) var bytesRead = 0
    private var pendingIndex = 0
    private var counted = 0
    private let mapping: MappedFileWindow?
    /// A `.gz` file: its decompressed bytes, read in place. Offsets, ordinals and bookmarks are those
    /// of the decompressed stream.
    private let gzip: GzipStream?
    /// A reverse scan of a `.gz` file holds the decompressed file (filled while counting its lines),
    /// at most `gzipReverseLimit` bytes.
    private var gzipWhole: [UInt8] = []
    /// The most a reverse scan of a `.gz` file holds in memory: its whole decompressed content.
    public static let gzipReverseLimit = 256 << 20
    /// Whether `gzipWhole` holds the whole decompressed file (a reverse scan's first phase is done).
    private var gzipFilled = false
    /// Where a reverse scan of a `.gz` file moved to before its first phase had filled `gzipWhole`:
    /// applied when it has.
    private var gzipPendingEnd: (offset: Int64, lastOrdinal: Int64)?
    /// Where a forward scan stops (`stop(at:)`); the file's end when nil.
    private var stopOffset: Int64?

    /// Opens `path` and prepares a scan; reads nothing but the identity and a format sample.
    /// - Parameters:
    ///   - path: a regular file.
    ///   - filter: records not passing it are skipped (counted as lines, never returned).
    ///   - direction: `.forward` from the start, or `.reverse` from the end (newest first).
    ///   - options: format (default `.auto`: decided from the first 16 lines) and time facts; when
    ///     `options.referenceTime` is `nil`, the file's mtime is used for RFC 3164 years.
    ///   - follow: hold back a partial last line instead of returning it (forward only).
    ///   - countOnly: count matching lines instead of building records (forward only, no follow).
    ///   - keepsLines: with `countOnly`, also keep each matching line's bytes, as they are in the file
    ///     and each with a newline, for `takeKeptLines` (no record is built).
    ///   - bufferSize: bytes per `pread` (≥ 1; default 64 KiB). A slice reads at least one buffer.
    ///   - maxLineLength: the cut limit (≥ 1; default 64 KiB).
    ///   - readMethod: `.read` (default) or `.memoryMap` (forward, non-follow scans; see `LogReadMethod`).
    /// - Throws: `LogScanError` (`open`, `fstat`, `pread`).
    public convenience init(
        path: String, filter: LogFilter = .all, direction: ScanDirection = .forward,
        options: LogParseOptions = LogParseOptions(), follow: Bool = false, countOnly: Bool = false,
        keepsLines: Bool = false, bufferSize: Int = 64 * 1024, maxLineLength: Int = 64 * 1024,
        readMethod: LogReadMethod = .read
    ) throws(LogScanError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LogScanError(operation: "open", errno: errno, path: path) }
        do {
            try self.init(
                fileDescriptor: fd, ownsDescriptor: true, filter: filter, direction: direction, options: options,
                follow: follow, countOnly: countOnly, keepsLines: keepsLines, bufferSize: bufferSize,
                maxLineLength: maxLineLength, readMethod: readMethod)
        } catch {
            close(fd)
            var error = error
            error.path = error.path ?? path
            throw error
        }
    }

    /// Prepares a scan of an open file; closes `fd` on deinit when `ownsDescriptor`.
    /// See `init(path:…)` for the parameters.
    public init(
        fileDescriptor fd: Int32, ownsDescriptor: Bool, filter: LogFilter = .all, direction: ScanDirection = .forward,
        options: LogParseOptions = LogParseOptions(), follow: Bool = false, countOnly: Bool = false,
        keepsLines: Bool = false, bufferSize: Int = 64 * 1024, maxLineLength: Int = 64 * 1024,
        readMethod: LogReadMethod = .read
    ) throws(LogScanError) {
        // Caller input: refused with EINVAL and the rule broken in words, never a trap.
        guard bufferSize >= 1 && maxLineLength >= 1 else {
            throw LogScanError(operation: "scan (bufferSize and maxLineLength must be at least 1)", errno: EINVAL)
        }
        guard direction == .forward || (!follow && !countOnly) else {
            throw LogScanError(operation: "scan (follow and count read forward only)", errno: EINVAL)
        }
        guard countOnly || !keepsLines else {
            throw LogScanError(operation: "scan (keepsLines keeps the lines of a counting scan)", errno: EINVAL)
        }
        guard readMethod == .read || (direction == .forward && !follow) else {
            throw LogScanError(operation: "scan (memoryMap reads forward, without follow)", errno: EINVAL)
        }
        let identity = try FileIdentity.of(fileDescriptor: fd)
        var options = options
        if options.referenceTime == nil { options.referenceTime = identity.modificationTime }
        // The start of the file decides `.auto` and which byte of a literal is rarest.
        var sample = [UInt8](repeating: 0, count: 16 * 1024)
        var n = sample.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n >= 0 else { throw LogScanError(operation: "pread", errno: errno) }
        var gzip: GzipStream?
        if GzipStream.isGzip(sample.prefix(n)) {
            let stream = try GzipStream(fd: fd)
            guard let count = sample.withUnsafeMutableBytes({ stream.read(into: $0.baseAddress!, count: $0.count, at: 0) })
            else { throw LogScanError(operation: "pread", errno: errno) }
            n = count
            gzip = stream
        }
        sample.removeLast(sample.count - n)
        let matching = Matching(options: options, filter: filter, sample: sample)
        self.fd = fd
        self.ownsDescriptor = ownsDescriptor
        self.identity = identity
        self.filter = filter
        self.direction = direction
        self.follow = follow
        self.countOnly = countOnly
        self.keepsLines = keepsLines
        self.maxLineLength = maxLineLength
        self.parseOptions = options
        self.formatUndecided = options.format == .auto && sample.isEmpty
        self.format = matching.parser.format
        self.matching = matching
        self.buffer = .allocate(byteCount: bufferSize, alignment: 64)
        self.mapping = readMethod == .memoryMap && gzip == nil ? MappedFileWindow(fd: fd, size: identity.size) : nil
        self.gzip = gzip
        self.readOffset = direction == .forward || gzip != nil ? 0 : identity.size
        self.ordinal = 0
    }

    /// The parser and the literal searchers for one format, decided from a sample of the file: the
    /// literal searched for in the raw buffer (the longest required one), the other required ones,
    /// and the needle again when it is the literal of `message contains`.
    private final class Matching {
        let parser: LogLineParser
        let needle: LiteralSearcher?
        let otherLiterals: [LiteralSearcher]
        let messageLiteral: LiteralSearcher?

        init(options: LogParseOptions, filter: LogFilter, sample: [UInt8]) {
            var options = options
            if options.format == .auto {
                options.format = LogFormat.detect(sampleLines: LogFormat.sampleLines(sample))
            }
            let format = options.format
            parser = LogLineParser(format: format, options: options)
            // JSON escapes make raw-byte literals inexact there: parse every line instead.
            let searchers = sample.withUnsafeBytes { bytes in
                (format == .jsonLines ? [] : filter.requiredLiterals).map { LiteralSearcher($0, sample: bytes) }
            }
            // Search for the longest literal; check the others in the lines that hold it.
            let longest = searchers.indices.max { searchers[$0].count < searchers[$1].count }
            needle = longest.map { searchers[$0] }
            otherLiterals = searchers.indices.filter { $0 != longest }.map { searchers[$0] }
            messageLiteral = format == .jsonLines || filter.messageContainsLiteral == nil ? nil : needle
        }
    }

    /// Decides the format from the first bytes of a file that was empty when opened.
    private func decideFormat(from base: UnsafeRawPointer, count: Int) {
        formatUndecided = false
        let matching = Matching(
            options: parseOptions, filter: filter, sample: Array(UnsafeRawBufferPointer(start: base, count: count)))
        format = matching.parser.format
        self.matching = matching
    }

    deinit {
        buffer.deallocate()
        if ownsDescriptor { close(fd) }
    }

    /// Where a forward scan will continue reading: the offset and ordinal of the first line not yet
    /// read (lines before it were judged; their matching records were returned or are queued for the
    /// next `advance`; a held-back partial line starts here). Bookmarks should come from records.
    public var position: (offset: Int64, ordinal: Int64) {
        if carryActive { return (carryOffset, ordinal) }
        return (readOffset, ordinal)
    }

    /// Moves a forward scan to a line start: the next records begin at `offset`, numbered from
    /// `ordinal` (both from a record's `offset + length` and `ordinal + 1`, or a bookmark).
    /// Drops records not yet returned. Corresponds to `EvtSeek` to a bookmark. On a reverse scan it
    /// moves nothing and the next `advance` returns `.error` (`EINVAL`).
    public func reposition(offset: Int64, ordinal: Int64) {
        guard direction == .forward else {
            return refuse("reposition(offset:ordinal:) (a reverse scan moves with reposition(endOffset:lastOrdinal:))")
        }
        readOffset = offset
        self.ordinal = ordinal
        clearLineState()
    }

    /// Ends a forward scan at `offset` (a line start, at or past the scan's position): the scan reads
    /// no byte from there on, as if the file ended there. A count split into ranges uses it. On a
    /// reverse scan it does nothing and the next `advance` returns `.error` (`EINVAL`).
    public func stop(at offset: Int64) {
        guard direction == .forward else { return refuse("stop(at:) (it ends forward scans only)") }
        stopOffset = offset
        mapping?.shrink(to: offset)
    }

    /// Moves a reverse scan to a line boundary: the next record is the line ending just before
    /// `endOffset` (a line start, or the file's size), numbered `lastOrdinal`; the records before it
    /// follow, newest first. Drops records not yet returned and skips the line-counting phase.
    /// Corresponds to `EvtSeek` in a reverse result set. On a forward scan it moves nothing and the
    /// next `advance` returns `.error` (`EINVAL`).
    public func reposition(endOffset: Int64, lastOrdinal: Int64) {
        guard direction == .reverse else {
            return refuse("reposition(endOffset:lastOrdinal:) (a forward scan moves with reposition(offset:ordinal:))")
        }
        clearLineState()
        if gzip != nil, !gzipFilled {
            // The decompressed file is read into memory first; the move waits for it.
            gzipPendingEnd = (endOffset, lastOrdinal)
            return
        }
        readOffset = endOffset
        ordinal = lastOrdinal
        reverseReady = true
        isFirstReverseChunk = true
    }

    /// A call that does not fit the scan's direction: its error is the next `advance`'s outcome.
    private func refuse(_ call: String) {
        refused = LogScanError(operation: call, errno: EINVAL)
    }

    /// Forgets the carried line and the queued records (a reposition).
    private func clearLineState() {
        carryActive = false
        carryIsPartial = false
        carryLength = 0
        carry.removeAll(keepingCapacity: true)
        pending.removeAll(keepingCapacity: true)
        pendingIndex = 0
        finished = false
    }

    /// Runs one slice: returns queued records first; otherwise reads buffers until one yields a
    /// match or `budgetBytes` are read (at least one buffer), then stops.
    /// - Parameters:
    ///   - budgetBytes: bytes to read at most in this slice (rounded up to one buffer).
    ///   - maxRecords: records to return at most (≥ 1; below 1 is `.error` with `EINVAL`); the rest
    ///     wait for the next call.
    /// - Returns: see `ScanStep`. After `.endOfFile` a non-following scan keeps returning it.
    public func advance(budgetBytes: Int, maxRecords: Int) -> ScanStep {
        guard maxRecords >= 1 else {
            return .error(LogScanError(operation: "advance (maxRecords must be at least 1)", errno: EINVAL))
        }
        if let refused {
            self.refused = nil
            return .error(refused)
        }
        if let batch = takePending(maxRecords) { return .records(batch) }
        if finished { return countOnly && counted > 0 ? takeCount() : .endOfFile }
        var used = 0
        repeat {
            let step = direction == .forward ? readForward() : readReverse()
            switch step {
            case .failed(let error): return .error(error)
            case .atEnd:
                if countOnly { return counted > 0 ? takeCount() : .endOfFile }
                return takePending(maxRecords).map(ScanStep.records) ?? .endOfFile
            case .read(let bytes):
                used += bytes
                bytesRead &+= bytes
            }
            if !countOnly, pendingIndex < pending.count { break }
        } while used < budgetBytes
        if countOnly { return takeCount() }
        return takePending(maxRecords).map(ScanStep.records) ?? .needMore
    }

    /// Hands the lines kept since the last call (a `keepsLines` scan: each line's bytes as they are in
    /// the file, then a newline) to `body`, then forgets them. Call it after each `advance`. The bytes
    /// are valid UTF-8, as `LogRecordWriter`'s `.raw` gives them: a line that is not has each bad
    /// sequence replaced by U+FFFD.
    public func takeKeptLines(_ body: (UnsafeRawBufferPointer) -> Void) {
        keptLines.withUnsafeBufferPointer { lines in
            if LineText.isValidUTF8(lines) {
                body(UnsafeRawBufferPointer(lines))
            } else {
                // A newline is never part of a bad sequence: repairing the whole run repairs each line.
                var repaired = String(decoding: lines, as: UTF8.self)
                repaired.withUTF8 { body(UnsafeRawBufferPointer($0)) }
            }
        }
        keptLines.removeAll(keepingCapacity: true)
    }

    private func takeCount() -> ScanStep {
        defer { counted = 0 }
        return .counted(counted)
    }

    private func takePending(_ max: Int) -> [LogRecord]? {
        guard pendingIndex < pending.count else { return nil }
        let end = min(pending.count, pendingIndex + max)
        let batch = Array(pending[pendingIndex..<end])
        pendingIndex = end
        if pendingIndex == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
        }
        return batch
    }

    private enum ReadOutcome {
        case read(Int)
        case atEnd
        case failed(LogScanError)
    }

    /// Why the `.gz` file's stream ended early, when it did (read once the scan is at its end).
    public var damage: LogStreamDamage? { gzip?.damage }

    /// A line start at or before the first record stamped at or after `time`, found by binary search
    /// (`TimeBisection`); nil for a `.gz` file or records out of order (then scan from the start).
    func timeBisectionStart(atOrAfter time: LogTime) -> LogPosition? {
        guard gzip == nil else { return nil }
        return TimeBisection.start(
            atOrAfter: time, fd: fd, size: identity.size, format: format, options: parseOptions)
    }

    /// Whether the file is a `.gz` file read through zlib.
    public var isCompressed: Bool { gzip != nil }

    /// Whether `mark` names this file as it is `now` (its identity read again) and a line start in it.
    /// The offsets of a `.gz` file are those of its decompressed stream, checked through zlib (not
    /// against the compressed file's size, nor with a read of the compressed bytes).
    func fits(_ mark: LogBookmark, now: FileIdentity) -> Bool {
        guard gzip != nil else { return mark.refers(to: now) && isLineStart(mark.offset) == true }
        guard mark.device == now.device, mark.inode == now.inode, mark.firstLineHash == now.firstLineHash else {
            return false
        }
        return isLineStart(mark.offset) == true && isLineStart(mark.offset + mark.length) != false
    }

    /// Where a forward read resumes after `mark`'s record (see `LogBookmark.resumePosition(in:)`).
    /// A `.gz` file does not grow: its last line is whole as it is.
    func resumePosition(after mark: LogBookmark) -> LogPosition {
        if gzip != nil { return LogPosition(offset: mark.offset + mark.length, ordinal: mark.ordinal + 1) }
        let (offset, ordinal) = mark.resumePosition(in: fd)
        return LogPosition(offset: offset, ordinal: ordinal)
    }

    /// Whether `offset` starts a line of the (decompressed) file; nil when it cannot be read.
    public func isLineStart(_ offset: Int64) -> Bool? {
        guard offset > 0 else { return offset == 0 }
        var byte: UInt8 = 0
        let n: Int?
        if let gzip, direction == .forward {
            n = gzip.read(into: &byte, count: 1, at: offset - 1)
        } else if let gzip, !gzipFilled {
            // A reverse scan that has not read the file into memory yet reads the stream.
            n = gzip.read(into: &byte, count: 1, at: offset - 1)
        } else if gzip != nil {
            guard offset <= gzipWhole.count else { return false }
            return gzipWhole[Int(offset) - 1] == 0x0A
        } else {
            n = pread(fd, &byte, 1, off_t(offset - 1))
        }
        guard let n else { return nil }
        return n == 1 && byte == 0x0A
    }

    private func readChunk(at offset: Int64, count: Int) -> Int? {
        if let gzip {
            if direction == .reverse, reverseReady {
                let end = min(Int(offset) + count, gzipWhole.count)
                guard Int(offset) < end else { return 0 }
                gzipWhole.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + Int(offset), byteCount: end - Int(offset)) }
                return end - Int(offset)
            }
            return gzip.read(into: buffer.baseAddress!, count: count, at: offset)
        }
        while true {
            let n = pread(fd, buffer.baseAddress, count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { return nil }
        }
    }

    // MARK: forward

    private func readForward() -> ReadOutcome {
        var base = UnsafeRawPointer(buffer.baseAddress!)
        var n = 0
        let zeroFills = mapping == nil ? 0 : TruncatedMappingGuard.zeroFills
        var mapped = false
        if let mapping, let chunk = mapping.chunk(at: readOffset, maxCount: buffer.count) {
            (base, n) = chunk
            mapped = true
        } else {
            let wanted = stopOffset.map { Int(max(0, min(Int64(buffer.count), $0 - readOffset))) } ?? buffer.count
            guard let count = wanted == 0 ? 0 : readChunk(at: readOffset, count: wanted) else {
                return .failed(LogScanError(operation: "pread", errno: errno))
            }
            n = count
        }
        let chunkOffset = readOffset
        if n == 0 {
            // The last mapped page reads zeros past a new, smaller end without a fault: ask.
            if mapped { dropPastEnd() }
            if gzip?.damage != nil {
                // The line the damage cut is not a record: the stream ends after the last whole line.
                carryActive = false
                carry.removeAll(keepingCapacity: true)
                carryLength = 0
            }
            if carryActive, !follow {
                carryIsPartial = true
                finishCarry()
            }
            if !follow { finished = true }
            return .atEnd
        }
        if formatUndecided { decideFormat(from: base, count: n) }
        readOffset += Int64(n)
        defer {
            if mapped, TruncatedMappingGuard.zeroFills != zeroFills { dropPastEnd() }
        }
        var start = 0
        if carryActive {
            let newline = ByteSearch.firstIndex(of: 0x0A, in: base, from: 0, to: n)
            appendToCarry(base, 0, newline ?? n)
            guard let newline else { return .read(n) }
            carryLength += 1
            finishCarry()
            start = newline + 1
        }
        let lastNewline = ByteSearch.lastIndex(of: 0x0A, in: base, from: start, to: n)
        if let lastNewline {
            ordinal = scanRegion(base, from: start, to: lastNewline + 1, chunkOffset: chunkOffset, ordinal: ordinal)
            start = lastNewline + 1
        }
        if start < n {
            carryActive = true
            carry.removeAll(keepingCapacity: true)
            carryLength = 0
            carryOffset = chunkOffset + Int64(start)
            appendToCarry(base, start, n)
        }
        return .read(n)
    }

    /// After the truncation guard mapped zeros over a window (the file shrank while mapped): the
    /// mapping ends at the file's size now and the carried line loses what lay past it, so the scan
    /// gives what a `pread` scan reaching the new end would. Zeros hold no newline and no literal, so
    /// the lines already judged are those before the new end.
    private func dropPastEnd() {
        guard let mapping else { return }
        var status = stat()
        guard fstat(fd, &status) == 0, Int64(status.st_size) < mapping.size else { return }
        let size = Int64(status.st_size)
        mapping.shrink(to: size)
        readOffset = min(readOffset, size)
        guard carryActive, carryOffset + Int64(carryLength) > size else { return }
        carryLength = Int(max(0, size - carryOffset))
        if carry.count > carryLength { carry.removeLast(carry.count - carryLength) }
        if carryLength == 0 { carryActive = false }
    }

    private func appendToCarry(_ base: UnsafeRawPointer, _ from: Int, _ to: Int) {
        let room = max(0, maxLineLength - carry.count)
        let take = min(room, to - from)
        if take > 0 {
            carry.append(contentsOf: UnsafeRawBufferPointer(start: base + from, count: take))
        }
        carryLength += to - from
    }

    /// Considers the carried line (its length includes the newline when it has one).
    private func finishCarry() {
        let flags: LogRecordFlags = carryIsPartial ? .partial : []
        let hasNewline = !carryIsPartial
        let contentLength = carryLength - (hasNewline ? 1 : 0)
        let matching = self.matching
        carry.withUnsafeBytes { raw in
            consider(
                raw.baseAddress ?? UnsafeRawPointer(buffer.baseAddress!), 0, min(contentLength, raw.count),
                fullLength: contentLength, offset: carryOffset, ordinal: ordinal, length: Int64(carryLength),
                flags: flags, needleAt: nil, matching)
        }
        ordinal += direction == .forward ? 1 : -1
        carryActive = false
        carryIsPartial = false
        carry.removeAll(keepingCapacity: true)
        carryLength = 0
    }

    /// Scans complete lines in `base[from..<to]` (`to` just after a newline); returns the ordinal
    /// after them. Only lines holding the needle are parsed.
    private func scanRegion(_ base: UnsafeRawPointer, from: Int, to: Int, chunkOffset: Int64, ordinal first: Int64)
        -> Int64
    {
        var ordinal = first
        var cursor = from
        let countLines = !countOnly || keepsLines
        let matching = self.matching
        if let needle = matching.needle {
            while let hit = needle.find(in: base, from: cursor, to: to) {
                let lineStart = (ByteSearch.lastIndex(of: 0x0A, in: base, from: cursor, to: hit) ?? (cursor - 1)) + 1
                let lineEnd = ByteSearch.firstIndex(of: 0x0A, in: base, from: hit + needle.count, to: to) ?? (to - 1)
                if countLines { ordinal += Int64(ByteSearch.countNewlines(in: base, from: cursor, to: lineStart)) }
                consider(
                    base, lineStart, lineEnd, fullLength: lineEnd - lineStart,
                    offset: chunkOffset + Int64(lineStart), ordinal: ordinal, length: Int64(lineEnd + 1 - lineStart),
                    flags: [], needleAt: hit - lineStart, matching)
                ordinal += 1
                cursor = lineEnd + 1
            }
            if countLines { ordinal += Int64(ByteSearch.countNewlines(in: base, from: cursor, to: to)) }
            return ordinal
        }
        while cursor < to {
            let lineEnd = ByteSearch.firstIndex(of: 0x0A, in: base, from: cursor, to: to) ?? (to - 1)
            consider(
                base, cursor, lineEnd, fullLength: lineEnd - cursor, offset: chunkOffset + Int64(cursor),
                ordinal: ordinal, length: Int64(lineEnd + 1 - cursor), flags: [], needleAt: nil, matching)
            ordinal += 1
            cursor = lineEnd + 1
        }
        return ordinal
    }

    /// Applies the prefilter and the filter to one line (`base[from..<to]`, at most
    /// `maxLineLength` of its `fullLength` bytes) and records or counts it.
    @inline(__always)
    private func consider(
        _ base: UnsafeRawPointer, _ from: Int, _ to: Int, fullLength: Int, offset: Int64, ordinal: Int64,
        length: Int64, flags: LogRecordFlags, needleAt: Int?, _ matching: Matching
    ) {
        var flags = flags
        var end = to
        if fullLength > maxLineLength {
            flags.insert(.cut)
            end = from + maxLineLength
        }
        let line = UnsafeBufferPointer(start: (base + from).assumingMemoryBound(to: UInt8.self), count: end - from)
        let raw = UnsafeRawPointer(base + from)
        // Where the needle starts in the line (already known when the line was found by it).
        var needleAt = needleAt
        if needleAt == nil, let needle = matching.needle {
            guard let at = needle.find(in: raw, from: 0, to: line.count) else { return }
            needleAt = at
        }
        for literal in matching.otherLiterals where literal.find(in: raw, from: 0, to: line.count) == nil { return }
        if countOnly, let messageLiteral = matching.messageLiteral, let start = matching.parser.messageStart(line) {
            // The message literal is the needle: its first hit counts if it lies in the message.
            let end = LogLineParser.trimmingCR(line).count
            if let at = needleAt, at >= start, at + messageLiteral.count <= end {
                take(raw, fullLength: fullLength, available: to - from, offset: offset, ordinal: ordinal, length: length)
            } else if messageLiteral.find(in: raw, from: start, to: end) != nil {
                take(raw, fullLength: fullLength, available: to - from, offset: offset, ordinal: ordinal, length: length)
            }
            return
        }
        let (passes, record) = matching.parser.evaluate(
            line, offset: offset, ordinal: ordinal, length: length, flags: flags, filter: filter, wantRecord: !countOnly
        )
        guard passes else { return }
        if countOnly {
            take(raw, fullLength: fullLength, available: to - from, offset: offset, ordinal: ordinal, length: length)
        } else if let record {
            pending.append(record)
        }
    }

    /// Counts a matching line, and keeps its bytes in a `keepsLines` scan: from memory when the
    /// line is there whole, else (a line longer than `maxLineLength` that crossed buffers) read again
    /// from a plain file; a `.gz` file's is kept cut (reading behind its stream restarts it).
    @inline(__always)
    private func take(
        _ line: UnsafeRawPointer, fullLength: Int, available: Int, offset: Int64, ordinal: Int64, length: Int64
    ) {
        counted += 1
        guard keepsLines else { return }
        lastKeptLine = (offset, ordinal, length)
        let start = keptLines.count
        if fullLength > available, gzip == nil {
            keptLines.append(contentsOf: repeatElement(0, count: fullLength))
            let n = keptLines.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + start, fullLength, off_t(offset)) }
            if n != fullLength { keptLines.removeSubrange(start...) }
        }
        if keptLines.count == start {
            keptLines.append(contentsOf: UnsafeRawBufferPointer(start: line, count: min(fullLength, available)))
        }
        keptLines.append(0x0A)
    }

    // MARK: reverse

    private func readReverse() -> ReadOutcome {
        if !reverseReady { return countLinesForReverse() }
        if readOffset == 0 {
            if carryActive {
                carryOffset = 0
                finishCarry()
            }
            finished = true
            return .atEnd
        }
        let chunkOffset = max(0, readOffset - Int64(buffer.count))
        let count = Int(readOffset - chunkOffset)
        guard let n = readChunk(at: chunkOffset, count: count), n == count else {
            return .failed(LogScanError(operation: "pread", errno: errno == 0 ? EIO : errno))
        }
        readOffset = chunkOffset
        let base = UnsafeRawPointer(buffer.baseAddress!)
        if isFirstReverseChunk {
            isFirstReverseChunk = false
            if base.load(fromByteOffset: n - 1, as: UInt8.self) != 0x0A {
                carryIsPartial = true
                carryActive = true
            }
        }
        guard let lastNewline = ByteSearch.lastIndex(of: 0x0A, in: base, from: 0, to: n) else {
            prependToCarry(base, 0, n)
            carryActive = true
            return .read(n)
        }
        // The line after the last newline of this chunk ends in the carry.
        if carryActive {
            prependToCarry(base, lastNewline + 1, n)
            carryOffset = chunkOffset + Int64(lastNewline + 1)
            finishCarry()
        }
        let firstNewline = ByteSearch.firstIndex(of: 0x0A, in: base, from: 0, to: n)!
        if firstNewline < lastNewline {
            let regionStart = firstNewline + 1
            let lines = Int64(ByteSearch.countNewlines(in: base, from: regionStart, to: lastNewline + 1))
            let before = pending.count
            _ = scanRegion(
                base, from: regionStart, to: lastNewline + 1, chunkOffset: chunkOffset, ordinal: ordinal - lines + 1)
            pending[before...].reverse()
            ordinal -= lines
        }
        // The head, up to the first newline, is the end of a line starting earlier.
        carry.removeAll(keepingCapacity: true)
        carryLength = 1
        prependToCarry(base, 0, firstNewline)
        carryActive = true
        return .read(n)
    }

    /// Puts `base[from..<to]` in front of the carried line, keeping its first `maxLineLength` bytes.
    private func prependToCarry(_ base: UnsafeRawPointer, _ from: Int, _ to: Int) {
        let bytes = UnsafeRawBufferPointer(start: base + from, count: to - from)
        carry.insert(contentsOf: bytes.prefix(maxLineLength), at: 0)
        if carry.count > maxLineLength { carry.removeLast(carry.count - maxLineLength) }
        carryLength += to - from
    }

    /// First phase of a reverse scan: counts the lines (so ordinals are exact), one buffer a call.
    private func countLinesForReverse() -> ReadOutcome {
        if gzip != nil { return countCompressedLinesForReverse() }
        let end = identity.size
        if countingOffset >= end {
            let base = UnsafeRawPointer(buffer.baseAddress!)
            var endsWithNewline = true
            if end > 0 {
                guard readChunk(at: end - 1, count: 1) == 1 else {
                    return .failed(LogScanError(operation: "pread", errno: errno == 0 ? EIO : errno))
                }
                endsWithNewline = base.load(as: UInt8.self) == 0x0A
            }
            ordinal = Int64(linesCounted) - (endsWithNewline ? 1 : 0)
            reverseReady = true
            return .read(0)
        }
        let count = Int(min(Int64(buffer.count), end - countingOffset))
        guard let n = readChunk(at: countingOffset, count: count), n == count else {
            return .failed(LogScanError(operation: "pread", errno: errno == 0 ? EIO : errno))
        }
        linesCounted += ByteSearch.countNewlines(in: UnsafeRawPointer(buffer.baseAddress!), from: 0, to: n)
        countingOffset += Int64(n)
        return .read(n)
    }

    /// The first phase of a reverse scan of a `.gz` file: decompresses one buffer a call into
    /// `gzipWhole`, counting its lines; the scan then reads newest first from memory.
    private func countCompressedLinesForReverse() -> ReadOutcome {
        guard let n = readChunk(at: countingOffset, count: buffer.count) else {
            return .failed(LogScanError(operation: "pread", errno: errno))
        }
        let base = UnsafeRawPointer(buffer.baseAddress!)
        if n > 0 {
            guard gzipWhole.count + n <= Self.gzipReverseLimit else {
                return .failed(LogScanError(operation: "inflate", errno: EFBIG))
            }
            gzipWhole.append(contentsOf: UnsafeRawBufferPointer(start: base, count: n))
            linesCounted += ByteSearch.countNewlines(in: base, from: 0, to: n)
            countingOffset += Int64(n)
            return .read(n)
        }
        if gzip?.damage != nil, let lastNewline = gzipWhole.lastIndex(of: 0x0A) {
            // The line the damage cut is not a record.
            gzipWhole.removeLast(gzipWhole.count - lastNewline - 1)
        } else if gzip?.damage != nil {
            gzipWhole.removeAll()
        }
        let endsWithNewline = gzipWhole.last.map { $0 == 0x0A } ?? true
        ordinal = Int64(linesCounted) - (endsWithNewline ? 1 : 0)
        if gzip?.damage != nil { ordinal = Int64(gzipWhole.lazy.filter { $0 == 0x0A }.count) - 1 }
        readOffset = Int64(gzipWhole.count)
        gzipFilled = true
        if let pending = gzipPendingEnd {
            gzipPendingEnd = nil
            readOffset = min(pending.offset, readOffset)
            ordinal = pending.lastOrdinal
            isFirstReverseChunk = true
        }
        reverseReady = true
        return .read(0)
    }
}
