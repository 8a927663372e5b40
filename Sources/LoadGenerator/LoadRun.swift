import DNSQuery
import DNSResponder
import EvdnsBaseline
import EventReactor
import Foundation
import LinuxSystem

/// Runs `evq load` workloads and assembles their reports.
public enum LoadRun {
    /// Why a load run could not start or was refused.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        /// The target server did not answer the probe query (unreachable, refused, silent), as
        /// opposed to a bad configuration or workload.
        public var serverDidNotAnswer: Bool
        /// Makes a failure with a message a person can act on.
        public init(_ description: String, serverDidNotAnswer: Bool = false) {
            self.description = description
            self.serverDidNotAnswer = serverDidNotAnswer
        }
    }

    /// Drives libevent's evdns against `server` in a closed loop: the in-run baseline. A/AAAA only,
    /// and no cancel injection (an evdns cancel after its callback is a use-after-free). IPv4 or
    /// IPv6; no source address (libevent's `bind-to:` skips loopback servers). Its rcodes are those
    /// libevent tells apart (`EvdnsLoad.rcodesNote`). A pulled stop switch ends it as it ends the
    /// evquery engine: no query starts after it, those in flight complete.
    public static func runEvdns(_ configuration: LoadConfiguration, server: String) throws -> (LoadReport, LoadRecorder) {
        guard configuration.rate == nil else { throw Failure("--engine evdns runs a closed loop only (no --rate)") }
        let target = try DNSServer(parsing: server)
        let queries = try configuration.queries.map { query -> EvdnsLoad.Query in
            guard query.type == "A" || query.type == "AAAA" else {
                throw Failure("--engine evdns asks only A and AAAA; the workload has \(query.type)")
            }
            return EvdnsLoad.Query(name: query.name, aaaa: query.type == "AAAA")
        }
        var evdns = EvdnsLoad.Configuration(server: target.description, outstanding: configuration.outstanding,
                                            queries: queries, duration: configuration.duration)
        evdns.maxQueries = configuration.maxQueries ?? .max
        evdns.timeout = configuration.timeout
        if let stopSwitch = configuration.stopSwitch { evdns.shouldStop = { stopSwitch.reason != nil } }
        waitForStart(configuration)
        let recorder = LoadRecorder(shards: 1, epochSeconds: Date().timeIntervalSince1970,
                                    interval: configuration.interval)
        let shard = recorder.shards[0]
        // A closed loop keeps `outstanding` in flight until its last round drains.
        let outstanding = configuration.outstanding
        let reporter = LiveReporter(recorder: recorder, quiet: configuration.quiet) { outstanding }
        let before = ProcessUsage.now()
        let begin = MonotonicClock.now()
        let completed = Locked(0)
        let sent = try EvdnsLoad.run(evdns) { latency, outcome in
            completed.withLock { $0 += 1 }
            let (kind, rcode) = LoadOutcome.of(outcome)
            shard.recordQuery(latencyNanos: latency, outcome: kind, rcode: rcode)
        }
        let seconds = Double(MonotonicClock.now() - begin) / 1e9
        reporter.stop(recorder: recorder, outstanding: 0)
        let done = completed.withLock { $0 }
        let audit = ExactlyOnceAudit(started: sent, completed: done, doubleCompletions: max(0, done - sent),
                                     missed: max(0, sent - done), eventsAfterDrain: 0, eventsBaseline: 0,
                                     timersAfterDrain: 0)
        var report = assemble(engine: "evdns", server: server, configuration: configuration, recorder: recorder,
                              seconds: seconds, sent: sent, usage: (before, ProcessUsage.now()), audit: audit)
        report.rcodesNote = EvdnsLoad.rcodesNote
        return (report, recorder)
    }

    /// Waits for the start time (`--start-at`), if there is one: each engine calls this once set up
    /// (reactors, sockets, the probe query), just before its recorder and clock start, so that the
    /// generators of a fleet send their first queries together. A pulled stop switch ends the wait.
    /// Says on standard error how late the start was.
    static func waitForStart(_ configuration: LoadConfiguration) {
        guard let startAt = configuration.startAt,
              LoadStartTime.wait(until: startAt, or: configuration.stopSwitch) else { return }
        let late = LoadStartTime.secondsSinceEpoch() - startAt
        writeStandardError("evq load: started \(String(format: "%.3f", max(0, late) * 1e3)) ms after --start-at\n")
    }

    /// Builds the report from a finished run's recorder.
    static func assemble(
        engine: String, server: String, configuration: LoadConfiguration, recorder: LoadRecorder, seconds: Double,
        sent: Int, usage: (before: ProcessUsage, after: ProcessUsage), audit: ExactlyOnceAudit
    ) -> LoadReport {
        let totals = recorder.totals()
        let answered = LoadOutcome.allCases.filter { $0.isReply && $0 != .servfail && $0 != .refused }
            .reduce(0) { $0 + (totals.outcomes[$1.rawValue] ?? 0) }
        let cpu = usage.after.cpuSeconds - usage.before.cpuSeconds
        var curves = ["query": LoadReport.curve(totals.query), "cancel_loop": LoadReport.curve(totals.cancelLoop),
                      "cancel_thread": LoadReport.curve(totals.cancelThread)]
        if totals.scanCancelLoop.totalCount > 0 { curves["scan_cancel_loop"] = LoadReport.curve(totals.scanCancelLoop) }
        if totals.scanCancelThread.totalCount > 0 {
            curves["scan_cancel_thread"] = LoadReport.curve(totals.scanCancelThread)
        }
        var report = LoadReport(
            engine: engine, server: server, mode: configuration.rate == nil ? "closed" : "open",
            outstanding: configuration.rate == nil ? configuration.outstanding : nil, targetRate: configuration.rate,
            reactors: engine == "evdns" ? 1 : configuration.reactors, seconds: seconds, sent: sent,
            qps: Double(answered) / max(recorder.answeringSeconds, 1e-9), cpuSeconds: cpu,
            cpuSecondsPerMillion: sent > 0 ? cpu / Double(sent) * 1e6 : 0, rssBytes: usage.after.residentBytes,
            latencyUs: LatencySummary(nanoseconds: totals.query),
            cancelLatencyUs: .init(
                loop: LatencySummary(nanoseconds: totals.cancelLoop),
                thread: LatencySummary(nanoseconds: totals.cancelThread),
                scanLoop: totals.scanCancelLoop.totalCount > 0 ? LatencySummary(nanoseconds: totals.scanCancelLoop) : nil,
                scanThread: totals.scanCancelThread.totalCount > 0
                    ? LatencySummary(nanoseconds: totals.scanCancelThread) : nil),
            outcomes: totals.outcomes.filter { $0.value > 0 || ["answered", "cancelled", "timeout"].contains($0.key) },
            audit: audit, intervals: recorder.intervals, curves: curves)
        report.rcodes = Dictionary(uniqueKeysWithValues: totals.rcodes.map { (LoadReport.rcodeName($0.key), $0.value) })
        report.nodata = totals.outcomes[LoadOutcome.nodata.rawValue] ?? 0
        report.histograms = EncodedHistograms(query: totals.query, cancelLoop: totals.cancelLoop,
                                              cancelThread: totals.cancelThread)
        if let rate = configuration.rate, let rampTo = configuration.rampTo {
            report.ramp = LoadReport.Ramp(fromRate: rate, toRate: rampTo,
                                          seconds: configuration.rampSeconds ?? configuration.duration.inSeconds,
                                          p99Bound: configuration.kneeP99,
                                          slotSeconds: Double(recorder.intervalNanos) / 1e9, intervals: report.intervals)
        }
        return report
    }
}

