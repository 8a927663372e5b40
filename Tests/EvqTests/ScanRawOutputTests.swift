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

    static func gzip(_ text: String) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-c", "-n"]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(text.utf8))
        try input.fileHandleForWriting.close()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return data
    }

    /// auth.log.2.gz (lines 0..<40), auth.log.1 (40..<60), auth.log (60..<70); `cut` truncates the .gz.
    func withRotationSet(cut: Bool = false, _ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("evqraw-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let compressed = try Self.gzip(Self.lines(40, from: 0))
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
            let process = Process()
            process.executableURL = Evq.executable
            process.arguments = ["scan", "-n", "3", "--follow", "--output", "raw", directory + "/auth.log*"]
            let out = Pipe()
            let err = Pipe()
            process.standardOutput = out
            process.standardError = err
            let collected = Collected()
            out.fileHandleForReading.readabilityHandler = { collected.append($0.availableData) }
            func text() -> String { collected.text }
            func waitFor(_ expected: String) -> Bool {
                for _ in 0..<400 where text() != expected { usleep(50_000) }
                return text() == expected
            }
            try process.run()
            defer { if process.isRunning { process.terminate() } }
            let last3 = Self.lineList(10, from: 60).suffix(3).joined()
            #expect(waitFor(last3))
            let appended = Self.lines(2, from: 70)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/auth.log"))
            try log.seekToEnd()
            log.write(Data(appended.utf8))
            try log.close()
            #expect(waitFor(last3 + appended))
            process.terminate()
            process.waitUntilExit()
            out.fileHandleForReading.readabilityHandler = nil
            #expect(process.terminationStatus == 0)
            let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            #expect(stderr.hasPrefix("-- bookmark: evqb1-"))
        }
    }
}

/// Bytes a pipe's handler gathers on its own thread, read by the test.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()

    func append(_ more: Data) {
        lock.lock()
        data += more
        lock.unlock()
    }

    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return String(decoding: data, as: UTF8.self)
    }
}
