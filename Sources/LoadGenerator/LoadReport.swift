import EventReactor
import Foundation
import DNSMessage
import Histogram

/// The result of one load run: what `evq load` prints and writes with `--json` (docs/design.md,
/// "The command line": qps, cpu_seconds_per_million, latency_us, cancel_latency_us.loop/.thread,
/// outcomes, audit).
public struct LoadReport: Codable, Sendable {
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

    /// One interval of the run (`--interval`, one second by default): a live line, a row of the
    /// JSON `intervals` and of `--interval-csv`.
    public struct Interval: Codable, Sendable, Equatable {
        /// When the interval ended, seconds from the start.
        public var time: Double
        /// Its length, seconds.
        public var seconds: Double
        /// Queries whose (intended) send time fell in the interval: final once the run has drained.
        public var sent = 0
        /// Of `sent`, those that timed out (lost): the knee's loss is `lost / (sent - cancelled)`.
        public var lost = 0
        /// Replies that arrived in the interval, whatever their response code.
        public var responses: Int
        /// `responses` per second.
        public var qps: Double
        /// Replies that arrived in the interval by response code (`NOERROR`, `NXDOMAIN`, …, others by
        /// number).
        public var rcodes: [String: Int]
        /// Of the NOERROR replies, those with no answer record.
        public var nodata: Int
        public var timeouts: Int
        public var cancels: Int
        /// Queries that ended in the interval with neither a reply, a timeout nor a cancel (malformed
        /// replies, network errors, limits).
        public var errors: Int
        public var p50Us: Double
        public var p99Us: Double
        /// Queries in flight when the interval ended.
        public var outstanding: Int
        /// The open loop's pacer: how late it sent, on average over its rounds of sends in this
        /// interval (the client's own lag), milliseconds.
        public var clientLagMs = 0.0
        /// The row's position (the send interval it counts `sent` over).
        var index = 0
        /// Of `sent`, those cancelled (not a loss).
        var sentCancelled = 0

        enum CodingKeys: String, CodingKey {
            case time, seconds, sent, lost, responses, qps, rcodes, nodata, timeouts, cancels, errors, p50Us, p99Us
            case outstanding, clientLagMs
        }

        /// A row from the interval's outcome counts (indexed as `LoadOutcome.allCases`), replies by
        /// response code (indexed by code) and latency histogram (nanoseconds).
        public init(time: Double, seconds: Double, outcomes: [Int], rcodes: [Int], latency: Histogram<UInt64>,
                    outstanding: Int) {
            self.time = time
            self.seconds = seconds
            self.outstanding = outstanding
            responses = 0
            qps = 0
            self.rcodes = [:]
            nodata = 0
            timeouts = 0
            cancels = 0
            errors = 0
            p50Us = Double(latency.valueAtPercentile(50)) / 1000
            p99Us = Double(latency.valueAtPercentile(99)) / 1000
            absorb(outcomes: outcomes, rcodes: rcodes, until: time)
        }

        /// Adds a short tail's counts to this row, which then ends at `until`.
        mutating func absorb(outcomes: [Int], rcodes: [Int], until: Double) {
            seconds += until - time
            time = until
            for outcome in LoadOutcome.allCases {
                let count = outcomes[outcome.index]
                switch outcome {
                case _ where outcome.isReply: responses += count
                case .timeout: timeouts += count
                case .cancelled: cancels += count
                default: errors += count
                }
            }
            nodata += outcomes[LoadOutcome.nodata.index]
            for (code, count) in rcodes.enumerated() where count > 0 {
                self.rcodes[LoadReport.rcodeName(UInt16(code)), default: 0] += count
            }
            qps = Double(responses) / max(seconds, 0.001)
        }
    }

