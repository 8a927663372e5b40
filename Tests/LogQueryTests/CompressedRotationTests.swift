import EventReactor
import EvqueryTestSupport
import Foundation
import LogQuery
import Testing

/// A rotation set with plain and `.gz` members (one of them damaged), read in place as one history.
@Suite struct CompressedRotationTests {
    /// auth.log.4.gz: lines 0..<40 cut short (the file ends inside the member, after line 19 or so);
    /// auth.log.3.gz: lines 40..<60 in one member, then a member whose first block is invalid;
    /// auth.log.2.gz: lines 60..<90 in two members; auth.log.1: 90..<100; auth.log: 100..<110.
    func withRotationSet(_ body: (String, [String]) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("logrot-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let cut = try gzip(syslogLines(40, padding: 30))
        var corrupt = try gzip(syslogLines(20, from: 40))
        var bad = try gzip(syslogLines(5, from: 60))
        bad[10] = 0xFF  // the first deflate block: BTYPE 11, reserved
        corrupt += bad
        let files: [(String, [UInt8])] = [
            ("auth.log.4.gz", Array(cut.prefix(cut.count / 2))),
            ("auth.log.3.gz", corrupt),
            ("auth.log.2.gz", try gzip(syslogLines(15, from: 60)) + gzip(syslogLines(15, from: 75))),
            ("auth.log.1", Array(syslogLines(10, from: 90).utf8)),
            ("auth.log", Array(syslogLines(10, from: 100).utf8)),
        ]
        for (name, bytes) in files { try Data(bytes).write(to: URL(fileURLWithPath: directory + "/" + name)) }
        let set = try LogFileSet(patterns: [directory + "/auth.log*"])
        #expect(set.paths == files.map { directory + "/" + $0.0 })
        try body(directory, set.paths)
    }

    @Test func forwardReadsEachFileInPlaceAndStopsADamagedOneAtItsLastWholeLine() throws {
        try withRotationSet { _, paths in
            try withAuditedReactor { reactor, ledger in
                var all: [Int?] = []
                var damaged: [String] = []
                for path in paths {
                    let query = try LogQuery.open(path: path, on: reactor)
                    defer { query.close() }
                    let records = try #require(drain(query, ledger, max: 7))
                    #expect(records.allSatisfy { $0.flags.isEmpty })
                    all += records.map(sequenceNumber)
                    if let damage = query.damage { damaged.append(damage.reason) }
                }
                let cutShort = all.prefix { ($0 ?? 99) < 40 }.count
                #expect(cutShort > 5 && cutShort < 40)
                #expect(all == (0..<cutShort).map { $0 } + (40..<60).map { $0 } + (60..<110).map { $0 })
                #expect(damaged == ["the file ends inside a member", "corrupt data (invalid block type)"])
            }
        }
    }

    @Test func reverseReadsEachFileNewestFirst() throws {
        try withRotationSet { _, paths in
            try withAuditedReactor { reactor, ledger in
                var all: [Int?] = []
                for path in paths.reversed() {
                    let query = try LogQuery.open(path: path, direction: .reverse, on: reactor)
                    defer { query.close() }
                    let records = try #require(drain(query, ledger, max: 7))
                    #expect(zip(records, records.dropFirst()).allSatisfy { $0.ordinal == $1.ordinal + 1 })
                    #expect(records.last?.ordinal == 0)
                    all += records.map(sequenceNumber)
                }
                let cutShort = all.reversed().prefix { ($0 ?? 99) < 40 }.count
                #expect(all == ((0..<cutShort).map { $0 } + (40..<110).map { $0 }).reversed())
            }
        }
    }

    @Test func aBookmarkInEachFileResumesRightAfterItsRecord() throws {
        try withRotationSet { _, paths in
            try withAuditedReactor { reactor, ledger in
                for path in paths {
                    let first = try LogQuery.open(path: path, on: reactor)
                    defer { first.close() }
                    let records = try #require(drain(first, ledger, max: 50))
                    let middle = records.count / 2
                    let mark = first.bookmark(for: records[middle])
                    let resumed = try LogQuery.open(path: path, on: reactor)
                    defer { resumed.close() }
                    #expect(seek(resumed, ledger, to: .afterBookmark(mark), strict: true) == .success(true))
                    let rest = try #require(drain(resumed, ledger, max: 50))
                    #expect(rest == Array(records[(middle + 1)...]), "\(path)")
                    // A count of the file agrees with the records.
                    let counting = try LogQuery.open(path: path, on: reactor)
                    defer { counting.close() }
                    let counted = Awaited<Result<Int, LogQueryError>>()
                    counting.count(completion: ledger.track { counted.set($0) })
                    #expect(counted.wait() == .success(records.count))
                    // A count that met a damaged member says so, as the read did.
                    #expect(counting.damage?.reason == first.damage?.reason, "\(path)")
                    #expect((first.damage != nil) == (path.hasSuffix(".4.gz") || path.hasSuffix(".3.gz")))
                }
            }
        }
    }

    /// A subscription resumed from a bookmark in a `.gz` file starts right after the record (its
    /// offset is the decompressed stream's, not one in the compressed bytes), strict or not.
    @Test func aSubscriptionAfterABookmarkInAGzipFileResumesRightAfterItsRecord() throws {
        try withRotationSet { _, paths in
            try withAuditedReactor { reactor, ledger in
                for path in paths where path.hasSuffix(".gz") {
                    let first = try LogQuery.open(path: path, on: reactor)
                    defer { first.close() }
                    let records = try #require(drain(first, ledger, max: 50))
                    let middle = records.count / 2
                    let mark = first.bookmark(for: records[middle])
                    for strict in [true, false] {
                        let (subscription, log) = follow(path, reactor, ledger, start: .afterBookmark(mark, strict: strict))
                        let expected = records[(middle + 1)...].map(sequenceNumber)
                        #expect(eventually(within: .seconds(10)) { log.numbers.count >= expected.count }, "\(path)")
                        #expect(log.numbers == expected.compactMap { $0 }, "\(path), strict \(strict)")
                        subscription.cancel()
                        guard case .cancelled? = log.ended.wait() else {
                            Issue.record("the subscription did not end with cancelled")
                            return
                        }
                    }
                }
            }
        }
    }

    /// A reverse query over a `.gz` member seeks to a bookmark, to the first and last records and by
    /// a count, as over a plain file: the records come newest first from the one before the mark.
    @Test func aReverseQueryOverAGzipFileSeeksLikeOneOverAPlainFile() throws {
        try withRotationSet { _, paths in
            try withAuditedReactor { reactor, ledger in
                for path in paths {
                    let first = try LogQuery.open(path: path, direction: .reverse, on: reactor)
                    defer { first.close() }
                    let records = try #require(drain(first, ledger, max: 50))
                    let middle = records.count / 2
                    let mark = first.bookmark(for: records[middle])
                    let reverse = try LogQuery.open(path: path, direction: .reverse, on: reactor)
                    defer { reverse.close() }
                    #expect(seek(reverse, ledger, to: .afterBookmark(mark), strict: true) == .success(true), "\(path)")
                    #expect(try #require(drain(reverse, ledger, max: 7)) == Array(records[(middle + 1)...]), "\(path)")
                    #expect(seek(reverse, ledger, to: .bookmark(mark), strict: true) == .success(true), "\(path)")
                    #expect(nextNumbers(reverse, ledger, max: 1) == [sequenceNumber(records[middle])], "\(path)")
                    #expect(seek(reverse, ledger, to: .first) == .success(true))
                    #expect(nextNumbers(reverse, ledger, max: 1) == [sequenceNumber(records[0])], "\(path)")
                }
            }
        }
    }
}
