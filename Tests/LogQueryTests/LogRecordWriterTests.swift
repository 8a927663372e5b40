import Foundation
import LogQuery
import Testing

/// Records rendered for `evq scan --output`: JSON that a real parser reads back for any bytes, raw
/// lines as they are in the file, and the journalctl-like text forms.
@Suite struct LogRecordWriterTests {
    /// Lines with invalid UTF-8, control bytes, quotes and backslashes, lines of no format, and a
    /// partial last line.
    static let file: [UInt8] =
        Array("<38>Dec  7 10:00:01 web1 sshd[42]: Failed password for \"root\" from 10.0.0.1\n".utf8)
        + Array("Dec  7 10:00:02 web1 app: bad bytes ".utf8) + [0xFF, 0xFE, 0x20, 0xC3, 0x28, 0x0A]
        + Array("Dec  7 10:00:03 web1 app: tab\there, bell ".utf8) + [0x07] + Array(" back\\slash\r\n".utf8)
        + Array("<165>1 2026-12-07T10:00:04.5Z h app 7 ID1 [ex@1 a=\"1\" b=\"x\\\"y\"] héllo\n".utf8)
        + [0x80, 0x81] + Array(" not syslog at all\n".utf8)
        + Array("Dec  7 10:00:06 web1 cron[9]: unfinished".utf8)

    func records(_ path: String) throws -> [LogRecord] {
        let options = LogParseOptions(format: .rfc3164, referenceTime: LogTime(rfc3339: "2026-12-07T12:00:00Z"))
        return try collect(try LogScanner(path: path, options: options))
    }

    /// The line's bytes in `file` without its newline.
    func lineBytes(_ record: LogRecord) -> [UInt8] {
        let end = Int(record.offset + record.length) - (record.flags.contains(.partial) ? 0 : 1)
        return Array(Self.file[Int(record.offset)..<end])
    }

    @Test func everyJSONLineParsesBackWithEveryFieldAndItsBookmarkWhateverTheBytes() throws {
        try withLogFile(Self.file) { path in
            let identity = try FileIdentity.of(path: path)
            let records = try records(path)
            #expect(records.count == 6)
            var writer = LogRecordWriter(format: .json)
            for record in records {
                let line = lineBytes(record)
                line.withUnsafeBytes { writer.append(record, bookmark: LogBookmark(record: record, in: identity), line: $0) }
            }
            let lines = writer.bytes.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
            #expect(lines.count == records.count)
            for (record, text) in zip(records, lines) {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(text)) as? [String: Any])
                #expect(object["message"] as? String == record.message)
                #expect(object["host"] as? String == record.host)
                #expect(object["app"] as? String == record.app)
                #expect((object["pid"] as? NSNumber)?.intValue == record.pid)
                #expect(object["severity"] as? String == record.severity?.name)
                #expect((object["offset"] as? NSNumber)?.int64Value == record.offset)
                #expect((object["ordinal"] as? NSNumber)?.int64Value == record.ordinal)
                #expect((object["length"] as? NSNumber)?.int64Value == record.length)
                let time = (object["time"] as? String).flatMap { LogTime(rfc3339: $0) }
                #expect(time == record.timestamp)
                let mark = try LogBookmark(serialized: try #require(object["bookmark"] as? String))
                #expect(mark == LogBookmark(record: record, in: identity))
                let bytes = (object["line_bytes"] as? [NSNumber])?.map(\.uint8Value)
                #expect(bytes == (record.flags.contains(.invalidUTF8) ? lineBytes(record) : nil))
            }
            #expect(records.filter { $0.flags.contains(.invalidUTF8) }.count == 2)
            let last = try #require(try JSONSerialization.jsonObject(with: Data(lines[5])) as? [String: Any])
            #expect(last["flags"] as? [String] == ["partial"])
        }
    }

    @Test func jsonCarriesStructuredDataAndExtraFields() throws {
        let record = LogRecord(
            timestamp: LogTime(rfc3339: "2026-12-07T10:00:04.5Z"), host: "h", app: "app", pid: 7, msgid: "ID1",
            severity: LogSeverity(rawValue: 5), facility: 20,
            structuredData: [StructuredDataElement(id: "ex@1", parameters: [.init(name: "a", value: "1"), .init(name: "b", value: "x\"y]")])],
            extraFields: [(name: "user\u{1}", value: "\\n")], message: "héllo")
        var writer = LogRecordWriter(format: .json)
        writer.append(record, bookmark: nil)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(writer.bytes.dropLast())) as? [String: Any])
        let elements = try #require(object["structured_data"] as? [[String: Any]])
        #expect(elements.first?["id"] as? String == "ex@1")
        #expect((elements.first?["parameters"] as? [[String]]) == [["a", "1"], ["b", "x\"y]"]])
        #expect((object["fields"] as? [[String]]) == [["user\u{1}", "\\n"]])
        #expect(object["msgid"] as? String == "ID1" && (object["facility"] as? NSNumber)?.intValue == 20)
        #expect(object["time"] as? String == "2026-12-07T10:00:04.5Z" && object["severity"] as? String == "notice")
        #expect(object["message"] as? String == "héllo" && object["bookmark"] == nil)
    }

    @Test func rawOutputIsEachLineAsItIsInTheFile() throws {
        try withLogFile(Self.file) { path in
            var writer = LogRecordWriter(format: .raw)
            for record in try records(path) {
                lineBytes(record).withUnsafeBytes { writer.append(record, bookmark: nil, line: $0) }
            }
            // Valid lines come out byte for byte; the two that are not UTF-8 repaired (U+FFFD).
            let expected = String(decoding: Self.file + [0x0A], as: UTF8.self)
            #expect(writer.bytes == Array(expected.utf8))
        }
    }

    @Test func shortAndISOFormsReadLikeJournalctl() throws {
        let record = LogRecord(
            timestamp: LogTime(rfc3339: "2026-12-07T09:05:03.25Z"), host: "web1", app: "sshd", pid: 42,
            message: "Accepted publickey")
        var iso = LogRecordWriter(format: .iso)
        iso.append(record, bookmark: nil)
        iso.append(LogRecord(message: "no fields"), bookmark: nil)
        #expect(String(decoding: iso.bytes, as: UTF8.self)
            == "2026-12-07T09:05:03Z web1 sshd[42]: Accepted publickey\n- - -: no fields\n")
        var short = LogRecordWriter(format: .short)
        short.append(record, bookmark: nil)
        #expect(String(decoding: short.bytes, as: UTF8.self) == "Dec 07 09:05:03 web1 sshd[42]: Accepted publickey\n")
    }
}
