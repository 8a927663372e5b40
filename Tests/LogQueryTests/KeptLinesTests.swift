import EvqueryTestSupport
import Foundation
import Testing
@testable import LogQuery

/// A counting scan that keeps the matching lines' bytes (`evq scan --output raw`): the same lines
/// as the records a scan returns, byte for byte as in the file, at every buffer split.
@Suite struct KeptLinesTests {
    static let filters: [String?] = [
        nil, #"message contains "Failed password""#, #"app == "sshd" and message ~ "user [a-z]+""#,
        #"message ~ "^Failed""#,
    ]

    /// What `--output raw` prints for `records` of `file`: each line without its newline, repaired
    /// where it is not UTF-8, then a newline.
    func expectedLines(_ records: [LogRecord], of file: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = []
        for record in records {
            let end = Int(record.offset + record.length) - (record.flags.contains(.partial) ? 0 : 1)
            bytes += Array(String(decoding: file[Int(record.offset)..<end], as: UTF8.self).utf8) + [0x0A]
        }
        return bytes
    }

    func keptLines(
        _ path: String, filter: String?, bufferSize: Int, maxLineLength: Int = 64 * 1024,
        readMethod: LogReadMethod = .read
    ) throws -> (bytes: [UInt8], count: Int, last: (offset: Int64, ordinal: Int64, length: Int64)?) {
        let options = LogParseOptions(referenceTime: LogTime(rfc3339: "2026-06-01T00:00:00Z"))
        let scanner = try LogScanner(
            path: path, filter: try filter.map { try LogFilter($0) } ?? .all, options: options, countOnly: true,
            keepsLines: true, bufferSize: bufferSize, maxLineLength: maxLineLength, readMethod: readMethod)
        var bytes: [UInt8] = []
        var count = 0
        while true {
            let step = scanner.advance(budgetBytes: 3 * bufferSize, maxRecords: 1)
            scanner.takeKeptLines { bytes += $0 }
            switch step {
            case .counted(let n): count += n
            case .endOfFile: return (bytes, count, scanner.lastKeptLine)
            case .error(let error): throw error
            case .records, .needMore: continue
            }
        }
    }

    @Test func keptLinesAreTheMatchingLinesAsInTheFileAtEveryBufferSplit() throws {
        let file = LogScannerTests.awkward
        try withLogFile(file) { path in
            for filter in Self.filters {
                let records = try scan(path, filter: filter, maxLineLength: 100)
                let expected = expectedLines(records, of: file)
                for size in Array(1...64) + [4096] {
                    let kept = try keptLines(path, filter: filter, bufferSize: size, maxLineLength: 100)
                    #expect(kept.bytes == expected, "buffer \(size), filter \(filter ?? "none")")
                    #expect(kept.count == records.count)
                    #expect(kept.last?.offset == records.last?.offset && kept.last?.ordinal == records.last?.ordinal
                        && kept.last?.length == records.last?.length, "buffer \(size), filter \(filter ?? "none")")
                }
                for size in [7, 4096] {
                    let mapped = try keptLines(
                        path, filter: filter, bufferSize: size, maxLineLength: 100, readMethod: .memoryMap)
                    #expect(mapped.bytes == expected, "mapped, buffer \(size), filter \(filter ?? "none")")
                }
            }
        }
    }

    @Test func keptLinesOfAGzipFileAreItsDecompressedLines() throws {
        let text = syslogLines(3000)
        let file = Array(text.utf8)
        try withLogFile(try gzip(text)) { path in
            let records = try withLogFile(file) { plain in try scan(plain, filter: #"message ~ "^Failed""#) }
            #expect(records.count == 3000 / 7 + 1)
            for size in [1000, 65536] {
                let kept = try keptLines(path, filter: #"message ~ "^Failed""#, bufferSize: size)
                #expect(kept.bytes == expectedLines(records, of: file), "buffer \(size)")
                #expect(kept.last?.ordinal == 2996 && kept.last?.offset == records.last?.offset)
            }
        }
    }

    @Test func keepingLinesIsRefusedWithoutCounting() throws {
        try withLogFile(Array("x\n".utf8)) { path in
            _ = #expect(throws: LogScanError.self) { try LogScanner(path: path, keepsLines: true) }
        }
    }
}
