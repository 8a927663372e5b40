import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `evq` as a child process, started with `posix_spawn` and reaped with `waitpid`: its
/// standard output discarded, its standard error read through a pipe, so that a test can wait for
/// a line, signal the child and read its exit status. Every wait is bounded; a child still running
/// when the test is done is killed.
final class EvqChild {
    let pid: pid_t
    private let errorPipe: Int32
    private var reaped = false
    /// Standard error read so far.
    private(set) var stderr = ""

    /// Starts `evq arguments`.
    init(_ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let path = Evq.executable.path
        try #require(access(path, X_OK) == 0, "no evq at \(path): build with swift build --build-tests",
                     sourceLocation: sourceLocation)
        var pipeEnds: [Int32] = [0, 0]
        try #require(pipe(&pipeEnds) == 0, "pipe: \(String(cString: strerror(errno)))")
        // Not inherited by other children (the child gets its end as fd 2 through dup2).
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        // As a shell starts it: no signal blocked (a test runner's thread blocks some) and SIGTERM,
        // SIGINT at their default action.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), stops = sigset_t()
        sigemptyset(&none)
        sigemptyset(&stops)
        sigaddset(&stops, SIGTERM)
        sigaddset(&stops, SIGINT)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &stops)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        close(pipeEnds[1])
        guard spawned == 0 else {
            close(pipeEnds[0])
            throw SpawnFailure(description: "posix_spawn \(path): \(String(cString: strerror(spawned)))")
        }
        pid = child
        errorPipe = pipeEnds[0]
    }

    struct SpawnFailure: Error, CustomStringConvertible {
        var description: String
    }

    deinit {
        if !reaped {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        close(errorPipe)
    }

    /// Reads standard error until it holds `text` (true), it ends, or `seconds` pass (false).
    func waitForError(containing text: String, seconds: Double) -> Bool {
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        while !stderr.contains(text) {
            let now = monotonicNanoseconds()
            guard now < deadline, readError(timeoutMillis: Int32(min(1000, (deadline - now) / 1_000_000 + 1))) != .ended
            else { return stderr.contains(text) }
        }
        return true
    }

    /// Sends `signal` to the child.
    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Reads standard error to its end and reaps the child: its exit code, or nil if a signal ended
    /// it or it was still running after `seconds` (then it is killed).
    func exitCode(within seconds: Double) -> Int32? {
        let deadline = monotonicNanoseconds() + UInt64(seconds * 1e9)
        var status: Int32 = 0
        var reading = true
        while true {
            if reading { reading = readError(timeoutMillis: 100) != .ended } else { usleep(10_000) }
            if waitpid(pid, &status, WNOHANG) == pid {
                while readError(timeoutMillis: 0) == .read {}
                reaped = true
                return status & 0x7F == 0 ? (status >> 8) & 0xFF : nil
            }
            if monotonicNanoseconds() >= deadline { return nil }  // deinit kills and reaps it
        }
    }

    private enum ReadResult { case read, nothingYet, ended }

    /// Reads what standard error has within `timeoutMillis`.
    private func readError(timeoutMillis: Int32) -> ReadResult {
        var poller = pollfd(fd: errorPipe, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMillis) == 1 else { return .nothingYet }
        var chunk = [UInt8](repeating: 0, count: 4096)
        let count = read(errorPipe, &chunk, chunk.count)
        guard count > 0 else { return count == 0 ? .ended : .nothingYet }
        stderr += String(decoding: chunk[..<count], as: UTF8.self)
        return .read
    }
}

/// CLOCK_MONOTONIC in nanoseconds: the deadlines of a child's waits.
private func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
