import Foundation
import LogQuery
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Paths and globs expanded into one history, oldest first; bad names are clear errors.
@Suite struct LogFileSetTests {
    /// Makes the named (empty-line) files in a fresh directory and passes it to `body`.
    func withFiles(_ names: [String], _ body: (String) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("logset-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        for name in names { FileManager.default.createFile(atPath: directory + "/" + name, contents: Data("x\n".utf8)) }
        try body(directory)
    }

    @Test func aRotationSetIsOrderedOldestFirstWithTheLiveFileLast() throws {
        try withFiles(["auth.log", "auth.log.1", "auth.log.2.gz", "auth.log.10.gz", "syslog", "syslog.1"]) { d in
            let set = try LogFileSet(patterns: [d + "/auth.log*", d + "/syslog*"])
            #expect(set.paths == ["auth.log.10.gz", "auth.log.2.gz", "auth.log.1", "auth.log", "syslog.1", "syslog"].map { d + "/" + $0 })
        }
    }

    @Test func aNumberedSuffixAtTheLimitOfInt64IsOrderedNotATrap() throws {
        try withFiles(["app.log", "app.log.1", "app.log.9223372036854775807"]) { d in
            let set = try LogFileSet(patterns: [d + "/app.log*"])
            #expect(set.paths == ["app.log.9223372036854775807", "app.log.1", "app.log"].map { d + "/" + $0 })
        }
    }

    @Test func datedRotationsAreOrderedByDate() throws {
        try withFiles(["messages", "messages-20261206", "messages-20261130.gz", "messages-20261201.gz"]) { d in
            let set = try LogFileSet(patterns: [d + "/messages", d + "/messages-*"])
            #expect(set.paths == ["messages-20261130.gz", "messages-20261201.gz", "messages-20261206", "messages"].map { d + "/" + $0 })
        }
    }

    @Test func aPathNamedTwiceIsReadOnce() throws {
        try withFiles(["a.log", "a.log.1"]) { d in
            let set = try LogFileSet(patterns: [d + "/a.log", d + "/a.log*"])
            #expect(set.paths == [d + "/a.log.1", d + "/a.log"])
        }
    }

    @Test func aGlobMatchingNothingAMissingFileAndADirectoryAreClearErrors() throws {
        try withFiles(["a.log"]) { d in
            #expect(throws: LogFileSetError.noMatch(pattern: d + "/b*.log")) { try LogFileSet(patterns: [d + "/b*.log"]) }
            #expect(throws: LogFileSetError.unreadable(path: d + "/c.log", errno: ENOENT)) {
                try LogFileSet(patterns: [d + "/a.log", d + "/c.log"])
            }
            #expect(LogFileSetError.unreadable(path: d + "/c.log", errno: ENOENT).description
                == "open \(d)/c.log: No such file or directory (errno 2)")
            #expect(LogFileSetError.noMatch(pattern: "x*").description == "no file matches 'x*'")
            #expect(throws: LogFileSetError.unreadable(path: d, errno: EISDIR)) { try LogFileSet(patterns: [d]) }
        }
    }

    @Test func aFileWithoutReadPermissionIsAClearError() async throws {
        // Root reads every file: the check runs in a child process that drops to user nobody.
        await #expect(processExitsWith: .success) {
            // A directory anyone may write, so that the child can remove the file it cannot read.
            let directory = "/tmp/logset-perm-\(getpid())"
            mkdir(directory, 0o777)
            chmod(directory, 0o777)
            let path = directory + "/secret.log"
            FileManager.default.createFile(atPath: path, contents: Data("x\n".utf8), attributes: [.posixPermissions: 0o600])
            guard setgid(65534) == 0, setuid(65534) == 0 else { exit(2) }
            let outcome: Int32
            do throws(LogFileSetError) {
                _ = try LogFileSet(patterns: [path])
                outcome = 3
            } catch {
                outcome = error == .unreadable(path: path, errno: EACCES)
                    && error.description == "open \(path): Permission denied (errno 13)" ? 0 : 4
            }
            unlink(path)
            rmdir(directory)
            exit(outcome)
        }
    }
}
