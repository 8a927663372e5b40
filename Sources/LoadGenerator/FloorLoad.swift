import Atomics
import DNSMessage
import DNSQuery
import EventReactor
import Foundation
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

extension LoadRun {
    /// The floor engine (docs/performance.md, "Targets"): the cost of the system calls and the server, which the
    /// evquery engine is held to. A closed loop in the style of a C load tool: on each of
    /// `configuration.reactors` threads (at most one per outstanding query), a few connected UDP sockets
    /// (up to 4 per thread, more past 32,768 outstanding each) keep the thread's share of `outstanding`
    /// in flight, every workload query
    /// prebuilt once as wire bytes (with the same EDNS OPT record the evquery engine sends), sent by
    /// `sendmmsg`, drained by `recvmmsg`, matched by socket and id only. No cancels are made (like
    /// `--engine evdns`, the cancel flags are ignored); an open loop is refused. A pulled stop switch
    /// ends the sending; the queries in flight end as replies or timeouts.
    ///
    /// The audit: started = queries sent, completed = matched replies + timeouts; no reactor, so
    /// its event counts are 0/0. Replies that matched nothing are reported as `replies_dropped.unmatched`.
    /// Replies count by the header's rcode, NOERROR with no answer record as NODATA. IPv4 or IPv6;
    /// with `localAddresses` the sockets spread over them.
    /// - Throws: `Failure` for `--rate`, a bad server or workload, a socket call that fails (with its
    ///   errno), or a server that does not answer a probe query.
    static func runFloor(_ configuration: LoadConfiguration, server: String) throws -> (LoadReport, LoadRecorder) {
        guard configuration.rate == nil else { throw Failure("--engine floor runs a closed loop only (no --rate)") }
        let target: DNSServer
        do { target = try DNSServer(parsing: server) } catch { throw Failure("--\(error)") }
        let sources = try configuration.sourceAddresses()
        let queries = try FloorQueries(configuration.queries)
        try floorProbe(target, from: sources.first, server: server, queries: queries, name: configuration.queries[0].name)

        // A thread with no share of the outstanding count could never send its share of --queries.
        let threads = min(configuration.reactors, configuration.outstanding)
        waitForStart(configuration)
        let recorder = LoadRecorder(shards: threads, epochSeconds: Date().timeIntervalSince1970,
                                    interval: configuration.interval)
        let gauges = (0..<threads).map { _ in ManagedAtomic<Int>(0) }
        let sets = try (0..<threads).map { index throws(Failure) -> FloorSocketSet in
            let share = configuration.outstanding / threads + (index < configuration.outstanding % threads ? 1 : 0)
            // At least one socket per source address of this thread's, so that every source is used.
            let sockets = max(min(max(4, (sources.count + threads - 1) / threads), max(1, share)),
                              (share + FloorSocketSet.perSocketLimit - 1) / FloorSocketSet.perSocketLimit)
            // The threads' sockets take the sources in turn, so a few sockets still use them all.
            return try FloorSocketSet(server: target, sources: sources, firstSource: index * sockets,
                                      outstanding: share, socketCount: sockets, queries: queries,
                                      first: index, step: threads, shard: recorder.shards[index],
                                      gauge: gauges[index])
        }
        let maxQueries = configuration.maxQueries ?? .max
        let reporter = LiveReporter(recorder: recorder, quiet: configuration.quiet) {
            gauges.reduce(0) { $0 + $1.load(ordering: .relaxed) }
        }
        let before = ProcessUsage.now()
        let begin = MonotonicClock.now()
        let stopAt = begin + configuration.duration.clampedNanoseconds
        let timeout = configuration.timeout.clampedNanoseconds
        let stopped = ManagedAtomic(false)
        configuration.stopSwitch?.onPull { stopped.store(true, ordering: .relaxed) }
        ThreadTeam.run(threads) { index in
            let quota = maxQueries == .max ? .max : maxQueries / threads + (index < maxQueries % threads ? 1 : 0)
            sets[index].run(stopAt: stopAt, stopped: stopped, quota: quota, timeoutNanos: timeout)
        }
        let seconds = Double(MonotonicClock.now() - begin) / 1e9
        let after = ProcessUsage.now()
        reporter.stop(recorder: recorder, outstanding: 0)

        let sent = sets.reduce(0) { $0 + $1.sent }
        let completed = sets.reduce(0) { $0 + $1.replies + $1.timeouts }
        let audit = ExactlyOnceAudit(started: sent, completed: completed, doubleCompletions: max(0, completed - sent),
                                     missed: max(0, sent - completed), eventsAfterDrain: 0, eventsBaseline: 0,
                                     timersAfterDrain: 0)
        var report = assemble(engine: "floor", server: server, configuration: configuration, recorder: recorder,
                              seconds: seconds, sent: sent, usage: (before, after), audit: audit)
        report.repliesDropped = ["unmatched": sets.reduce(0) { $0 + $1.unmatched }]
        report.rcodesNote = "the floor reads the header's 4-bit rcode (not EDNS's extended bits); "
            + "NODATA is NOERROR with no answer record"
        let socketErrors = sets.reduce(0) { $0 + $1.socketErrors }
        if socketErrors > 0, let code = sets.first(where: { $0.socketErrors > 0 })?.lastErrno {
            report.repliesDropped?["socket_errors"] = socketErrors
            if !configuration.quiet {
                let reason = SystemError.text(code)
                writeStandardError("floor: \(socketErrors) socket call(s) failed, last: \(reason)\n")
            }
        }
        return (report, recorder)
    }

