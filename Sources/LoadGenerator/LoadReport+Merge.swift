import EventReactor
import Foundation
import Histogram

/// A report's histograms in HdrHistogram's compressed V2 encoding, base64 (as in its `.hlog`
/// interval logs), with their settings: what `evq merge` adds up exactly.
public struct EncodedHistograms: Codable, Sendable, Equatable {
    /// The settings every histogram of the report shares; reports merge only when theirs are equal.
    public struct Settings: Codable, Sendable, Equatable, CustomStringConvertible {
        /// The unit of the recorded values (`ns`).
        public var unit: String
        public var lowestDiscernibleValue: UInt64
        public var highestTrackableValue: UInt64
        public var significantDigits: Int

        /// `ns, 1…100000000000, 3 digits`.
        public var description: String {
            "\(unit), \(lowestDiscernibleValue)…\(highestTrackableValue), \(significantDigits) digits"
        }
    }

    public var settings: Settings
    /// Query latency (send, or intended send, to completion).
    public var query: String
    /// Cancel latency, cancels made on the loop thread.
    public var cancelLoop: String
    /// Cancel latency, cancels made from another thread.
    public var cancelThread: String

    /// Encodes a run's three histograms (of nanoseconds, made by `makeLatencyHistogram`).
    public init(query: Histogram<UInt64>, cancelLoop: Histogram<UInt64>, cancelThread: Histogram<UInt64>) {
        settings = Settings(unit: "ns", lowestDiscernibleValue: query.lowestDiscernibleValue,
                            highestTrackableValue: query.highestTrackableValue,
                            significantDigits: Int(query.numberOfSignificantValueDigits.rawValue))
        self.query = HdrHistogramEncoding.compressedBase64(query)
        self.cancelLoop = HdrHistogramEncoding.compressedBase64(cancelLoop)
        self.cancelThread = HdrHistogramEncoding.compressedBase64(cancelThread)
    }

    /// The three histograms decoded.
    /// - Throws: `HdrHistogramEncoding.DecodingError` naming the histogram that does not read, or
    ///   whose settings differ from `settings`.
    public func decoded() throws(HdrHistogramEncoding.DecodingError)
        -> (query: Histogram<UInt64>, cancelLoop: Histogram<UInt64>, cancelThread: Histogram<UInt64>)
    {
        func one(_ name: String, _ text: String) throws(HdrHistogramEncoding.DecodingError) -> Histogram<UInt64> {
            let histogram: Histogram<UInt64>
            do { histogram = try HdrHistogramEncoding.decode(compressedBase64: text) } catch {
                throw .init(description: "histograms.\(name): \(error)")
            }
            guard histogram.lowestDiscernibleValue == settings.lowestDiscernibleValue,
                histogram.highestTrackableValue == settings.highestTrackableValue,
                Int(histogram.numberOfSignificantValueDigits.rawValue) == settings.significantDigits
            else { throw .init(description: "histograms.\(name): its settings differ from histograms.settings") }
            return histogram
        }
        return (try one("query", query), try one("cancel_loop", cancelLoop), try one("cancel_thread", cancelThread))
    }
}

extension LoadReport {
    /// The version of the report format this build writes and merges. Version 2 added the encoded
    /// histograms, `complete`, `shard` and `labels`.
    public static let currentFormat = 2

    /// One generator's row in a merged report.
    public struct ShardRow: Codable, Sendable, Equatable {
        /// Where the report came from (its file).
        public var source: String
        /// Its shard, `I/N`, if it was one.
        public var shard: String?
        public var labels: [String: String]
        public var sent: Int
        public var qps: Double
        public var cpuSecondsPerMillion: Double
        public var latencyUs: LatencySummary
        public var auditOK: Bool
        public var complete: Bool

        enum CodingKeys: String, CodingKey {
            case source, shard, labels, sent, qps, cpuSecondsPerMillion, latencyUs
            case auditOK = "audit_ok"
            case complete
        }
    }

    /// Why reports could not be merged.
    public struct MergeFailure: Error, CustomStringConvertible {
        public var description: String

        /// A failure with its message.
        public init(_ description: String) { self.description = description }
    }

