#if canImport(Glibc)
import Glibc
#endif

/// A program the tests run (`evq`, kdig, dig, gzip, openssl, python3, the tools scripts), started with
/// `posix_spawn` and reaped with `waitpid`, never through Foundation's `Process` (whose zombie
/// children once kept Swift Testing's exit-test monitor spinning).
///
/// Promises: the child's output is read through pipes to their end while it runs (no pipe fills
/// up); every wait is bounded, and a child that outlives its bound is killed with SIGKILL and reaped;
/// the child gets SIGKILL when the thread that started it ends (it is started through util-linux's
/// `setpriv --pdeathsig KILL`, since `posix_spawn` runs no code in the child), so a test process that
/// dies leaves no child behind. Not for concurrent use: one test thread drives one child.
public final class ChildProcess: @unchecked Sendable {
    /// Where a child's standard output or error goes.
    public enum Output: Sendable {
        /// A pipe the test reads (`Result.stdout` / `.stderr`, `readStandardOutput(until:timeout:)`).
        case pipe
        /// `/dev/null`.
        case discard
        /// The test process's own.
        case inherit
    }

    /// How a child ended, and what it wrote.
    public struct Result: Sendable {
        /// The exit code, or 128 + the signal that ended the child (as a shell reports it).
        public var status: Int32
        /// Whether the child ended by `exit` (not by a signal).
        public var exited: Bool
        /// Whether the child outlived its bound and was killed for it.
        public var timedOut: Bool
        /// Everything written to standard output, when it was a pipe.
        public var stdout: [UInt8]
        /// Everything written to standard error, when it was a pipe.
        public var stderr: [UInt8]
        /// `stdout` as UTF-8 text.
        public var output: String { String(decoding: stdout, as: UTF8.self) }
        /// `stderr` as UTF-8 text.
        public var errors: String { String(decoding: stderr, as: UTF8.self) }
    }

    /// A child that could not be started, in words (`/usr/bin/kdig: No such file or directory`).
    public struct SpawnError: Error, CustomStringConvertible {
        /// What failed, on what, and why.
        public var description: String
    }

    /// The child's process id.
    public let pid: pid_t
    private var input: [UInt8]
    private var inputSent = 0
    private var stdinFD: Int32 = -1
    private var stdoutFD: Int32 = -1
    private var stderrFD: Int32 = -1
    private var stdoutBytes: [UInt8] = []
    private var stderrBytes: [UInt8] = []
    private var waitStatus: Int32?

    /// Starts `path` with `arguments`. `environment` adds to (or replaces in) this process's
    /// environment; `input` is written to the child's standard input, which is then closed
    /// (without input, standard input is `/dev/null`).
    /// - Throws: `SpawnError` when `path` is not an executable file or `posix_spawn` fails.
    public init(_ path: String, _ arguments: [String] = [], environment: [String: String] = [:],
                input: [UInt8]? = nil, stdout: Output = .pipe, stderr: Output = .pipe) throws {
        guard access(path, X_OK) == 0 else { throw SpawnError(description: "\(path): \(Self.words(errno))") }
        let deathSignal = access("/usr/bin/setpriv", X_OK) == 0 ? ["/usr/bin/setpriv", "--pdeathsig", "KILL", "--"] : []
        let argv = deathSignal + [path] + arguments
        var variables = [String: String]()
        var entry = Glibc.environ
        while let pointer = entry.pointee {
            let text = String(cString: pointer)
            if let equals = text.firstIndex(of: "=") { variables[String(text[..<equals])] = String(text[text.index(after: equals)...]) }
            entry += 1
        }
        variables.merge(environment) { _, new in new }
        let cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        let cEnvironment: [UnsafeMutablePointer<CChar>?] = variables.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            cArguments.forEach { free($0) }
            cEnvironment.forEach { free($0) }
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var parentEnds: [Int32] = []
        var childEnds: [Int32] = []
        defer { childEnds.forEach { close($0) } }
        func pipePair() throws -> (read: Int32, write: Int32) {
            var fds: [Int32] = [0, 0]
            guard pipe(&fds) == 0 else { throw SpawnError(description: "pipe: \(Self.words(errno))") }
            // Close-on-exec, so that no other child inherits an end (the dup2 in the child clears it).
            for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return (fds[0], fds[1])
        }
        if input != nil {
            let ends = try pipePair()
            posix_spawn_file_actions_adddup2(&actions, ends.read, 0)
            childEnds.append(ends.read)
            parentEnds.append(ends.write)
            stdinFD = ends.write
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        for (fd, output) in [(Int32(1), stdout), (Int32(2), stderr)] {
            switch output {
            case .inherit: break
            case .discard: posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", O_WRONLY, 0)
            case .pipe:
                let ends = try pipePair()
                posix_spawn_file_actions_adddup2(&actions, ends.write, fd)
                childEnds.append(ends.write)
                parentEnds.append(ends.read)
                if fd == 1 { stdoutFD = ends.read } else { stderrFD = ends.read }
            }
        }
        // As a shell starts it: no signal blocked (a test runner's thread blocks some, and the mask
        // outlives exec) and SIGTERM, SIGINT at their default action.
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
        var pid: pid_t = 0
        let spawned = cArguments.withUnsafeBufferPointer { argvBuffer in
            cEnvironment.withUnsafeBufferPointer { envBuffer in
                posix_spawn(&pid, argv[0], &actions, &attributes, UnsafeMutablePointer(mutating: argvBuffer.baseAddress!),
                            UnsafeMutablePointer(mutating: envBuffer.baseAddress!))
            }
        }
        guard spawned == 0 else {
            parentEnds.forEach { close($0) }
            throw SpawnError(description: "posix_spawn \(path): \(Self.words(spawned))")
        }
        self.pid = pid
        self.input = input ?? []
        for fd in parentEnds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        if stdinFD >= 0 && self.input.isEmpty { closeInput() }
    }

    deinit {
        if waitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { close(fd) }
    }

    /// Runs `path` to its end, at most `timeout` (then SIGKILL): its status and output.
    /// - Throws: `SpawnError` when it cannot be started.
    public static func run(_ path: String, _ arguments: [String] = [], environment: [String: String] = [:],
                           input: [UInt8]? = nil, stdout: Output = .pipe, stderr: Output = .pipe,
                           timeout: Duration = .seconds(60)) throws -> Result {
        try ChildProcess(path, arguments, environment: environment, input: input, stdout: stdout, stderr: stderr)
            .wait(timeout: timeout)
    }

    /// Sends `signal` to the child, unless it was reaped already.
    public func signal(_ signal: Int32) {
        if waitStatus == nil { kill(pid, signal) }
    }

    /// Reads standard output until `enough` holds for all read so far, the pipe ends, or `timeout`
    /// passes: all read so far (the same bytes `wait` returns at the end).
    public func readStandardOutput(until enough: ([UInt8]) -> Bool, timeout: Duration = .seconds(30)) -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        while !enough(stdoutBytes) && stdoutFD >= 0 && ContinuousClock.now < deadline {
            pump(upTo: deadline)
        }
        return stdoutBytes
    }

