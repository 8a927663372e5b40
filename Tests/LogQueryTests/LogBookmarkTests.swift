import Testing
@testable import LogQuery

@Suite struct LogBookmarkTests {
    let bookmark = LogBookmark(
        device: 0x803, inode: 1_234_567, firstLineHash: 0xDEAD_BEEF_0123_4567, offset: 987_654_321, ordinal: 4_242,
        length: 87)

    @Test func roundTripsThroughItsText() throws {
        let text = bookmark.serialized
        #expect(text.hasPrefix("evqb1-"))
        #expect(try LogBookmark(serialized: text) == bookmark)
    }

    @Test func garbageIsRejectedWithAReason() {
        let text = bookmark.serialized
        #expect(throws: LogBookmarkError.notABookmark) { try LogBookmark(serialized: "hello") }
        #expect(throws: LogBookmarkError.notABookmark) { try LogBookmark(serialized: "") }
        #expect(throws: LogBookmarkError.unsupportedVersion("2")) { try LogBookmark(serialized: "evqb2-00") }
        #expect(throws: LogBookmarkError.wrongLength(49)) { try LogBookmark(serialized: String(text.dropLast(2))) }
        #expect(throws: LogBookmarkError.invalidCharacter) {
            try LogBookmark(serialized: String(text.dropLast(2)) + "zz")
        }
        // One altered digit in the offset.
        var altered = Array(text)
        altered[40] = altered[40] == "0" ? "1" : "0"
        #expect(throws: LogBookmarkError.checksumMismatch) { try LogBookmark(serialized: String(altered)) }
    }

    @Test func bookmarkResumesAScanAfterItsRecord() throws {
        let text = (0..<50).map { "Jan  1 00:00:\(String(format: "%02d", $0)) h app[\($0)]: line \($0)\n" }.joined()
        try withLogFile(text) { path in
            let all = try scan(path)
            let scanner = try LogScanner(path: path)
            let mark = LogBookmark(record: all[20], in: scanner.identity)
            let restored = try LogBookmark(serialized: mark.serialized)
            #expect(restored.refers(to: try FileIdentity.of(path: path)))
            let resumed = try LogScanner(path: path)
            resumed.reposition(offset: restored.offset + restored.length, ordinal: restored.ordinal + 1)
            #expect(try collect(resumed) == Array(all[21...]))
        }
    }

    @Test func identityTellsGrowthRotationAndTruncation() throws {
        try withLogFile("first line\nsecond\n") { path in
            let before = try FileIdentity.of(path: path)
            #expect(before.change(to: before) == .unchanged)
            var grown = before
            grown.size += 10
            #expect(before.change(to: grown) == .grew)
            var shrunk = before
            shrunk.size -= 1
            #expect(before.change(to: shrunk) == .truncated)
            var rewritten = grown
            rewritten.firstLineHash ^= 1
            #expect(before.change(to: rewritten) == .truncated)
            var other = before
            other.inode += 1
            #expect(before.change(to: other) == .replaced)
            #expect(before.firstLineHash == FileIdentity.fnv1a(Array("first line".utf8)))
        }
    }
}