    public var engine: String
    public var server: String
    /// How the evquery engine asked: `udp`, `tcp`, `dot` or `doh`; nil for the other engines.
    public var transport: String?
    /// The evquery engine's stream connections over tcp, dot and doh: `opened`, `closed`, `reconnects`,
    /// `failures`, `tls_handshakes`, `tls_resumed`, `tls_failures`, and over doh `stream_resets`,
    /// `doh_refused`, `goaways`; nil over UDP.
    public var connections: [String: Int]?
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
    /// answered, nodata, nxdomain, servfail, refused, other_rcode, timeout, cancelled, error, …
    public var outcomes: [String: Int]
    /// Replies by response code (`NOERROR`, `NXDOMAIN`, `SERVFAIL`, …, others by number), for every
    /// engine (see `rcodesNote` for what one cannot tell).
    public var rcodes: [String: Int] = [:]
    /// NOERROR replies with no answer record (counted in `rcodes` under NOERROR too).
    public var nodata = 0
    /// What the engine's `rcodes` cannot tell, in words (the floor reads the header's 4 bits only;
    /// evdns names six codes); nil when it reads every code (evquery).
    public var rcodesNote: String?
    public var audit: ExactlyOnceAudit
    /// The run interval by interval.
    public var intervals: [Interval]
    /// The ramp (`--ramp-to`) and the knee found on it; nil for a run without a ramp.
    public var ramp: Ramp?
    /// Percentile curves for the plot: name → [[percentile, microseconds]].
    public var curves: [String: [[Double]]]
    /// Replies the engine dropped and counted, by reason (wrong id, wrong question, late, …); nil
    /// for engines that do not count them.
    public var repliesDropped: [String: Int]?
    /// What the engine sent, by kind (evquery: `udp` queries, of which `segmented` went out in
    /// UDP GSO messages, and `tcp`; and `replies_coalesced`, the replies that came several to a
    /// message by UDP GRO); nil for engines that do not count them.
    public var sends: [String: Int]?
    /// Per server, with more than one (`--server` repeated); nil with one.
    public var servers: [ServerRow]?
    /// The embedded responder's own counters (nil against another server).
    public var responder: String?
    /// The report format's version: `evq merge` takes reports of its own version only.
    public var reportFormat = LoadReport.currentFormat
    /// Whether the run went its whole course: false for a run stopped early (SIGTERM, SIGINT) and
    /// for a merge that lacks a shard or took an incomplete one.
    public var complete = true
    /// Why the report is incomplete, one sentence each; nil when complete.
    public var incomplete: [String]?
    /// This generator's shard, `I/N` (`--shard`); nil for a whole load and for a merged report.
    public var shard: String?
    /// The user's labels (`--label KEY=VALUE`); a merged report keeps those all its shards share.
    public var labels: [String: String] = [:]
    /// The histograms behind the percentiles, in HdrHistogram's own encoding, so that reports from
    /// several generators merge exactly (`evq merge`).
    public var histograms: EncodedHistograms?
    /// A merged report's generators, one row each; nil for one generator's report.
    public var shards: [ShardRow]?

