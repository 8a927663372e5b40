import EventReactor
import EvqueryTestSupport
import Foundation
import LogQuery
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// What a subscription delivered, gathered from the loop.
final class SubscriptionLog: Sendable {
    private struct State {
        var numbers: [Int] = []
        var rotations = 0
        var cuts = 0
        var records: [LogRecord] = []
        var identities: [FileIdentity] = []
    }

    private let state = Locked(State())
    let ended = Awaited<LogQueryError>()

    func take(_ event: LogSubscriptionEvent) {
        state.withLock { s in
            switch event {
            case .records(let records, let identity):
                s.numbers += records.compactMap(sequenceNumber)
                s.records += records
                s.identities += Array(repeating: identity, count: records.count)
            case .rotated: s.rotations += 1
            case .truncated: s.cuts += 1
            }
        }
    }

    var numbers: [Int] { state.withLock { $0.numbers } }
    var records: [LogRecord] { state.withLock { $0.records } }
    var identities: [FileIdentity] { state.withLock { $0.identities } }
    var rotations: Int { state.withLock { $0.rotations } }
    var cuts: Int { state.withLock { $0.cuts } }
}

/// Subscribes with everything counted by the ledger.
func follow(
    _ path: String, _ reactor: Reactor, _ ledger: OperationLedger, start: LogSubscriptionStart = .future,
    poll: Duration = .milliseconds(100)
) -> (LogSubscription, SubscriptionLog) {
    let log = SubscriptionLog()
    let subscription = LogQuery.subscribe(
        path: path, start: start, poll: poll, on: reactor, deliver: { log.take($0) },
        ended: ledger.track { log.ended.set($0) })
    return (subscription, log)
}

/// Appends with `write(2)` on an `O_APPEND` descriptor, as a logger does.
final class RawAppender {
    private(set) var fd: Int32
    let path: String

    init(path: String) {
        self.path = path
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    }

    func write(_ text: String) {
        var bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { Glibc.write(fd, $0.baseAddress! + done, $0.count - done) }
            if n <= 0 { return }
            done += n
        }
    }

    /// logrotate's default: rename the file away, then create a new one at the path.
    func rotateByRename(to target: String) {
        rename(path, target)
        Glibc.close(fd)
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
    }

    /// logrotate's `copytruncate`: copy the content away, then cut the file to 0 and keep writing.
    func rotateByCopyTruncate(to target: String) {
        if let data = FileManager.default.contents(atPath: path) {
            FileManager.default.createFile(atPath: target, contents: data)
        }
        ftruncate(fd, 0)
    }

    deinit { Glibc.close(fd) }
}

@Suite struct LogSubscriptionTests {
    @Test func aFutureSubscriptionDeliversOnlyNewLinesAndHoldsBackAPartialOne() throws {
        try withLogFile(syslogLines(10)) { path in
            try withAuditedReactor { reactor, ledger in
                let (subscription, log) = follow(path, reactor, ledger)
                #expect(eventually { subscription.counters.snapshot.slices >= 1 })
                let writer = RawAppender(path: path)
                writer.write(syslogLines(5, from: 10))
                #expect(eventually { log.numbers.count == 5 })
                let line = syslogLines(1, from: 15)
                writer.write(String(line.dropLast(12)))
                // Two more looks at the file (the poll timer fires every 100 ms) hold it back.
                let slices = subscription.counters.snapshot.slices
                #expect(eventually { subscription.counters.snapshot.slices >= slices + 2 })
                #expect(log.numbers == Array(10..<15))
                writer.write(String(line.suffix(12)))
                #expect(eventually { log.numbers.count == 6 })
                #expect(log.numbers == Array(10..<16))
                #expect(log.records.map(\.ordinal) == Array(10..<16))
                subscription.cancel()
                subscription.close()
                guard case .cancelled(let info)? = log.ended.wait() else {
                    Issue.record("expected a cancel")
                    return
                }
                #expect(info.reason == .caller)
            }
        }
    }

    @Test func cancelAllEndsEverySubscriptionOnce() throws {
        try withLogFile(syslogLines(3)) { path in
            try withAuditedReactor { reactor, ledger in
                let followers = (0..<3).map { _ in follow(path, reactor, ledger, start: .oldest) }
                #expect(eventually { followers.allSatisfy { $0.1.numbers.count == 3 } })
                reactor.cancelAll()
                for (subscription, log) in followers {
                    guard case .cancelled(let info)? = log.ended.wait() else {
                        Issue.record("expected a cancel")
                        continue
                    }
                    #expect(info.reason == .cancelAll)
                    subscription.close()
                }
            }
        }
    }

