import EventReactor
import EvqueryTestSupport
import Foundation
import LogQuery
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Rotations a follower meets at the worst moments, forced rather than waited for.
@Suite struct LogRotationTests {
    /// The loop is held while the writer rotates twice (`log` → `log.1` → `log.2`, the middle file
    /// renamed to `log.1` in turn): the follower wakes two renames behind and must read the middle
    /// file, found by the name inotify saw it renamed to, before the newest.
    @Test func aFollowerTwoRenamesBehindReadsTheMiddleFileBeforeTheNewest() throws {
        try withLogFile(syslogLines(10)) { path in
            try withAuditedReactor { reactor, ledger in
                let (subscription, log) = follow(path, reactor, ledger, start: .oldest, poll: .milliseconds(20))
                #expect(eventually { log.numbers.count == 10 })
                reactor.syncOnLoop {
                    let writer = RawAppender(path: path)
                    writer.write(syslogLines(10, from: 10))
                    writer.rotateByRename(to: "\(path).1")
                    writer.write(syslogLines(10, from: 20))
                    rename("\(path).1", "\(path).2")
                    writer.rotateByRename(to: "\(path).1")
                    writer.write(syslogLines(10, from: 30))
                }
                #expect(eventually { log.numbers.count >= 40 })
                #expect(log.numbers == Array(0..<40), "\(log.numbers)")
                #expect(log.rotations == 2)
                subscription.cancel()
                #expect(log.ended.wait() != nil)
            }
        }
    }

    /// Lines the writer adds to the old file after the follower read it to its end, while it
    /// renames the file and creates the next one: the follower's second read of the old file, once
    /// it has seen the rename, must deliver them before the new file's lines.
    @Test func linesWrittenToTheOldFileAfterItsEndWasReadAreSeenByTheReadAfterTheRename() throws {
        try withLogFile(syslogLines(10)) { path in
            try withAuditedReactor { reactor, ledger in
                let (subscription, log) = follow(path, reactor, ledger, start: .oldest, poll: .milliseconds(20))
                #expect(eventually { log.numbers.count == 10 })
                let old = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
                defer { close(old) }
                @Sendable func append(_ fd: Int32, _ text: String) {
                    let bytes = Array(text.utf8)
                    _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                }
                let armed = Locked(false)
                reactor.syncOnLoop {
                    subscription.endOfFileHook = {
                        // Once, at the first end of file met after line 10 was written (so read).
                        guard armed.withLock({ armed in defer { armed = false }; return armed }) else { return }
                        rename(path, "\(path).1")
                        let next = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
                        append(next, syslogLines(10, from: 21))
                        close(next)
                        // The old file's last lines, after the end the follower just read.
                        append(old, syslogLines(10, from: 11))
                    }
                }
                append(old, syslogLines(1, from: 10))
                armed.withLock { $0 = true }
                #expect(eventually { log.numbers.count >= 31 })
                #expect(log.numbers == Array(0..<31), "\(log.numbers)")
                #expect(log.rotations == 1)
                subscription.cancel()
                #expect(log.ended.wait() != nil)
            }
        }
    }
}