    /// Sends the first query on a socket of its own and waits up to 1 s for any reply, twice, so that
    /// a wrong or silent server is a clear error rather than a run of timeouts.
    private static func floorProbe(_ target: DNSServer, from source: DNSServer?, server: String, queries: FloorQueries,
                                   name: String) throws(Failure) {
        let fd: Int32
        do {
            fd = try target.connectedSocket(stream: false, receiveBuffer: 4 << 20, sendBuffer: 4 << 20, from: source)
        } catch {
            throw Failure("floor: \(error)")
        }
        defer { Socket.close(fd) }
        var query = [UInt8](repeating: 0, count: FloorQueries.maxBytes)
        var reply = [UInt8](repeating: 0, count: 512)
        let length = query.withUnsafeMutableBytes { queries.copy(0, into: $0.baseAddress!) }
        var reason = "no reply within 2 × 1 s"
        for _ in 0..<2 {
            guard send(fd, query, length, 0) == length else {
                reason = "\(String(cString: strerror(errno))) (errno \(errno))"
                continue
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 1000) == 1 else { continue }
            let got = recv(fd, &reply, reply.count, 0)
            if got >= 12 && reply[0] == query[0] && reply[1] == query[1] { return }
            if got < 0 { reason = "\(String(cString: strerror(errno))) (errno \(errno))" }
        }
        throw Failure("\(server) did not answer a probe query for \(name): \(reason); is a DNS server listening there?")
    }
}

/// Every workload query as wire bytes, built once (`DNSQueryBuilder`, id 0, RD, the evquery
/// engine's EDNS(0) payload size), each at a fixed stride in one buffer. Read-only after init, so
/// the floor's threads share it.
final class FloorQueries: @unchecked Sendable {
    /// The stride of one query: a 255-byte name plus header, question and OPT record fit.
    static let maxBytes = 296
    let count: Int
    private let bytes: UnsafeMutableRawPointer
    private let lengths: [Int]

    /// Builds each query.
    /// - Throws: `LoadRun.Failure` naming a query whose type or name cannot be encoded.
    init(_ workload: [WorkloadQuery]) throws(LoadRun.Failure) {
        count = workload.count
        bytes = .allocate(byteCount: max(1, workload.count) * Self.maxBytes, alignment: 16)
        var lengths: [Int] = []
        lengths.reserveCapacity(workload.count)
        for (index, query) in workload.enumerated() {
            guard let type = DNSType(mnemonic: query.type) else {
                bytes.deallocate()
                throw LoadRun.Failure("unknown query type \(query.type)")
            }
            let name: DNSName
            do { name = try DNSName(parsing: query.name) } catch {
                bytes.deallocate()
                throw LoadRun.Failure("invalid name in the workload: \(query.name)")
            }
            let buffer = UnsafeMutableRawBufferPointer(start: bytes + index * Self.maxBytes, count: Self.maxBytes)
            guard let length = DNSQueryBuilder.write(into: buffer, id: 0, name: name, type: type,
                                                     edns: .init(udpPayloadSize: 1232)) else {
                bytes.deallocate()
                throw LoadRun.Failure("query too long: \(query.name)")
            }
            lengths.append(length)
        }
        self.lengths = lengths
    }

    deinit { bytes.deallocate() }

    /// Copies query `index` into `buffer` (at least `maxBytes`); returns its length. No allocation.
    @inline(__always)
    func copy(_ index: Int, into buffer: UnsafeMutableRawPointer) -> Int {
        let length = lengths[index]
        buffer.copyMemory(from: bytes + index * Self.maxBytes, byteCount: length)
        return length
    }
}
