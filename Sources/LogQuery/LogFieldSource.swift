/// What the filter reads from a line: a built `LogRecord`, or a located RFC 3164 line whose
/// fields are still byte ranges (so lines that fail the filter are never turned into records).
protocol LogFieldSource {
    var severity: LogSeverity? { get }
    var timestamp: LogTime? { get }
    /// `pid` or `facility`.
    func integer(_ field: LogFilterField) -> Int?
    /// Whether `body` holds for the UTF-8 bytes of any value of `field` (false when it has none).
    func anyText(_ field: LogFilterField, _ body: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool
}

extension LogRecord: LogFieldSource {
    func integer(_ field: LogFilterField) -> Int? { field == .pid ? pid : facility }

    func anyText(_ field: LogFilterField, _ body: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        field.texts(self).contains { text in
            var text = text
            return text.withUTF8(body)
        }
    }
}

/// An RFC 3164 line with its header located, read by the filter without building a record.
/// Only for valid UTF-8 lines, so its bytes equal the record's strings.
struct LocatedSyslogLine: LogFieldSource {
    let line: UnsafeBufferPointer<UInt8>
    let fields: RFC3164Parser.Fields

    var severity: LogSeverity? { fields.priority.flatMap { LogSeverity(rawValue: $0 & 7) } }
    var timestamp: LogTime? { fields.timestamp }

    func integer(_ field: LogFilterField) -> Int? { field == .pid ? fields.pid : fields.priority.map { $0 >> 3 } }

    func anyText(_ field: LogFilterField, _ body: (UnsafeBufferPointer<UInt8>) -> Bool) -> Bool {
        let range: Range<Int>?
        switch field {
        case .host: range = fields.host
        case .app: range = fields.app
        case .message: range = fields.messageStart..<line.count
        case .pid:
            return fields.pid.map { pid in String(pid).utf8.withContiguousStorageIfAvailable(body) ?? false } ?? false
        case .severity:
            return severity.map { s in s.name.utf8.withContiguousStorageIfAvailable(body) ?? false } ?? false
        case .facility:
            return fields.priority.map { p in String(p >> 3).utf8.withContiguousStorageIfAvailable(body) ?? false }
                ?? false
        case .time, .msgid, .structured, .extra: range = nil
        }
        return range.map { body(UnsafeBufferPointer(rebasing: line[$0])) } ?? false
    }
}