    /// Makes a report from its figures.
    public init(
        engine: String, server: String, mode: String, outstanding: Int?, targetRate: Double?, reactors: Int,
        seconds: Double, sent: Int, qps: Double, cpuSeconds: Double, cpuSecondsPerMillion: Double, rssBytes: Int,
        latencyUs: LatencySummary, cancelLatencyUs: CancelLatency, outcomes: [String: Int], audit: ExactlyOnceAudit,
        intervals: [Interval], curves: [String: [[Double]]]
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
        self.intervals = intervals
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
        var shape = mode == "open" ? "open loop at \(Int(targetRate ?? 0)) q/s" : "closed loop, \(outstanding ?? 0) outstanding"
        if let ramp { shape = "open loop rising \(Int(ramp.fromRate))→\(Int(ramp.toRate)) q/s over \(format(ramp.seconds)) s" }
        let title = shards.map { "evq merge of \($0.count) generators" } ?? "evq load"
        lines.append("\(title): \(engine)\(transport.map { " over \($0)" } ?? "") → \(server), \(shape), \(reactors) reactor(s), \(format1(seconds, 2)) s")
        if shard != nil || !labels.isEmpty {
            lines.append("  fleet           " + ((shard.map { ["shard=\($0)"] } ?? []) + labels.sorted { $0.key < $1.key }
                .map { "\($0.key)=\($0.value)" }).joined(separator: " "))
        }
        if let incomplete { lines.append("  INCOMPLETE      " + incomplete.joined(separator: "; ")) }
        lines.append("  throughput      \(Int(qps.rounded())) responses/s   sent=\(sent)")
        lines.append("  cpu             \(format1(cpuSeconds, 2)) s = \(format1(cpuSecondsPerMillion, 2)) s per million queries"
            + "   rss=\(rssBytes / 1_048_576) MiB")
        func counts(_ values: [String: Int]) -> String {
            values.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        }
        lines.append("  outcomes        " + counts(outcomes))
        if !rcodes.isEmpty { lines.append("  rcodes          " + counts(rcodes) + "   (nodata=\(nodata))") }
        if let rcodesNote { lines.append("                  (\(rcodesNote))") }
        if let ramp { lines.append("  knee            " + ramp.sentence) }
        lines.append("  " + LatencySummary.header(unit: "µs"))
        lines.append("  " + latencyUs.row(label: "query"))
        lines.append("  " + cancelLatencyUs.loop.row(label: "cancel from loop"))
        lines.append("  " + cancelLatencyUs.thread.row(label: "cancel from thread"))
        if let scan = cancelLatencyUs.scanLoop { lines.append("  " + scan.row(label: "scan cancel, loop")) }
        if let scan = cancelLatencyUs.scanThread { lines.append("  " + scan.row(label: "scan cancel, thr.")) }
        lines.append("  audit           \(audit)")
        if let responder { lines.append("  responder       " + responder) }
        if let servers {
            lines.append("  " + pad("server", 22) + pad("completed", 11) + pad("responses", 11) + pad("timeouts", 10)
                + pad("p50 µs", 10) + pad("p99 µs", 10) + "  rcodes")
            for row in servers {
                lines.append("  " + pad(row.server, 22) + pad("\(row.completed)", 11) + pad("\(row.responses)", 11)
                    + pad("\(row.timeouts)", 10) + pad(format(row.latencyUs.p50), 10) + pad(format(row.latencyUs.p99), 10)
                    + "  " + counts(row.rcodes))
            }
        }
        if let shards {
            lines.append("  " + pad("generator", 24) + pad("shard", 7) + pad("sent", 11) + pad("q/s", 10)
                + pad("cpu s/M", 9) + pad("p50 µs", 10) + pad("p99 µs", 10) + pad("audit", 7) + "  complete")
            for row in shards {
                lines.append("  " + pad(URL(fileURLWithPath: row.source).lastPathComponent, 24) + pad(row.shard ?? "-", 7) + pad("\(row.sent)", 11)
                    + pad("\(Int(row.qps.rounded()))", 10) + pad(format1(row.cpuSecondsPerMillion, 2), 9)
                    + pad(format(row.latencyUs.p50), 10) + pad(format(row.latencyUs.p99), 10)
                    + pad(row.auditOK ? "OK" : "FAILED", 7) + "  " + (row.complete ? "yes" : "no"))
            }
        }
        if let sends { lines.append("  sends           " + counts(sends)) }
        if let connections { lines.append("  connections     " + counts(connections)) }
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

extension LoadReport {
    /// A response code's name as dig prints it (`NOERROR`, `FORMERR`, …, `BADVERS`), or its number.
    public static func rcodeName(_ code: UInt16) -> String {
        let name = DNSRcode(rawValue: code).description
        return name.hasPrefix("RCODE") ? String(code) : name
    }
}

extension LoadReport {
    /// One server's share of a run with several (`--server` repeated): queries go round the servers.
    public struct ServerRow: Codable, Sendable, Equatable {
        public var server: String
        /// Queries sent to it that completed (every one, once the run has drained).
        public var completed: Int
        /// Replies from it, whatever their code.
        public var responses: Int
        public var timeouts: Int
        /// Its replies by response code.
        public var rcodes: [String: Int]
        public var latencyUs: LatencySummary

        /// The row from the server's merged shards.
        init(server: String, totals: (query: Histogram<UInt64>, cancelLoop: Histogram<UInt64>,
                                      cancelThread: Histogram<UInt64>, scanCancelLoop: Histogram<UInt64>,
                                      scanCancelThread: Histogram<UInt64>, outcomes: [String: Int],
                                      rcodes: [UInt16: Int])) {
            self.server = server
            completed = totals.outcomes.values.reduce(0, +)
            responses = LoadOutcome.allCases.filter(\.isReply).reduce(0) { $0 + (totals.outcomes[$1.rawValue] ?? 0) }
            timeouts = totals.outcomes[LoadOutcome.timeout.rawValue] ?? 0
            rcodes = Dictionary(uniqueKeysWithValues: totals.rcodes.map { (LoadReport.rcodeName($0.key), $0.value) })
            latencyUs = LatencySummary(nanoseconds: totals.query)
        }
    }
}