extension LoadOutcome {
    /// The report's category for an evdns outcome, and the response code it stands for (nil when
    /// there was no reply, or libevent did not say which code: `DNS_ERR_UNKNOWN`).
    static func of(_ outcome: EvdnsLoad.Outcome) -> (LoadOutcome, UInt16?) {
        switch outcome {
        case .answered: (.answered, 0)
        case .nodata: (.nodata, 0)
        case .formatError: (.otherRcode, 1)
        case .servfail: (.servfail, 2)
        case .nxdomain: (.nxdomain, 3)
        case .notImplemented: (.otherRcode, 4)
        case .refused: (.refused, 5)
        case .timeout: (.timeout, nil)
        case .truncated: (.malformed, nil)
        case .other: (.error, nil)
        }
    }
}

extension LoadRun {
    /// The name prefix of the embedded responder's threads (their CPU is not the client's).
    static let responderThreads = "evq-resp"

    /// Runs a load as configured: the engine against `server`, or against the embedded responder
    /// (started on 127.0.0.1 and stopped here) when there is none. With the embedded responder, the
    /// CPU figures count the client's threads only.
    ///
    /// With a shard (`--shard`), the run is the shard's share (`LoadConfiguration.forShard()`); with
    /// a start time (`--start-at`), it waits for it once set up (`waitForStart`).
    public static func run(_ whole: LoadConfiguration) throws -> (LoadReport, LoadRecorder) {
        try whole.validate()
        let configuration = try whole.forShard()
        try configuration.validate()
        guard configuration.servers.isEmpty else { return try run(configuration, servers: configuration.servers) }
        var target = DNSResponder.Configuration()
        target.threads = 1
        let responder = try DNSResponder(target)
        try responder.start()
        defer { responder.stop() }
        let before = ProcessUsage.threadCPUSeconds(namePrefix: responderThreads)
        var (report, recorder) = try run(configuration, servers: ["127.0.0.1:\(responder.port)"])
        let serverCPU = ProcessUsage.threadCPUSeconds(namePrefix: responderThreads) - before
        report.cpuSeconds = max(0, report.cpuSeconds - serverCPU)
        report.cpuSecondsPerMillion = report.sent > 0 ? report.cpuSeconds / Double(report.sent) * 1e6 : 0
        report.server += " (embedded responder)"
        report.responder = responder.counters().description
        return (report, recorder)
    }

    private static func run(_ configuration: LoadConfiguration, servers: [String]) throws -> (LoadReport, LoadRecorder) {
        var (report, recorder) = switch configuration.engine {
        case .evdns: try runEvdns(configuration, server: servers[0])
        case .floor: try runFloor(configuration, server: servers[0])
        case .evquery: try runEvquery(configuration, servers: servers)
        }
        report.shard = configuration.shard?.description
        report.labels = configuration.labels
        if let reason = configuration.stopSwitch?.reason {
            report.complete = false
            report.incomplete = ["stopped early by \(reason)"]
        }
        return (report, recorder)
    }
}
