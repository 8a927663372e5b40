import EventReactor
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The repository the tests run from, and its scripts.
public enum Repository {
    /// The repository's root folder.
    public static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// Runs `bash tools/SCRIPT ARGUMENTS` to its end (at most `timeout`, then SIGKILL), its output
    /// going where the test process's goes: the exit status (128 + a signal; -1 if bash could not start).
    public static func runScript(_ script: String, _ arguments: [String], environment: [String: String] = [:],
                                 timeout: Duration = .seconds(120)) -> Int32 {
        let run = try? ChildProcess.run("/bin/bash", ["\(root)/tools/\(script)"] + arguments, environment: environment,
                                        stdout: .inherit, stderr: .inherit, timeout: timeout)
        return run?.status ?? -1
    }

    /// `evq` in the build folder the tests run from (`swift build --build-tests` builds it).
    public static var evq: String {
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("evq").path
    }
}

/// A real DNS server (knotd, unbound) on 127.0.0.1 for one test process, run by a tools script that
/// takes `start DIRECTORY PORT… MORE…` and `stop DIRECTORY`: started on ports that were just free
/// (three tries, as another process may take one first), stopped and its folder removed at exit, and
/// stopped by the script's watchdog when the test process dies without `atexit` (a crash).
public struct PeerServer: Sendable {
    /// The server's scratch folder (its files, its pid).
    public var directory: String
    /// The ports it listens on, in the order given to the script.
    public var ports: [UInt16]

    /// Why a server could not start (tests skip or fail with it).
    public struct Failure: Error, CustomStringConvertible {
        /// What failed, in words.
        public var description: String

        /// A failure saying `description`.
        public init(_ description: String) { self.description = description }
    }

    /// Writes `files` (name → text) into a fresh folder named `name`, then runs `tools/SCRIPT start
    /// FOLDER PORT… MORE…` with `ports` free ports, where `more` maps the folder to the last arguments;
    /// `watchVariable` (`KNOT_WATCH_PID`) carries this process's id to the script's watchdog.
    public static func start(
        script: String, name: String, ports count: Int, watchVariable: String, files: [String: String] = [:],
        more: (String) -> [String] = { _ in [] }
    ) -> Result<PeerServer, Failure> {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(getpid())").path
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            for (file, text) in files { try text.write(toFile: "\(directory)/\(file)", atomically: true, encoding: .utf8) }
        } catch {
            return .failure(Failure("cannot write the files of \(name) in \(directory): \(error)"))
        }
        for _ in 0..<3 {
            let ports = (0..<count).map { _ in Loopback.freeUDPPort() }
            let status = Repository.runScript(script, ["start", directory] + ports.map { "\($0)" } + more(directory),
                                              environment: [watchVariable: "\(getpid())"])
            if status == 0 {
                started.withLock { $0.append((script, directory)) }
                atexit { PeerServer.stopAll() }
                return .success(PeerServer(directory: directory, ports: ports))
            }
        }
        return .failure(Failure("tools/\(script) start failed (is it installed? tools/install-test-peers.d)"))
    }

    private static let started = Locked<[(script: String, directory: String)]>([])

    /// Stops every server this process started and removes their folders (once each).
    private static func stopAll() {
        for server in started.withLock({ servers in defer { servers = [] }; return servers }) {
            _ = Repository.runScript(server.script, ["stop", server.directory])
            try? FileManager.default.removeItem(atPath: server.directory)
        }
    }
}
