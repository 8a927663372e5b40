import EventReactor
import Foundation
import Histogram
import LoadGenerator
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Beyond one machine: shards, the exact merge of reports, the live metrics endpoint. The runs are
/// real (the embedded responder on 127.0.0.1) and end with the exactly-once audit.
@Suite("fleet: shards, merge, metrics", .serialized)
struct FleetTests {
    private func configuration(_ change: (inout LoadConfiguration) -> Void = { _ in }) -> LoadConfiguration {
        var configuration = LoadConfiguration()
        configuration.duration = .milliseconds(600)
        configuration.outstanding = 30
        configuration.quiet = true
        configuration.cancelRate = 0.1
        configuration.cancelAfter = .uniform(0, 300_000)
        change(&configuration)
        return configuration
    }

    // MARK: shards

    @Test func theSharesOfAllShardsAddUpToTheWholeAndEachTakesEveryNthLineFromItsIndex() throws {
        var whole = LoadConfiguration()
        whole.queries = (0..<10).map { WorkloadQuery(name: "q\($0).load.evq.test", type: "A") }
        whole.outstanding = 100
        whole.maxQueries = 1001
        var outstanding = 0, queries = 0, lines: [String] = []
        for index in 0..<3 {
            whole.shard = try LoadShard(index: index, count: 3)
            let own = try whole.forShard()
            outstanding += own.outstanding
            queries += own.maxQueries ?? 0
            lines += own.queries.map(\.name)
            #expect(own.queries.first?.name == "q\(index).load.evq.test")
            #expect(own.queries.count == (index == 0 ? 4 : 3))
        }
        #expect(outstanding == 100 && queries == 1001)
        #expect(Set(lines).count == 10)
        whole.rate = 3000
        whole.shard = try LoadShard(index: 1, count: 3)
        #expect(try whole.forShard().rate == 1000)
    }

    @Test func aShardIndexAtOrPastTheCountAndAMissingJobIndexAreClearErrors() {
        #expect(throws: LoadRun.Failure.self) { try LoadShard(parsing: "3/2", environment: [:]) }
        #expect(throws: LoadRun.Failure.self) { try LoadShard(parsing: "2/2", environment: [:]) }
        #expect(throws: LoadRun.Failure.self) { try LoadShard(parsing: "1/0", environment: [:]) }
        #expect(throws: LoadRun.Failure.self) { try LoadShard(parsing: "auto/3", environment: [:]) }
        #expect(throws: LoadRun.Failure.self) { try LoadShard(parsing: "auto/3", environment: ["JOB_COMPLETION_INDEX": "3"]) }
        do {
            _ = try LoadShard(parsing: "3/2", environment: [:])
        } catch {
            #expect(error.description == "--shard 3/2: I counts from 0 and must be below N (0…1)")
        }
    }

    @Test func autoTakesTheShardIndexFromAKubernetesIndexedJob() throws {
        let shard = try LoadShard(parsing: "auto/4", environment: ["JOB_COMPLETION_INDEX": "2"])
        #expect(shard == (try LoadShard(index: 2, count: 4)))
        #expect(shard.description == "2/4")
    }

    @Test func aStartTimeInThePastIsRefusedAndOneInTheFutureIsWaitedFor() throws {
        #expect(try LoadStartTime.parse("2026-12-07T20:00:00Z") == 1_796_673_600)
        #expect(try LoadStartTime.parse("1796673600.5") == 1_796_673_600.5)
        #expect(throws: LoadRun.Failure.self) { try LoadStartTime.parse("tomorrow") }
        let past = configuration { $0.startAt = Date().timeIntervalSince1970 - 5 }
        #expect(throws: LoadRun.Failure.self) { try past.validate() }
        let start = Date().timeIntervalSince1970 + 0.5
        let (report, _) = try LoadRun.run(configuration { $0.startAt = start })
        #expect(report.audit.ok, "\(report.audit)")
        // Every interval ended after the start time: the run began no earlier than it.
        #expect(Date().timeIntervalSince1970 >= start + report.seconds)
    }

    @Test func labelsMustBePrometheusLabelNamesNotTheLoadsOwn() throws {
        #expect(try LoadLabels.parse(["region=eu-west", "run=7"]) == ["region": "eu-west", "run": "7"])
        for bad in ["noequals", "9lives=x", "__name=x", "shard=x", "a-b=x"] {
            #expect(throws: LoadRun.Failure.self, "\(bad)") { try LoadLabels.parse([bad]) }
        }
        #expect(throws: LoadRun.Failure.self) { try LoadLabels.parse(["a=1", "a=2"]) }
    }

