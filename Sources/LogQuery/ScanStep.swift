/// Which way a scan reads a file.
public enum ScanDirection: Sendable, Hashable {
    /// From the start (or a position) towards the end; the only direction that can follow.
    case forward
    /// From the end towards the start, reading blocks backwards; newest record first.
    case reverse
}

/// What one slice of a scan produced (`LogScanner.advance`).
///
/// Corresponds to one `EvtNext` call: `.records` is a (possibly partial) batch, `.endOfFile`
/// is `ERROR_NO_MORE_ITEMS`.
public enum ScanStep: Sendable, Equatable {
    /// 1…`maxRecords` matching records, in scan order.
    case records([LogRecord])
    /// Count mode: this many matching lines were found in the slice (0 or more).
    case counted(Int)
    /// The slice's byte budget was used without a match; advance again (let other work run first).
    case needMore
    /// Nothing more now: the end (start, in reverse) of the file was reached. When following, a
    /// partial last line is held back and a later `advance` continues once the file grows.
    case endOfFile
    /// A read failed; the scanner keeps its position and may be advanced again.
    case error(LogScanError)
}
