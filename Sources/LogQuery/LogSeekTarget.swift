/// Where `LogQuery.seek(to:strict:)` moves a query. Positions count matching records, in the
/// query's direction (in a reverse query "first" is the newest record).
///
/// Corresponds to the `EvtSeekRelativeToFirst`, `…ToLast`, `…ToCurrent`, `…ToBookmark` flags of
/// `EvtSeek`, plus a seek by time.
public enum LogSeekTarget: Sendable, Equatable {
    /// The start of the scan: the next record is the first matching one.
    case first
    /// The next record is the last matching one.
    case last
    /// Moves `n` matching records from the current position (after the last record delivered):
    /// `+n` skips `n` records, `-n` steps back so that the last `n` records come again.
    case relative(Int)
    /// Forward: the next record is the first matching one at or after the time. Reverse: the
    /// newest matching one at or before it. (A forward search over the file's records.)
    case time(LogTime)
    /// The next record is the bookmarked line.
    case bookmark(LogBookmark)
    /// The next record is the one after the bookmarked line (resuming where a reader stopped).
    case afterBookmark(LogBookmark)
}

/// A boundary between two lines of a file: the line starting at `offset` is numbered `ordinal`,
/// the lines before it have smaller ordinals. A forward scan continues at it; a reverse scan
/// continues with the line ending at it.
struct LogPosition: Sendable, Equatable {
    var offset: Int64
    var ordinal: Int64

    /// The boundary in front of `record` in `direction` (the record comes next).
    static func before(_ record: LogRecord, _ direction: ScanDirection) -> LogPosition {
        direction == .forward
            ? LogPosition(offset: record.offset, ordinal: record.ordinal)
            : LogPosition(offset: record.offset + record.length, ordinal: record.ordinal + 1)
    }

    /// The boundary just past `record` in `direction` (the record was delivered).
    static func after(_ record: LogRecord, _ direction: ScanDirection) -> LogPosition {
        direction == .forward
            ? LogPosition(offset: record.offset + record.length, ordinal: record.ordinal + 1)
            : LogPosition(offset: record.offset, ordinal: record.ordinal)
    }
}
