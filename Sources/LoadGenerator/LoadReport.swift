import EventReactor
import Foundation
import Histogram

/// The result of one load run: what `evq load` prints and writes with `--json` (docs/design.md,
/// "The command line": qps, cpu_seconds_per_million, latency_us, cancel_latency_us.loop/.thread,
/// outcomes, audit).
public struct LoadReport: Codable, Sendable {
    /// The exactly-once audit with its verdict, as the JSON report spells it.
    public struct Audit: Codable, Sendable, Equatable {
        public var started: Int
        public var completed: Int
        public var doubleCompletions: Int
        public var missed: Int
        public var eventsAfterDrain: Int
        public var eventsBaseline: Int
        public var ok: Bool

        /// The JSON form of an audit.
        public init(_ audit: ExactlyOnceAudit) {
            started = audit.started
            completed = audit.completed
            doubleCompletions = audit.doubleCompletions
            missed = audit.missed
            eventsAfterDrain = audit.eventsAfterDrain
            eventsBaseline = audit.eventsBaseline
            ok = audit.ok
        }
    }

    /// Cancel latency by origin (and, with scan jobs mixed in, by kind).
    public struct CancelLatency: Codable, Sendable {
        public var loop: LatencySummary
        public var thread: LatencySummary
        public var scanLoop: LatencySummary?
        public var scanThread: LatencySummary?

        /// Makes the cancel-latency section; the scan rows are present only with scan jobs.
        public init(loop: LatencySummary, thread: LatencySummary, scanLoop: LatencySummary? = nil,
                    scanThread: LatencySummary? = nil) {
            self.loop = loop
            self.thread = thread
            self.scanLoop = scanLoop
            self.scanThread = scanThread
        }
    }

    /// One second of the run.
    public struct Second: Codable, Sendable, Equatable {
        public var second: Int
        public var qps: Double
        public var p99Us: Double
        public var outstanding: Int
        public var cancels: Int
        public var errors: Int
        /// When the interval ended, seconds from the start (not in the JSON: `second` rounds it).
        var end: Double = 0

        enum CodingKeys: String, CodingKey {
            case second, qps, p99Us, outstanding, cancels, errors
        }

        /// Makes one second of the timeline.
        public init(second: Int, qps: Double, p99Us: Double, outstanding: Int, cancels: Int, errors: Int) {
            self.second = second
            self.qps = qps
            self.p99Us = p99Us
            self.outstanding = outstanding
            self.cancels = cancels
            self.errors = errors
        }
    }

    public var engine: String
    public var server: String
    /// `closed` (N outstanding) or `open` (target rate).
    public var mode: String
    public var outstanding: Int?
    public var targetRate: Double?
    public var reactors: Int
    public var seconds: Double
    public var sent: Int
    /// Matched responses per second, over the span from the start to the last answer.
    public var qps: Double
    public var cpuSeconds: Double
    public var cpuSecondsPerMillion: Double
    public var rssBytes: Int
    /// Send (intended send, in open loop) to completion, microseconds.
    public var latencyUs: LatencySummary
    public var cancelLatencyUs: CancelLatency
    /// answered, nxdomain, servfail, timeout, cancelled, error, …
    public var outcomes: [String: Int]
    public var audit: Audit
    public var timeline: [Second]
    /// Percentile curves for the plot: name → [[percentile, microseconds]].
    public var curves: [String: [[Double]]]
    /// Replies the engine dropped and counted, by reason (wrong id, wrong question, late, …); nil
    /// for engines that do not count them.
    public var repliesDropped: [String: Int]?
    /// What the engine sent, by kind (evquery: `udp` queries, of which `segmented` went out in
    /// UDP GSO messages, and `tcp`); nil for engines that do not count them.
    public var sends: [String: Int]?
    /// The embedded responder's own counters (nil against another server).
    public var responder: String?

    /// Makes a report from its figures.
    public init(
        engine: String, server: String, mode: String, outstanding: Int?, targetRate: Double?, reactors: Int,
        seconds: Double, sent: Int, qps: Double, cpuSeconds: Double, cpuSecondsPerMillion: Double, rssBytes: Int,
        latencyUs: LatencySummary, cancelLatencyUs: CancelLatency, outcomes: [String: Int], audit: Audit,
        timeline: [Second], curves: [String: [[Double]]]
    ) {
        self.engine = engine
        self.server = server
        self.mode = mode
        self.outstanding = outstanding
        self.targetRate = targetRate
        self.reactors = reactors
        self.seconds = seconds
        self.sent = sent
        self.qps = qps
        self.cpuSeconds = cpuSeconds
        self.cpuSecondsPerMillion = cpuSecondsPerMillion
        self.rssBytes = rssBytes
        self.latencyUs = latencyUs
        self.cancelLatencyUs = cancelLatencyUs
        self.outcomes = outcomes
        self.audit = audit
        self.timeline = timeline
        self.curves = curves
    }

    /// The JSON text (snake_case keys), pretty-printed with sorted keys.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The human-readable final report.
    public var text: String {
        var lines: [String] = []
        let shape = mode == "open" ? "open loop at \(Int(targetRate ?? 0)) q/s" : "closed loop, \(outstanding ?? 0) outstanding"
        lines.append("evq load: \(engine) → \(server), \(shape), \(reactors) reactor(s), \(format1(seconds, 2)) s")
        lines.append("  throughput      \(Int(qps.rounded())) responses/s   sent=\(sent)")
        lines.append("  cpu             \(format1(cpuSeconds, 2)) s = \(format1(cpuSecondsPerMillion, 2)) s per million queries"
            + "   rss=\(rssBytes / 1_048_576) MiB")
        lines.append("  outcomes        " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: " "))
        lines.append("  " + LatencySummary.header(unit: "µs"))
        lines.append("  " + latencyUs.row(label: "query"))
        lines.append("  " + cancelLatencyUs.loop.row(label: "cancel from loop"))
        lines.append("  " + cancelLatencyUs.thread.row(label: "cancel from thread"))
        if let scan = cancelLatencyUs.scanLoop { lines.append("  " + scan.row(label: "scan cancel, loop")) }
        if let scan = cancelLatencyUs.scanThread { lines.append("  " + scan.row(label: "scan cancel, thr.")) }
        lines.append("  audit           started=\(audit.started) completed=\(audit.completed) "
            + "double=\(audit.doubleCompletions) missed=\(audit.missed) events_after_drain=\(audit.eventsAfterDrain) "
            + "events_baseline=\(audit.eventsBaseline) \(audit.ok ? "OK" : "VIOLATED")")
        if let responder { lines.append("  responder       " + responder) }
        func counts(_ values: [String: Int]) -> String {
            values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        if let sends { lines.append("  sends           " + counts(sends)) }
        if let dropped = repliesDropped { lines.append("  replies dropped " + counts(dropped)) }
        return lines.joined(separator: "\n")
    }

    /// The percentiles a curve samples (HdrHistogram's plots use the same spread toward the tail).
    public static let curvePercentiles: [Double] = [
        0, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.95, 99.99, 99.999, 100,
    ]

    /// A percentile curve of a nanosecond histogram, in microseconds; empty if nothing was recorded.
    public static func curve(_ histogram: Histogram<UInt64>) -> [[Double]] {
        guard histogram.totalCount > 0 else { return [] }
        return curvePercentiles.map { [$0, Double(histogram.valueAtPercentile($0)) / 1000] }
    }
}