    /// Reads one `evq load --json` report, checking its format version first.
    /// - Throws: `MergeFailure` for text that is not JSON, not a report, or of another version.
    public static func read(json data: Data, source: String) throws(MergeFailure) -> LoadReport {
        struct Version: Decodable { var reportFormat: Int? }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let version: Version
        do { version = try decoder.decode(Version.self, from: data) } catch {
            throw MergeFailure("\(source): not a JSON object (\(Self.reason(error)))")
        }
        guard version.reportFormat == currentFormat else {
            let found = version.reportFormat.map { "format \($0)" } ?? "no report_format (written before format 2)"
            throw MergeFailure("\(source): report \(found); this evq merges format \(currentFormat) only")
        }
        do { return try decoder.decode(LoadReport.self, from: data) } catch {
            throw MergeFailure("\(source): not an evq load report (\(Self.reason(error)))")
        }
    }

    /// A decoding error in a few words: the key path and what was wrong.
    private static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "no \((context.codingPath + [key]).map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
            DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return (path.isEmpty ? "" : path + ": ") + context.debugDescription
        default:
            return "\(error)"
        }
    }

    /// Merges the reports of several generators into one, as one generator's report of the whole
    /// load: counts, outcomes, rcodes and audits summed; the histograms added bucket by bucket, so
    /// the percentiles are those of one histogram of every sample; rates and CPU summed; intervals
    /// summed by position (their p50/p99 are the worst shard's, an interval carries no histogram).
    /// The result is incomplete when any report is, or when the shards `I/N` they name miss one.
    /// - Parameter reports: each report with where it came from, in the order of the shard table.
    /// - Throws: `MergeFailure` when there is none, a report has no histograms, or histogram
    ///   settings differ.
    public static func merge(_ reports: [(source: String, report: LoadReport)]) throws(MergeFailure) -> LoadReport {
        guard let first = reports.first?.report else { throw MergeFailure("no report to merge") }
        var histograms: (query: Histogram<UInt64>, cancelLoop: Histogram<UInt64>, cancelThread: Histogram<UInt64>)?
        var settings: (EncodedHistograms.Settings, String)?
        for (source, report) in reports {
            guard let encoded = report.histograms else { throw MergeFailure("\(source): the report has no histograms") }
            if let (expected, firstSource) = settings, expected != encoded.settings {
                throw MergeFailure("\(source): histogram settings (\(encoded.settings)) differ from \(firstSource)'s "
                    + "(\(expected)); histograms merge exactly only with the same settings")
            }
            settings = settings ?? (encoded.settings, source)
            let decoded: (query: Histogram<UInt64>, cancelLoop: Histogram<UInt64>, cancelThread: Histogram<UInt64>)
            do { decoded = try encoded.decoded() } catch { throw MergeFailure("\(source): \(error)") }
            if histograms == nil {
                histograms = decoded
            } else {
                histograms!.query.add(decoded.query)
                histograms!.cancelLoop.add(decoded.cancelLoop)
                histograms!.cancelThread.add(decoded.cancelThread)
            }
        }
        let (query, loop, thread) = histograms!
        // Counts from files: a sum past Int.max stops there instead of trapping.
        func plus(_ a: Int, _ b: Int) -> Int { let (r, o) = a.addingReportingOverflow(b); return o ? (b < 0 ? .min : .max) : r }
        func sum(_ field: (LoadReport) -> Int) -> Int { reports.reduce(0) { plus($0, field($1.report)) } }
        func sumD(_ field: (LoadReport) -> Double) -> Double { reports.reduce(0) { $0 + field($1.report) } }
        func sumCounts(_ field: (LoadReport) -> [String: Int]?) -> [String: Int]? {
            let all = reports.compactMap { field($0.report) }
            return all.isEmpty ? nil : all.reduce(into: [:]) { total, one in total.merge(one, uniquingKeysWith: plus) }
        }
        func joined(_ field: (LoadReport) -> String) -> String {
            var seen: [String] = []
            for (_, report) in reports where !seen.contains(field(report)) { seen.append(field(report)) }
            return seen.joined(separator: ", ")
        }
        let audits = reports.map(\.report.audit)
        let audit = ExactlyOnceAudit(
            started: audits.reduce(0) { plus($0, $1.started) }, completed: audits.reduce(0) { plus($0, $1.completed) },
            doubleCompletions: audits.reduce(0) { plus($0, $1.doubleCompletions) }, missed: audits.reduce(0) { plus($0, $1.missed) },
            eventsAfterDrain: audits.reduce(0) { plus($0, $1.eventsAfterDrain) },
            eventsBaseline: audits.reduce(0) { plus($0, $1.eventsBaseline) },
            timersAfterDrain: audits.reduce(0) { plus($0, $1.timersAfterDrain) })
        let sent = sum(\.sent), cpu = sumD(\.cpuSeconds)
        let closed = reports.allSatisfy { $0.report.mode == "closed" }
        var merged = LoadReport(
            engine: joined(\.engine), server: joined(\.server), mode: joined(\.mode),
            outstanding: closed ? sum { $0.outstanding ?? 0 } : nil,
            targetRate: reports.allSatisfy { $0.report.mode == "open" } ? sumD { $0.targetRate ?? 0 } : nil,
            reactors: sum(\.reactors), seconds: reports.map(\.report.seconds).max() ?? 0, sent: sent,
            qps: sumD(\.qps), cpuSeconds: cpu, cpuSecondsPerMillion: sent > 0 ? cpu / Double(sent) * 1e6 : 0,
            rssBytes: sum(\.rssBytes), latencyUs: LatencySummary(nanoseconds: query),
            cancelLatencyUs: CancelLatency(loop: LatencySummary(nanoseconds: loop),
                                           thread: LatencySummary(nanoseconds: thread)),
            outcomes: sumCounts(\.outcomes) ?? [:], audit: audit, intervals: mergedIntervals(reports.map(\.report)),
            curves: ["query": curve(query), "cancel_loop": curve(loop), "cancel_thread": curve(thread)])
        merged.rcodes = sumCounts(\.rcodes) ?? [:]
        merged.nodata = sum(\.nodata)
        merged.repliesDropped = sumCounts(\.repliesDropped)
        merged.sends = sumCounts(\.sends)
        merged.histograms = EncodedHistograms(query: query, cancelLoop: loop, cancelThread: thread)
        merged.labels = first.labels.filter { label in reports.allSatisfy { $0.report.labels[label.key] == label.value } }
        merged.shards = reports.map { source, report in
            ShardRow(source: source, shard: report.shard, labels: report.labels, sent: report.sent, qps: report.qps,
                     cpuSecondsPerMillion: report.cpuSecondsPerMillion, latencyUs: report.latencyUs,
                     auditOK: report.audit.ok, complete: report.complete)
        }
        var incomplete = reports.filter { !$0.report.complete }.map { source, report in
            "\(source) is incomplete" + (report.incomplete.map { " (" + $0.joined(separator: "; ") + ")" } ?? "")
        }
        incomplete += missingShards(reports)
        if !incomplete.isEmpty {
            merged.complete = false
            merged.incomplete = incomplete
        }
        return merged
    }

    /// The shards a set of reports lacks or repeats, from the `I/N` they name, one sentence each.
    static func missingShards(_ reports: [(source: String, report: LoadReport)]) -> [String] {
        let named = reports.compactMap { $0.report.shard.flatMap { try? LoadShard(parsing: $0, environment: [:]) } }
        guard let count = named.first?.count else { return [] }
        var problems: [String] = []
        if named.contains(where: { $0.count != count }) { problems.append("the reports name shards of different counts N") }
        if named.count < reports.count { problems.append("some reports name no shard") }
        let indices = named.map(\.index)
        let missing = (0..<count).filter { !indices.contains($0) }
        if !missing.isEmpty { problems.append("shard(s) " + missing.map { "\($0)/\(count)" }.joined(separator: ", ") + " missing") }
        let repeated = Set(indices.filter { index in indices.filter { $0 == index }.count > 1 })
        if !repeated.isEmpty {
            problems.append("shard(s) " + repeated.sorted().map { "\($0)/\(count)" }.joined(separator: ", ") + " given twice")
        }
        return problems
    }

    /// Intervals summed by position: counts and rates add, p50/p99 are the worst shard's.
    static func mergedIntervals(_ reports: [LoadReport]) -> [Interval] {
        var rows: [Interval] = []
        for report in reports {
            for (index, row) in report.intervals.enumerated() {
                guard index < rows.count else {
                    rows.append(row)
                    continue
                }
                var total = rows[index]
                total.time = max(total.time, row.time)
                total.seconds = max(total.seconds, row.seconds)
                total.sent += row.sent
                total.lost += row.lost
                total.responses += row.responses
                total.qps += row.qps
                total.rcodes.merge(row.rcodes, uniquingKeysWith: +)
                total.nodata += row.nodata
                total.timeouts += row.timeouts
                total.cancels += row.cancels
                total.errors += row.errors
                total.p50Us = max(total.p50Us, row.p50Us)
                total.p99Us = max(total.p99Us, row.p99Us)
                total.outstanding += row.outstanding
                total.clientLagMs = max(total.clientLagMs, row.clientLagMs)
                rows[index] = total
            }
        }
        return rows
    }
}
