import EventReactor
import EvqueryTestSupport
import Foundation
import LoadGenerator
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A private knotd on 127.0.0.1 serving `floor.evq.test` (names `a0`…`a49`), started once for the
/// test run by `tools/knot-server.sh` (installed by `tools/install-test-peers.d/dns-peers.sh`) and
/// stopped when the process exits.
enum FloorKnot {
    static let names = 50

    static let zone = """
        $ORIGIN floor.evq.test.
        $TTL 300
        @   IN SOA ns1.floor.evq.test. hostmaster.floor.evq.test. 1 3600 600 86400 300
        @   IN NS  ns1
        ns1 IN A   127.0.0.1

        """ + (0..<names).map { "a\($0) IN A 192.0.2.\($0 + 1)" }.joined(separator: "\n") + "\n"

    /// `127.0.0.1:PORT` of the server, or why it could not start.
    static let server: Result<String, PeerServer.Failure> = PeerServer.start(
        script: "knot-server.sh", name: "evq-floor-knot", ports: 1, watchVariable: "KNOT_WATCH_PID",
        files: ["floor.evq.test.zone": zone], more: { ["\($0)/floor.evq.test.zone"] }
    ).map { "127.0.0.1:\($0.ports[0])" }
}

/// A UDP socket on a kernel-chosen port of 127.0.0.1 that never replies by itself (closed on deinit).
final class BoundUDPSocket: Sendable {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    let port: UInt16

    init() {
        var loopback = sockaddr_in()
        loopback.sin_family = sa_family_t(AF_INET)
        loopback.sin_addr = in_addr(s_addr: UInt32(0x7f00_0001).bigEndian)
        var size = socklen_t(MemoryLayout.size(ofValue: loopback))
        let fd = fd
        port = withUnsafeMutableBytes(of: &loopback) { raw in
            let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr.self)
            guard bind(fd, address, size) == 0, getsockname(fd, address, &size) == 0 else { return 0 }
            return UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self))
        }
    }

    deinit { close(fd) }
}

/// A scripted DNS peer on a real socket: it answers (the query echoed with QR set, rcode 0) every
/// query whose id is even and drops every odd one, on a thread of its own until `stop()`.
final class EvenIDResponder: Sendable {
    private let socket = BoundUDPSocket()
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
                let got = withUnsafeMutableBytes(of: &peer) { raw in
                    let address = raw.baseAddress!.assumingMemoryBound(to: sockaddr.self)
                    return recvfrom(socket.fd, &buffer, buffer.count, 0, address, &length)
                }
                guard got >= 12, buffer[1] & 1 == 0 else { continue }
                buffer[2] |= 0x80
                buffer[3] &= 0xF0
                _ = withUnsafeBytes(of: &peer) { raw in
                    sendto(socket.fd, buffer, got, 0, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
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

@Suite("Floor engine (evq load --engine floor)")
struct FloorLoadTests {
    /// Names that exist (answered) and names that do not (NXDOMAIN), alternating.
    static let workload = (0..<FloorKnot.names).flatMap { index in
        [WorkloadQuery(name: "a\(index).floor.evq.test", type: "A"),
         WorkloadQuery(name: "missing\(index).floor.evq.test", type: "A")]
    }

    /// A quiet floor run on `server` with that many in flight and at most `queries` queries.
    static func floor(_ server: String, outstanding: Int = 100, queries: Int? = nil) -> LoadConfiguration {
        var configuration = LoadConfiguration()
        configuration.servers = [server]
        configuration.engine = .floor
        configuration.queries = workload
        configuration.outstanding = outstanding
        configuration.maxQueries = queries
        configuration.duration = .seconds(30)
        configuration.cancelRate = 0
        configuration.quiet = true
        return configuration
    }

    @Test func floorRunAgainstKnotAccountsForEveryQueryAndPassesTheAudit() throws {
        var configuration = Self.floor(try FloorKnot.server.get(), outstanding: 64, queries: 20_000)
        configuration.reactors = 2
        configuration.duration = .seconds(5)
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

    /// The count holds across threads, also with more threads than queries outstanding.
    @Test(arguments: [(outstanding: 10, queries: 1_001, threads: 3), (outstanding: 1, queries: 300, threads: 4)])
    func floorStopsAtTheQueryCountAcrossThreads(outstanding: Int, queries: Int, threads: Int) throws {
        var configuration = Self.floor(try FloorKnot.server.get(), outstanding: outstanding, queries: queries)
        configuration.reactors = threads
        let (report, _) = try LoadRun.run(configuration)
        #expect(report.sent == queries)
        #expect(report.audit.completed == queries)
        #expect(report.audit.ok, "audit: \(report.audit)")
    }

    @Test func queriesWithoutAReplyEndAsTimeoutsAndFreeTheirSlots() throws {
        let responder = EvenIDResponder()
        defer { responder.stop() }
        var configuration = Self.floor(responder.server, outstanding: 20, queries: 200)
        configuration.timeout = .milliseconds(200)
        let (report, _) = try LoadRun.run(configuration)
        // The responder echoes the query with QR set: NOERROR with no answer record, NODATA.
        let replies = report.outcomes["nodata"] ?? 0, timeouts = report.outcomes["timeout"] ?? 0
        #expect(report.sent == 200)
        #expect(replies > 0 && timeouts > 0)
        #expect(replies + timeouts == report.sent, "outcomes \(report.outcomes)")
        #expect(report.rcodes == ["NOERROR": replies] && report.nodata == replies)
        #expect(report.audit.ok, "audit: \(report.audit)")
    }

    @Test func floorRefusesAnOpenLoop() {
        var configuration = Self.floor("127.0.0.1:53")
        configuration.rate = 1000
        #expect(throws: LoadRun.Failure.self) { try LoadRun.run(configuration) }
    }

    @Test func workloadThatCannotBeEncodedIsAClearErrorBeforeAnyQuery() {
        let silent = BoundUDPSocket()
        var configuration = Self.floor("127.0.0.1:\(silent.port)")
        configuration.queries = [WorkloadQuery(name: "a0.floor.evq.test", type: "BOGUS")]
        let type = #expect(throws: LoadRun.Failure.self) { try LoadRun.run(configuration) }
        #expect(type?.description.contains("BOGUS") == true)
        configuration.queries = [WorkloadQuery(name: String(repeating: "x", count: 64) + ".evq.test", type: "A")]
        let name = #expect(throws: LoadRun.Failure.self) { try LoadRun.run(configuration) }
        #expect(name?.description.contains("invalid name") == true)
        withExtendedLifetime(silent) {}
    }

    @Test func silentServerIsAClearErrorNotARunOfTimeouts() {
        let silent = BoundUDPSocket()
        let error = #expect(throws: LoadRun.Failure.self) { try LoadRun.run(Self.floor("127.0.0.1:\(silent.port)")) }
        #expect(error?.description.contains("did not answer a probe query") == true)
        withExtendedLifetime(silent) {}
    }

    @Test func closedPortIsAClearErrorWithTheErrno() {
        let port = BoundUDPSocket().port
        let error = #expect(throws: LoadRun.Failure.self) { try LoadRun.run(Self.floor("127.0.0.1:\(port)")) }
        #expect(error?.description.contains("refused") == true, "\(error?.description ?? "")")
    }
}
