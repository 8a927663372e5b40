/// Turns one line (without its newline) into a record of a fixed format, or a raw record.
struct LogLineParser: Sendable {
    /// The resolved format (never `.auto`).
    let format: LogFormat
    let options: LogParseOptions

    init(format: LogFormat, options: LogParseOptions) {
        precondition(format != .auto, "resolve .auto with LogFormat.detect first")
        self.format = format
        var options = options
        if options.yearForMonth == nil {
            // Work the reference date out once, not per line.
            let reference = (options.referenceTime ?? LogTime.now).utcDate
            options.yearForMonth = { month in month > reference.month ? reference.year - 1 : reference.year }
        }
        self.options = options
    }

    /// Whether `line` passes `filter`, and (when `wantRecord`) its record if it does. RFC 3164
    /// lines are judged on their located header when the filter allows, so a failing line costs
    /// no allocation.
    func evaluate(
        _ line: UnsafeBufferPointer<UInt8>, offset: Int64, ordinal: Int64, length: Int64, flags: LogRecordFlags,
        filter: LogFilter, wantRecord: Bool
    ) -> (passes: Bool, record: LogRecord?) {
        let trimmed = Self.trimmingCR(line)
        // The timestamp is worked out only when the filter or the record needs it.
        if format == .rfc3164, filter.readsOnlyHeaderFields, LineText.isValidUTF8(trimmed),
            let fields = RFC3164Parser.locate(trimmed, options: options, computeTime: filter.readsTime)
        {
            guard filter.root.matches(LocatedSyslogLine(line: trimmed, fields: fields)) else { return (false, nil) }
            guard wantRecord else { return (true, nil) }
            let timed = filter.readsTime ? fields : RFC3164Parser.locate(trimmed, options: options) ?? fields
            var record = RFC3164Parser.record(trimmed, timed)
            record.offset = offset
            record.ordinal = ordinal
            record.length = length
            record.flags = flags
            return (true, record)
        }
        let record = self.record(line, offset: offset, ordinal: ordinal, length: length, flags: flags)
        return filter.matches(record) ? (true, record) : (false, nil)
    }

    /// The record of `line`; a line not of the format becomes a `.raw` record holding the whole line.
    func record(
        _ line: UnsafeBufferPointer<UInt8>, offset: Int64, ordinal: Int64, length: Int64, flags: LogRecordFlags
    ) -> LogRecord {
        let line = Self.trimmingCR(line)
        var record: LogRecord?
        switch format {
        case .rfc3164: record = RFC3164Parser.locate(line, options: options).map { RFC3164Parser.record(line, $0) }
        case .rfc5424: record = RFC5424Parser.locate(line).flatMap { RFC5424Parser.record(line, $0) }
        case .jsonLines: record = JSONLineParser.parse(line, options: options)
        case .auto: record = nil
        }
        var extra = flags
        if !LineText.isValidUTF8(line) { extra.insert(.invalidUTF8) }
        if record == nil { extra.insert(.raw) }
        var result = record ?? LogRecord(message: LineText.string(line, 0..<line.count))
        result.offset = offset
        result.ordinal = ordinal
        result.length = length
        result.flags = extra
        return result
    }

    /// Where the message starts in `line`, without building the record (0 for a raw line);
    /// `nil` for JSON lines, whose message is not a verbatim slice.
    func messageStart(_ line: UnsafeBufferPointer<UInt8>) -> Int? {
        switch format {
        case .rfc3164: RFC3164Parser.locate(line, options: options, computeTime: false)?.messageStart ?? 0
        case .rfc5424:
            RFC5424Parser.locate(line).map { f in
                // Malformed structured data makes the line raw: its message is the whole line.
                f.structuredData.map { RFC5424Parser.structuredData(UnsafeBufferPointer(rebasing: line[$0])) == nil }
                    == true ? 0 : f.messageStart
            } ?? 0
        case .jsonLines, .auto: nil
        }
    }

    /// `line` without one trailing `\r` (CRLF files).
    @inline(__always)
    static func trimmingCR(_ line: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        if let last = line.last, last == 0x0D { return UnsafeBufferPointer(rebasing: line.dropLast()) }
        return line
    }
}