    /// Reads standard error (and output) until `enough` holds for all of standard error read so far,
    /// its pipe ends, or `timeout` passes: all of standard error read so far.
    public func readStandardError(until enough: ([UInt8]) -> Bool, timeout: Duration = .seconds(30)) -> [UInt8] {
        let deadline = ContinuousClock.now + timeout
        while !enough(stderrBytes) && stderrFD >= 0 && ContinuousClock.now < deadline {
            pump(upTo: deadline)
        }
        return stderrBytes
    }

    /// Waits for the child to end, reading its pipes to their end, at most `timeout`: past it, the
    /// child is killed (SIGKILL) and reaped, and the result says `timedOut`.
    public func wait(timeout: Duration = .seconds(60)) -> Result {
        var deadline = ContinuousClock.now + timeout
        var timedOut = false
        while waitStatus == nil || stdoutFD >= 0 || stderrFD >= 0 {
            if ContinuousClock.now >= deadline {
                if waitStatus == nil {
                    timedOut = true
                    kill(pid, SIGKILL)
                    var status: Int32 = 0
                    while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                    waitStatus = status
                }
                // A daemon the child left may hold a pipe open: what was read is what there is.
                break
            }
            pump(upTo: deadline)
            if waitStatus == nil {
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    waitStatus = status
                    // What the child wrote is in the pipes by now; a daemon it left may hold them open.
                    deadline = min(deadline, ContinuousClock.now + .seconds(2))
                }
            }
        }
        for fd in [stdoutFD, stderrFD] where fd >= 0 { close(fd) }
        stdoutFD = -1
        stderrFD = -1
        closeInput()
        let status = waitStatus ?? 0
        let signal = status & 0x7f
        return Result(status: signal == 0 ? (status >> 8) & 0xff : 128 + signal, exited: signal == 0,
                      timedOut: timedOut, stdout: stdoutBytes, stderr: stderrBytes)
    }

    /// One poll over the open pipes (at most 10 ms, or until `deadline`): writes pending input,
    /// reads what is there, closes the ends that reached their end.
    private func pump(upTo deadline: ContinuousClock.Instant) {
        var fds: [pollfd] = []
        if stdinFD >= 0 { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
        if stdoutFD >= 0 { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
        if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
        let left = deadline - ContinuousClock.now
        let millis = max(0, min(10, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)))
        guard !fds.isEmpty else {
            usleep(UInt32(millis) * 1000)
            return
        }
        guard poll(&fds, nfds_t(fds.count), millis) > 0 else { return }
        for entry in fds where entry.revents != 0 {
            if entry.fd == stdinFD {
                let written = input[inputSent...].withUnsafeBytes { write(stdinFD, $0.baseAddress, $0.count) }
                if written > 0 { inputSent += written }
                if written < 0 && errno != EAGAIN && errno != EINTR || inputSent == input.count { closeInput() }
                continue
            }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = read(entry.fd, &chunk, chunk.count)
            if count > 0 {
                if entry.fd == stdoutFD { stdoutBytes += chunk[..<count] } else { stderrBytes += chunk[..<count] }
            } else if count == 0 || (errno != EAGAIN && errno != EINTR) {
                close(entry.fd)
                if entry.fd == stdoutFD { stdoutFD = -1 } else { stderrFD = -1 }
            }
        }
    }

    private func closeInput() {
        if stdinFD >= 0 { close(stdinFD) }
        stdinFD = -1
    }

    /// `strerror` of `code`: the words, not the number.
    static func words(_ code: Int32) -> String { String(cString: strerror(code)) }
}
