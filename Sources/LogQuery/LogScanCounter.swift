/// Counting matching lines of a whole file in one call, for tools and benchmarks (a blocking
/// loop over a count-mode `LogScanner`; on a reactor, drive the scanner in slices instead).
public enum LogScanCounter {
    /// Counts the lines of `path` that pass `filter`.
    /// - Parameters:
    ///   - path: the file.
    ///   - filter: a filter expression (see `LogFilter`).
    ///   - options: format and time facts (default: auto-detected format).
    ///   - bufferSize: bytes per read (default 64 KiB).
    ///   - readMethod: `.read` (default) or `.memoryMap` (see `LogReadMethod` for its SIGBUS caveat).
    /// - Returns: the number of matching lines (a partial last line counts).
    /// - Throws: `LogFilterError` for a bad filter (nothing is read), `LogScanError` for I/O.
    public static func count(
        path: String, filter: String, options: LogParseOptions = LogParseOptions(), bufferSize: Int = 64 * 1024,
        readMethod: LogReadMethod = .read
    ) throws -> Int {
        let compiled = try LogFilter(filter)
        let scanner = try LogScanner(
            path: path, filter: compiled, options: options, countOnly: true, bufferSize: bufferSize,
            readMethod: readMethod)
        var total = 0
        while true {
            switch scanner.advance(budgetBytes: 16 * bufferSize, maxRecords: 1) {
            case .counted(let n): total += n
            case .endOfFile: return total
            case .error(let error): throw error
            case .records, .needMore: continue
            }
        }
    }
}
