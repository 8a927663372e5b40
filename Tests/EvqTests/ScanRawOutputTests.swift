import EvqueryTestSupport
import Foundation
import Testing

/// `evq scan --output raw` prints the matching lines as they are in the files, `.gz` members
/// decompressed; `--count` over a damaged `.gz` member counts on and says so.
@Suite struct ScanRawOutputTests {
    /// `count` syslog lines from `first`; every third is an sshd failure; CRLF on every fifth.
    static func lines(_ count: Int, from first: Int) -> String { lineList(count, from: first).joined() }

    static func lineList(_ count: Int, from first: Int) -> [String] {
        (first..<(first + count)).map { n in
            let end = n % 5 == 0 ? "\r\n" : "\n"
            return n % 3 == 0
                ? "Dec  7 10:00:0\(n % 10) web1 sshd[\(n)]: Failed password for root seq=\(n)\(end)"
                : "Dec  7 10:00:0\(n % 10) web2 cron[\(n)]: job ran seq=\(n)\(end)"
        }
    }

    /// auth.log.2.gz (lines 0..<40), auth.log.1 (40..<60), auth.log (60..<70); `cut` truncates the .gz.
    func withRotationSet(cut: Bool = false, _ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("evqraw-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let compressed = Data(try gzip(Self.lines(40, from: 0)))
        try (cut ? compressed.prefix(compressed.count / 2) : compressed)
            .write(to: URL(fileURLWithPath: directory + "/auth.log.2.gz"))
        try Data(Self.lines(20, from: 40).utf8).write(to: URL(fileURLWithPath: directory + "/auth.log.1"))
        try Data(Self.lines(10, from: 60).utf8).write(to: URL(fileURLWithPath: directory + "/auth.log"))
        try body(directory)
    }

    @Test func rawOutputIsEveryLineAsItIsInTheFilesWithGzipMembersDecompressed() throws {
        try withRotationSet { directory in
            let run = try Evq.run(["scan", "--output", "raw", directory + "/auth.log*"])
            #expect(run.status == 0)
            #expect(run.stdout == Self.lines(70, from: 0))
            #expect(run.stderr.hasPrefix("-- bookmark: evqb1-"))
            let failed = try Evq.run(
                ["scan", "--output", "raw", "--filter", #"message ~ "^Failed [a-z]+ for""#, directory + "/auth.log*"])
            let expected = Self.lineList(70, from: 0).filter { $0.contains("Failed") }.joined()
            #expect(failed.stdout == expected)
        }
    }

    @Test func aCountOverACutGzipMemberCountsOnAndSaysWhereItStopped() throws {
        try withRotationSet(cut: true) { directory in
            let run = try Evq.run(["scan", "--count", directory + "/auth.log*"])
            #expect(run.status == 0)
            let count = try #require(Int(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
            // The plain files' 30 lines and the whole lines before the cut.
            #expect(count > 30 && count < 70)
            #expect(run.stderr.contains("auth.log.2.gz: ") && run.stderr.contains("read up to the last whole line"))
            // The raw lines of the cut member are the count's.
            let raw = try Evq.run(["scan", "--output", "raw", directory + "/auth.log*"])
            #expect(raw.stdout.utf8.filter { $0 == 0x0A }.count == count)
            #expect(raw.stderr.contains("auth.log.2.gz: "))
        }
    }

    /// `evq scan -n 3 --follow` (tail -n 3 -f): the last three lines of the set, then each line
    /// appended to the newest file, then on SIGTERM the bookmark of the last.
    @Test func theLastLinesThenTheNewOnesWithLinesAndFollow() throws {
        try withRotationSet { directory in
            let scan = try ChildProcess(
                Evq.executable, ["scan", "-n", "3", "--follow", "--output", "raw", directory + "/auth.log*"])
            func waitFor(_ expected: String) -> Bool {
                let text = scan.readStandardOutput(until: { String(decoding: $0, as: UTF8.self) == expected })
                return String(decoding: text, as: UTF8.self) == expected
            }
            let last3 = Self.lineList(10, from: 60).suffix(3).joined()
            #expect(waitFor(last3))
            let appended = Self.lines(2, from: 70)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/auth.log"))
            try log.seekToEnd()
            log.write(Data(appended.utf8))
            try log.close()
            #expect(waitFor(last3 + appended))
            scan.signal(SIGTERM)
            let run = scan.wait(timeout: .seconds(30))
            #expect(run.exited && run.status == 0)
            let stderr = run.errors
            #expect(stderr.hasPrefix("-- bookmark: evqb1-"))
        }
    }
}