    @Test func aBookmarkFromADeliveredRecordResumesASecondSubscription() throws {
        try withLogFile(syslogLines(20)) { path in
            try withAuditedReactor { reactor, ledger in
                let (first, log) = follow(path, reactor, ledger, start: .oldest)
                #expect(eventually { log.numbers.count == 20 })
                first.cancel()
                _ = log.ended.wait()
                let mark = LogBookmark(record: log.records[11], in: log.identities[11])
                let (second, resumed) = follow(path, reactor, ledger, start: .afterBookmark(mark, strict: true))
                #expect(eventually { resumed.numbers.count == 8 })
                #expect(resumed.numbers == Array(12..<20))
                second.cancel()
                _ = resumed.ended.wait()
                // Another file at the path: the strict start fails, the lenient one reads it all.
                try FileManager.default.removeItem(atPath: path)
                try Data(syslogLines(3, from: 100).utf8).write(to: URL(fileURLWithPath: path))
                let (strict, refused) = follow(path, reactor, ledger, start: .afterBookmark(mark, strict: true))
                #expect(refused.ended.wait() == .notFound)
                strict.cancel()
                let (lenient, all) = follow(path, reactor, ledger, start: .afterBookmark(mark, strict: false))
                #expect(eventually { all.numbers == [100, 101, 102] })
                lenient.cancel()
                _ = all.ended.wait()
            }
        }
    }

    @Test func followingAcross100RotationsOfBothKindsLosesNothingByRenameAndReportsCopytruncateGaps() throws {
        try withLogFile("") { path in
            try withAuditedReactor { reactor, ledger in
                let (subscription, log) = follow(path, reactor, ledger, start: .oldest, poll: .milliseconds(20))
                // The subscription watches the directory and has the file open before the writer starts.
                #expect(eventually { subscription.counters.snapshot.slices >= 1 })
                let perSegment = 200
                let rotations = 100
                let cutSegments = Locked<Set<Int>>([])
                let writerDone = Awaited<Bool>()
                let writer = Thread {
                    let appender = RawAppender(path: path)
                    for segment in 0..<rotations {
                        let first = segment * perSegment
                        appender.write(syslogLines(1, from: first))
                        if segment % 2 == 1 {
                            // The follower has this file open and read into it: the cut must show.
                            _ = eventually { log.numbers.last == first }
                        }
                        for n in (first + 1)..<(first + perSegment) { appender.write(syslogLines(1, from: n)) }
                        if segment % 2 == 0 {
                            appender.rotateByRename(to: "\(path).\(segment)")
                        } else {
                            cutSegments.withLock { _ = $0.insert(segment) }
                            appender.rotateByCopyTruncate(to: "\(path).\(segment)")
                        }
                    }
                    appender.write(syslogLines(perSegment, from: rotations * perSegment))
                    writerDone.set(true)
                }
                writer.start()
                #expect(writerDone.wait(seconds: 60) == true)
                let last = (rotations + 1) * perSegment - 1
                #expect(eventually(within: .seconds(30)) { log.numbers.last == last })
                subscription.cancel()
                guard case .cancelled? = log.ended.wait() else {
                    Issue.record("expected a cancel")
                    return
                }
                let numbers = log.numbers
                #expect(Set(numbers).count == numbers.count, "a record was delivered twice")
                let cut = cutSegments.withLock { $0 }
                let missing = Set(0...last).subtracting(numbers)
                let lostOutsideCuts = missing.filter { !cut.contains($0 / perSegment) }
                #expect(lostOutsideCuts.isEmpty, "lost without a copytruncate: \(lostOutsideCuts.sorted().prefix(10))")
                #expect(log.cuts == cut.count)
                #expect(log.rotations == rotations / 2)
                let stats = subscription.counters.snapshot
                #expect(stats.maxSlice > .zero && stats.slices > 0 && stats.recordsDelivered == numbers.count)
                print(
                    "follow: \(numbers.count) delivered, \(missing.count) in reported gaps, \(log.rotations) renames, "
                        + "\(log.cuts) cuts, \(stats.slices) slices, longest \(stats.maxSlice)")
            }
        }
    }
}
