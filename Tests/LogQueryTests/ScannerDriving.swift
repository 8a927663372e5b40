import LogQuery

/// Runs a scanner to the end, collecting every record (fails the test on an I/O error).
func collect(_ scanner: LogScanner, budget: Int = 1 << 20, maxRecords: Int = 1000) throws -> [LogRecord] {
    var records: [LogRecord] = []
    while true {
        switch scanner.advance(budgetBytes: budget, maxRecords: maxRecords) {
        case .records(let batch): records += batch
        case .needMore, .counted: continue
        case .endOfFile: return records
        case .error(let error): throw error
        }
    }
}

/// Scans `path` with the given settings and returns all records.
func scan(
    _ path: String, filter: String? = nil, direction: ScanDirection = .forward,
    format: LogFormat = .auto, bufferSize: Int = 256 * 1024, maxLineLength: Int = 64 * 1024
) throws -> [LogRecord] {
    let options = LogParseOptions(format: format, referenceTime: LogTime(rfc3339: "2026-06-01T00:00:00Z"))
    let scanner = try LogScanner(
        path: path, filter: try filter.map { try LogFilter($0) } ?? .all, direction: direction, options: options,
        bufferSize: bufferSize, maxLineLength: maxLineLength)
    return try collect(scanner)
}