    // MARK: the encoding and the merge

    @Test func theV2EncodingDecodesToTheSameBucketsSettingsAndPercentiles() throws {
        var histogram = makeLatencyHistogram()
        var rng = SplitMix64(seed: 11)
        for _ in 0..<50_000 { _ = histogram.record(UInt64.random(in: 1...20_000_000_000, using: &rng)) }
        for value in [1, 2, 1023, 1024, 99_999_999_999] as [UInt64] { _ = histogram.record(value) }
        let decoded = try HdrHistogramEncoding.decode(compressedBase64: HdrHistogramEncoding.compressedBase64(histogram))
        #expect(HdrHistogramEncoding.encode(decoded) == HdrHistogramEncoding.encode(histogram))
        #expect(decoded.totalCount == histogram.totalCount)
        #expect(LatencySummary(nanoseconds: decoded) == LatencySummary(nanoseconds: histogram))
    }

    @Test func aDamagedEncodingIsAnErrorNotATrap() {
        let good = Array(Data(base64Encoded: HdrHistogramEncoding.compressedBase64(makeLatencyHistogram()))!)
        var cases = ["", "!!!", "AAAA", Data(good.prefix(12)).base64EncodedString()]
        var flipped = good
        flipped[3] ^= 0xff
        cases.append(Data(flipped).base64EncodedString())
        var truncated = good
        truncated.removeLast(3)
        cases.append(Data(truncated).base64EncodedString())
        for text in cases {
            #expect(throws: HdrHistogramEncoding.DecodingError.self, "\(text)") {
                try HdrHistogramEncoding.decode(compressedBase64: text)
            }
        }
    }

    @Test func aRunOfZerosPastTheLastBucketIsAnErrorNotAnOverflow() {
        // The header of an empty histogram, then a run of Int64.max zeros and one count: the index
        // would pass Int.max.
        var bytes = HdrHistogramEncoding.encode(makeLatencyHistogram())
        bytes.removeSubrange(40...)
        func zigZag(_ value: Int64) {
            var raw = UInt64(bitPattern: (value << 1) ^ (value >> 63))
            for _ in 0..<8 {
                guard raw >= 0x80 else { bytes.append(UInt8(raw)); return }
                bytes.append(UInt8(raw & 0x7f) | 0x80)
                raw >>= 7
            }
            bytes.append(UInt8(truncatingIfNeeded: raw))
        }
        zigZag(-Int64.max)
        zigZag(-Int64.max)
        zigZag(1)
        let length = UInt32(bytes.count - 40)
        for (index, byte) in withUnsafeBytes(of: length.bigEndian, Array.init).enumerated() { bytes[4 + index] = byte }
        #expect(throws: HdrHistogramEncoding.DecodingError.self) { try HdrHistogramEncoding.decode(bytes) }
    }

    @Test func intervalLogsOfOtherHistogramSettingsAreRefusedNotAdded() throws {
        var fine = makeLatencyHistogram()
        _ = fine.record(1_000)
        var coarse = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 1_000_000,
                                       numberOfSignificantValueDigits: .one)
        _ = coarse.record(1_000)
        func log(_ histogram: Histogram<UInt64>) -> String {
            "#[StartTime: 0.000 (seconds since epoch)]\n\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"
                + "0.000,1.000,1.000,\(HdrHistogramEncoding.compressedBase64(histogram))\n"
        }
        let report = EncodedHistograms(query: fine, cancelLoop: makeLatencyHistogram(), cancelThread: makeLatencyHistogram())
        _ = try HistogramLogReader.compare([("a.hlog", log(fine))], with: report)
        #expect(throws: HdrHistogramEncoding.DecodingError.self) {
            try HistogramLogReader.compare([("a.hlog", log(fine)), ("b.hlog", log(coarse))], with: report)
        }
    }

    /// A report as a generator writes it, from the histograms of its samples.
    private func report(query: Histogram<UInt64>, shard: String?, sent: Int) -> LoadReport {
        let empty = makeLatencyHistogram()
        var report = LoadReport(
            engine: "evquery", server: "198.18.0.1:53", mode: "closed", outstanding: 10, targetRate: nil, reactors: 1,
            seconds: 1, sent: sent, qps: Double(sent), cpuSeconds: 0.1, cpuSecondsPerMillion: 1, rssBytes: 1 << 20,
            latencyUs: LatencySummary(nanoseconds: query),
            cancelLatencyUs: .init(loop: LatencySummary(nanoseconds: empty), thread: LatencySummary(nanoseconds: empty)),
            outcomes: ["answered": sent], audit: ExactlyOnceAudit(started: sent, completed: sent, doubleCompletions: 0, missed: 0,
                                                                   eventsAfterDrain: 2, eventsBaseline: 2, timersAfterDrain: 0),
            intervals: [], curves: [:])
        report.shard = shard
        report.labels = ["run": "7", "host": shard ?? "-"]
        report.histograms = EncodedHistograms(query: query, cancelLoop: empty, cancelThread: empty)
        return report
    }

    @Test func mergedPercentilesEqualThoseOfOneHistogramOfAllSamples() throws {
        var all = makeLatencyHistogram()
        var parts = [makeLatencyHistogram(), makeLatencyHistogram(), makeLatencyHistogram()]
        var rng = SplitMix64(seed: 5)
        for index in 0..<90_000 {
            // Three generators with different distributions: an average of their percentiles is wrong.
            let value = switch index % 3 {
            case 0: UInt64.random(in: 20_000...80_000, using: &rng)
            case 1: UInt64.random(in: 50_000...400_000, using: &rng)
            default: UInt64.random(in: 100_000...30_000_000, using: &rng)
            }
            _ = all.record(value)
            _ = parts[index % 3].record(value)
        }
        let reports = parts.enumerated().map { index, part in
            (source: "shard-\(index).json", report: report(query: part, shard: "\(index)/3", sent: Int(part.totalCount)))
        }
        // Through the JSON, as evq merge reads them.
        let read = try reports.map { source, report in
            (source: source, report: try LoadReport.read(json: Data(try report.json().utf8), source: source))
        }
        let merged = try LoadReport.merge(read)
        #expect(merged.latencyUs == LatencySummary(nanoseconds: all))
        #expect(merged.sent == 90_000 && merged.audit.ok && merged.complete)
        #expect(merged.labels == ["run": "7"])
        #expect(merged.shards?.map(\.shard) == ["0/3", "1/3", "2/3"])
        let again = try #require(merged.histograms).decoded().query
        #expect(HdrHistogramEncoding.encode(again) == HdrHistogramEncoding.encode(all))
        #expect(merged.text.contains("evq merge of 3 generators"))
    }

    @Test func reportsOfAnotherVersionOrOtherHistogramSettingsAreRefusedClearly() throws {
        var histogram = makeLatencyHistogram()
        _ = histogram.record(1000)
        let good = report(query: histogram, shard: "0/2", sent: 1)
        var old = try JSONSerialization.jsonObject(with: Data(good.json().utf8)) as! [String: Any]
        old["report_format"] = 1
        let oldJSON = try JSONSerialization.data(withJSONObject: old)
        do {
            _ = try LoadReport.read(json: oldJSON, source: "old.json")
            Issue.record("a format 1 report was read")
        } catch {
            #expect(error.description == "old.json: report format 1; this evq merges format 2 only")
        }
        old.removeValue(forKey: "report_format")
        #expect(throws: LoadReport.MergeFailure.self) {
            try LoadReport.read(json: try JSONSerialization.data(withJSONObject: old), source: "older.json")
        }
        var coarse = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000_000,
                                       numberOfSignificantValueDigits: .two)
        _ = coarse.record(1000)
        let other = report(query: coarse, shard: "1/2", sent: 1)
        do {
            _ = try LoadReport.merge([("a.json", good), ("b.json", other)])
            Issue.record("histograms of 2 and 3 digits were merged")
        } catch {
            #expect(error.description.hasPrefix("b.json: histogram settings (ns, 1…100000000000, 2 digits) differ from a.json's"))
        }
    }

    @Test func aPartialReportOrAMissingShardMakesTheMergeIncomplete() throws {
        var histogram = makeLatencyHistogram()
        _ = histogram.record(1000)
        var partial = report(query: histogram, shard: "1/3", sent: 1)
        partial.complete = false
        partial.incomplete = ["stopped early by SIGTERM"]
        let merged = try LoadReport.merge([("a.json", report(query: histogram, shard: "0/3", sent: 1)), ("b.json", partial)])
        #expect(!merged.complete)
        #expect(merged.incomplete == ["b.json is incomplete (stopped early by SIGTERM)", "shard(s) 2/3 missing"])
        #expect(merged.text.contains("INCOMPLETE"))
    }

    @Test func threeRealShardsMergeToTheirSumsWithEveryAudit() throws {
        var reports: [(source: String, report: LoadReport)] = []
        var logs: [(source: String, text: String)] = []
        for index in 0..<3 {
            let (report, recorder) = try LoadRun.run(configuration {
                $0.shard = try! LoadShard(index: index, count: 3)
                $0.labels = ["test": "fleet"]
            })
            #expect(report.audit.ok, "\(report.audit)")
            #expect(report.shard == "\(index)/3" && report.outstanding == 10)
            reports.append(("shard-\(index)", report))
            logs.append(("shard-\(index).hlog", recorder.histogramLog))
        }
        let merged = try LoadReport.merge(reports)
        #expect(merged.sent == reports.reduce(0) { $0 + $1.report.sent })
        #expect(merged.audit.started == merged.audit.completed && merged.audit.ok)
        #expect(merged.latencyUs.count == reports.reduce(0) { $0 + $1.report.latencyUs.count })
        #expect(merged.outcomes == reports.reduce(into: [:]) { $0.merge($1.report.outcomes, uniquingKeysWith: +) })
        #expect(merged.complete && merged.labels == ["test": "fleet"])
        // The interval logs hold the same latencies as the reports' histograms, bucket by bucket.
        let comparison = try HistogramLogReader.compare(logs, with: try #require(merged.histograms))
        #expect(comparison.equal, "logs \(comparison.summary.count), reports \(comparison.reportCount)")
    }

    @Test func aPulledStopSwitchEndsTheRunEarlyWithTheAuditAndAnIncompleteReport() throws {
        let stop = LoadStopSwitch()
        let config = configuration {
            $0.duration = .seconds(30)
            $0.stopSwitch = stop
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.4) { stop.pull(reason: "SIGTERM") }
        let (report, _) = try LoadRun.run(config)
        #expect(report.seconds < 20)
        #expect(report.audit.ok, "\(report.audit)")
        #expect(!report.complete && report.incomplete == ["stopped early by SIGTERM"])
    }

    // MARK: live metrics

    /// The value of the sample `name{labels}` in Prometheus text, if present.
    private func sample(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.split(separator: " ").last!)
        }
        return nil
    }

    @Test func theMetricsEndpointServesPrometheusTextThatAgreesWithTheReport() throws {
        let metrics = LoadMetrics(shard: try LoadShard(index: 1, count: 2), labels: ["region": "test"])
        let port = try metrics.listen(host: "127.0.0.1", port: 0)
        defer { metrics.close() }
        let (report, _) = try LoadRun.run(configuration {
            $0.metrics = metrics
            $0.shard = try! LoadShard(index: 1, count: 2)
            $0.labels = ["region": "test"]
        })
        #expect(report.audit.ok, "\(report.audit)")
        let (status, body) = try httpGet("/metrics", port: port)
        #expect(status == "HTTP/1.1 200 OK")
        let labels = #"shard="1/2",region="test""#
        #expect(sample(body, "evq_load_queries_sent_total{\(labels)}") == Double(report.sent))
        #expect(sample(body, "evq_load_queries_completed_total{\(labels)}") == Double(report.outcomes.values.reduce(0, +)))
        #expect(sample(body, "evq_load_responses_total{\(labels),rcode=\"NOERROR\"}") == Double(report.rcodes["NOERROR"] ?? -1))
        #expect(sample(body, "evq_load_cancels_total{\(labels)}") == Double(report.outcomes["cancelled"] ?? 0))
        #expect(sample(body, "evq_load_audit_ok{\(labels)}") == 1)
        #expect(sample(body, "evq_load_outstanding{\(labels)}") == 0)
        #expect(sample(body, "evq_load_query_latency_seconds_count{\(labels)}") == Double(report.latencyUs.count))
        #expect(body.contains("evq_load_query_latency_seconds_bucket{\(labels),le=\"0.00001\"}"))
        #expect(try httpGet("/other", port: port).status.hasPrefix("HTTP/1.1 404"))
    }

    @Test func aMetricsAddressThatCannotBeBoundIsAnErrorNotATrap() throws {
        let first = LoadMetrics(shard: nil, labels: [:])
        let port = try first.listen(host: "127.0.0.1", port: 0)
        defer { first.close() }
        let second = LoadMetrics(shard: nil, labels: [:])
        #expect(throws: ReactorError.self) { try second.listen(host: "127.0.0.1", port: port) }
        #expect(throws: ReactorError.self) { try second.listen(host: "not-an-address", port: 0) }
    }
}
