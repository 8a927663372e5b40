import EventReactor
import Foundation
import LoadGenerator
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A private knotd on 127.0.0.1 serving `floor.evq.test` (names `a0`…`a49`), started once for the
/// test run by `tools/knot-server.sh` (installed by `tools/install-test-peers.d/dns-peers.sh`) and
/// stopped when the process exits — the pattern of `Tests/DNSQueryTests/KnotPeer.swift`.
enum FloorKnot {
    static let names = 50

    static let zone = """
        $ORIGIN floor.evq.test.
        $TTL 300
        @   IN SOA ns1.floor.evq.test. hostmaster.floor.evq.test. 1 3600 600 86400 300
        @   IN NS  ns1
        ns1 IN A   127.0.0.1

        """ + (0..<names).map { "a\($0) IN A 192.0.2.\($0 + 1)" }.joined(separator: "\n") + "\n"

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// `127.0.0.1:PORT` of the server, or the reason it could not start.
    static let server: Result<String, KnotError> = start()

    struct KnotError: Error, CustomStringConvertible {
        var description: String
    }

    private static func start() -> Result<String, KnotError> {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("evq-floor-knot-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let zoneFile = directory.appendingPathComponent("floor.evq.test.zone")
        do { try zone.write(to: zoneFile, atomically: true, encoding: .utf8) } catch {
            return .failure(KnotError(description: "cannot write the zone: \(error)"))
        }
        for _ in 0..<3 {
            let port = freeUDPPort()
            if run(["start", directory.path, "\(port)", zoneFile.path]) == 0 {
                stopDirectory = directory.path
                atexit { FloorKnot.stop() }
                return .success("127.0.0.1:\(port)")
            }
        }
        return .failure(KnotError(description: "tools/knot-server.sh start failed (is knot installed?)"))
    }

    nonisolated(unsafe) private static var stopDirectory: String?

    private static func stop() {
        if let directory = stopDirectory { _ = run(["stop", directory]) }
    }

    /// Runs `bash tools/knot-server.sh ARGUMENTS` and waits for it (posix_spawn + waitpid: the
    /// script leaves a daemon behind, which `Process.waitUntilExit` does not return from here).
    private static func run(_ arguments: [String]) -> Int32 {
        let argv = ["/bin/bash", repository.appendingPathComponent("tools/knot-server.sh").path] + arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/bash", nil, nil, &cArguments, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xff
    }
}

/// A UDP socket bound to a kernel-chosen port on 127.0.0.1 that never replies (closed on deinit).
final class SilentUDPSocket: Sendable {
    let fd: Int32
    let port: UInt16

    init() {
        let descriptor = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                _ = bind(descriptor, pointer, length)
                return getsockname(descriptor, pointer, &length)
            }
        }
        fd = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit { close(fd) }
}

/// A scripted DNS peer on a real socket: it answers (the query echoed with QR set, rcode 0) every
/// query whose id is even and drops every odd one, on a thread of its own until `stop()`.
final class EvenIDResponder: Sendable {
    private let socket = SilentUDPSocket()
    private let running = Locked(true)
    private let finished = Locked(false)
    var server: String { "127.0.0.1:\(socket.port)" }

    init() {
        let socket = socket, running = running, finished = finished
        ThreadTeam.detach {
            var buffer = [UInt8](repeating: 0, count: 1500)
            var peer = sockaddr_storage()
            while running.withLock({ $0 }) {
                var poller = pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 20) == 1 else { continue }
                var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
                let got = withUnsafeMutablePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        recvfrom(socket.fd, &buffer, buffer.count, 0, $0, &length)
                    }
                }
                guard got >= 12, buffer[1] & 1 == 0 else { continue }
                buffer[2] |= 0x80
                buffer[3] &= 0xF0
                _ = withUnsafePointer(to: &peer) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        sendto(socket.fd, buffer, got, 0, $0, length)
                    }
                }
            }
            finished.withLock { $0 = true }
        }
    }

    /// Stops the thread and waits for it.
    func stop() {
        running.withLock { $0 = false }
        while !finished.withLock({ $0 }) { usleep(1000) }
    }
}

/// A UDP port that was free on 127.0.0.1 a moment ago.
func freeUDPPort() -> UInt16 { SilentUDPSocket().port }

@Suite("Floor engine (evq load --engine floor)")
struct FloorLoadTests {
    /// Names that exist (answered) and names that do not (NXDOMAIN), alternating.
    static let workload = (0..<FloorKnot.names).flatMap { index in
        [WorkloadQuery(name: "a\(index).floor.evq.test", type: "A"),
         WorkloadQuery(name: "missing\(index).floor.evq.test", type: "A")]
    }

    @Test func floorRunAgainstKnotAccountsForEveryQueryAndPassesTheAudit() throws {
        let server = try FloorKnot.server.get()
        var configuration = LoadConfiguration()
        configuration.server = server
        configuration.engine = .floor
        configuration.queries = Self.workload
        configuration.outstanding = 64
        configuration.reactors = 2
        configuration.maxQueries = 20_000
        configuration.durationSeconds = 5
        configuration.cancelRate = 0
        configuration.quiet = true
        let (report, _) = try LoadRun.run(configuration)

        #expect(report.engine == "floor")
        #expect(report.sent > 0 && report.sent <= 20_000)
        let outcomes = report.outcomes
        let ended = ["answered", "nxdomain", "servfail", "refused", "error", "timeout", "malformed"]
            .reduce(0) { $0 + (outcomes[$1] ?? 0) }
        #expect(ended == report.sent, "outcomes \(outcomes) do not add up to sent=\(report.sent)")
        #expect((outcomes["answered"] ?? 0) > 0)
        #expect((outcomes["nxdomain"] ?? 0) > 0)
        #expect((outcomes["cancelled"] ?? 0) == 0)
        #expect(Int(report.latencyUs.count) == (outcomes["answered"] ?? 0) + (outcomes["nxdomain"] ?? 0))
        #expect(report.audit.started == report.sent)
        #expect(report.audit.ok, "audit: \(report.audit)")
    }

    @Test func floorStopsAtTheQueryCountAcrossThreads() throws {
        let server = try FloorKnot.server.get()
        var configuration = LoadConfiguration()
        configuration.server = server
        configuration.engine = .floor
        configuration.queries = Self.workload
        configuration.outstanding = 10
        configuration.reactors = 3
        configuration.maxQueries = 1_001
        configuration.durationSeconds = 30
        configuration.cancelRate = 0
        configuration.quiet = true
        let (report, _) = try LoadRun.run(configuration)
        #expect(report.sent == 1_001)
        #expect(report.audit.completed == 1_001)
        #expect(report.audit.ok, "audit: \(report.audit)")
    }

    @Test func queriesWithoutAReplyEndAsTimeoutsAndFreeTheirSlots() throws {
        let responder = EvenIDResponder()
        defer { responder.stop() }
        var configuration = LoadConfiguration()
        configuration.server = responder.server
        configuration.engine = .floor
        configuration.queries = Self.workload
        configuration.outstanding = 20
        configuration.maxQueries = 200
        configuration.durationSeconds = 30
        configuration.timeoutSeconds = 0.2
        configuration.cancelRate = 0
        configuration.quiet = true
        let (report, _) = try LoadRun.run(configuration)
        let answered = report.outcomes["answered"] ?? 0, timeouts = report.outcomes["timeout"] ?? 0
        #expect(report.sent == 200)
        #expect(answered > 0 && timeouts > 0)
        #expect(answered + timeouts == report.sent, "outcomes \(report.outcomes)")
        #expect(report.audit.ok, "audit: \(report.audit)")
    }

    @Test func floorRefusesAnOpenLoop() {
        var configuration = LoadConfiguration()
        configuration.server = "127.0.0.1:53"
        configuration.engine = .floor
        configuration.rate = 1000
        #expect(throws: LoadRun.Failure.self) { try LoadRun.run(configuration) }
    }

    @Test func silentServerIsAClearErrorNotARunOfTimeouts() {
        let silent = SilentUDPSocket()
        var configuration = LoadConfiguration()
        configuration.server = "127.0.0.1:\(silent.port)"
        configuration.engine = .floor
        configuration.quiet = true
        let error = #expect(throws: LoadRun.Failure.self) { try LoadRun.run(configuration) }
        #expect(error?.description.contains("did not answer a probe query") == true)
        withExtendedLifetime(silent) {}
    }

    @Test func closedPortIsAClearErrorWithTheErrno() {
        var configuration = LoadConfiguration()
        configuration.server = "127.0.0.1:\(freeUDPPort())"
        configuration.engine = .floor
        configuration.quiet = true
        let error = #expect(throws: LoadRun.Failure.self) { try LoadRun.run(configuration) }
        #expect(error?.description.contains("refused") == true, "\(error?.description ?? "")")
    }
}
