import EvqueryTestSupport
import EventReactor
import Foundation
import Histogram
@testable import LoadGenerator
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The latency histograms of `/metrics` (`evq load --metrics-listen`), rendered from the load's
/// HdrHistograms at each reading: Prometheus buckets at the fixed bounds, cumulative, that never
/// shrink between scrapes, with the run's labels, and a count that agrees with the replies counted
/// in the same scrape.
@Suite("metrics: the latency histograms' exposition", .serialized)
struct MetricsExpositionTests {
    /// The `le` values Prometheus queries group by: those swift-prometheus wrote for these bounds.
    static let bounds = ["0.00001", "0.000025", "0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.002", "0.005",
                         "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.0", "5.0", "+Inf"]

    @Test func aSampleCountsUnderEveryBoundAtOrAboveItAndTheSumIsWithinHdrHistogramsPrecision() {
        var histogram = makeLatencyHistogram()
        let samples: [(nanoseconds: UInt64, count: UInt64)] = [
            (5_000, 3), (10_000, 2), (10_100, 1), (3_000_000, 4), (7_000_000_000, 1),
        ]
        for (value, count) in samples { _ = histogram.record(value, count: count) }
        let exposed = PrometheusLatencyHistogram(histogram)
        var expected = [UInt64](repeating: 0, count: PrometheusLatencyHistogram.bounds.count)
        for (index, bound) in PrometheusLatencyHistogram.bounds.enumerated() {
            expected[index] = samples.filter { $0.nanoseconds <= bound }.reduce(0) { $0 + $1.count }
        }
        #expect(exposed.cumulative == expected)
        #expect(exposed.cumulative[0] == 5)  // 10 µs exactly is under le="0.00001"
        #expect(exposed.count == 11)  // 7 s only under +Inf
        let sum = samples.reduce(0.0) { $0 + Double($1.nanoseconds * $1.count) }
        #expect(abs(Double(exposed.sumNanoseconds) - sum) <= sum / 1000)
        #expect(PrometheusLatencyHistogram.boundLabels + ["+Inf"] == Self.bounds)
        #expect(PrometheusLatencyHistogram(makeLatencyHistogram()) == PrometheusLatencyHistogram())
    }

    @Test func labelValuesAreEscapedAsPrometheusReadsThem() {
        #expect(PrometheusLatencyHistogram.render(labels: [("shard", "0/2"), ("note", "a \"b\" \\ c\nd")])
                == #"shard="0/2",note="a \"b\" \\ c\nd""#)
        var buffer: [UInt8] = []
        PrometheusLatencyHistogram().render(name: "x_seconds", labels: "", into: &buffer)
        let text = String(decoding: buffer, as: UTF8.self)
        #expect(text.hasPrefix("x_seconds_bucket{le=\"0.00001\"} 0\n"))
        #expect(text.hasSuffix("x_seconds_bucket{le=\"+Inf\"} 0\nx_seconds_sum 0.0\nx_seconds_count 0\n"))
    }

    /// One exposition parsed: each sample's value by its series `name{labels}`, labels as written.
    struct Exposition {
        var samples: [String: Double] = [:]
        /// The `# TYPE` lines by metric name.
        var types: [String: [String]] = [:]
        /// Each histogram series (name and labels without `le`): its buckets' `le` and values in order.
        var buckets: [String: [(le: String, value: Double)]] = [:]

        init(_ text: String) throws {
            for line in text.split(separator: "\n") {
                if line.hasPrefix("# TYPE ") {
                    let parts = line.split(separator: " ")
                    types[String(parts[2]), default: []].append(String(parts[3]))
                    continue
                }
                guard !line.hasPrefix("#") else { continue }
                let space = try #require(line.lastIndex(of: " "))
                let series = String(line[..<space])
                let value = try #require(Double(line[line.index(after: space)...]), "\(line)")
                samples[series] = value
                guard let range = series.range(of: #"le=""#), series.contains("_bucket{") else { continue }
                let le = series[range.upperBound...].prefix { $0 != "\"" }
                var rest = String(series[..<range.lowerBound]) + series[range.upperBound...].drop { $0 != "\"" }.dropFirst()
                rest = rest.replacingOccurrences(of: ",}", with: "}").replacingOccurrences(of: "{}", with: "")
                buckets[rest.replacingOccurrences(of: "_bucket", with: ""), default: []].append((String(le), value))
            }
        }
    }

    /// GET /metrics from 127.0.0.1:`port`: the body, or nil if there was no 200 response.
    private static func scrape(port: UInt16) -> String? {
        guard let response = try? Loopback.get("/metrics", port: port), response.status == "HTTP/1.1 200 OK" else { return nil }
        return response.body
    }

    @Test func scrapesDuringARunShowCumulativeBucketsThatNeverShrinkAndCountTheRepliesOfTheSameReading() throws {
        let shard = try LoadShard(index: 1, count: 2)
        let labels = ["region": #"eu "west" \ 1"#]
        let metrics = LoadMetrics(shard: shard, labels: labels, period: .milliseconds(50))
        let port = try metrics.listen(host: "127.0.0.1", port: 0)
        defer { metrics.close() }
        var configuration = LoadConfiguration()
        configuration.duration = .milliseconds(1500)
        configuration.outstanding = 40
        configuration.quiet = true
        configuration.cancelRate = 0.2
        configuration.cancelAfter = .uniform(0, 300_000)
        configuration.metrics = metrics
        configuration.shard = shard
        configuration.labels = labels

        // A scraper for the length of the run: a scrape every 20 ms or so.
        let scrapes = Locked<[String]>([])
        let running = Locked(true)
        let scraperDone = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            while running.withLock({ $0 }) {
                if let body = Self.scrape(port: port) { scrapes.withLock { $0.append(body) } }
                usleep(20_000)
            }
            scraperDone.signal()
        }
        let (report, _) = try LoadRun.run(configuration)
        running.withLock { $0 = false }
        scraperDone.wait()
        #expect(report.audit.ok, "\(report.audit)")
        let final = try Exposition(try #require(Self.scrape(port: port)))
        let expositions = try scrapes.withLock { $0 }.map(Exposition.init) + [final]
        #expect(expositions.count >= 3)

        let runLabels = #"shard="1/2",region="eu \"west\" \\ 1""#
        let series = ["evq_load_query_latency_seconds{\(runLabels)}",
                      "evq_load_cancel_latency_seconds{\(runLabels),origin=\"loop\"}",
                      "evq_load_cancel_latency_seconds{\(runLabels),origin=\"thread\"}"]
        var previous: [String: [Double]] = [:]
        var changed = 0
        for exposition in expositions {
            #expect(exposition.types["evq_load_query_latency_seconds"] == ["histogram"])
            #expect(exposition.types["evq_load_cancel_latency_seconds"] == ["histogram"])
            #expect(Set(exposition.buckets.keys) == Set(series))
            for name in series {
                let buckets = try #require(exposition.buckets[name])
                #expect(buckets.map(\.le) == Self.bounds)
                let values = buckets.map(\.value)
                #expect(zip(values, values.dropFirst()).allSatisfy { $0 <= $1 }, "not cumulative: \(values)")
                #expect(values.last == exposition.samples[name.replacingOccurrences(of: "{", with: "_count{")])
                #expect(exposition.samples[name.replacingOccurrences(of: "{", with: "_sum{")] ?? -1 >= 0)
                if let earlier = previous[name] {
                    #expect(zip(earlier, values).allSatisfy { $0 <= $1 }, "a bucket shrank: \(earlier) → \(values)")
                    if earlier != values { changed += 1 }
                }
                previous[name] = values
            }
            // The histogram and the reply counters of one scrape come from one reading.
            let replies = exposition.samples.filter { $0.key.hasPrefix("evq_load_responses_total{") }.values.reduce(0, +)
            #expect(exposition.samples["evq_load_query_latency_seconds_count{\(runLabels)}"] == replies)
        }
        #expect(changed > 0, "no scrape saw the histograms move")

        // After the run: the count is every reply the report timed, the cancels by origin likewise.
        #expect(final.samples["evq_load_query_latency_seconds_count{\(runLabels)}"] == Double(report.latencyUs.count))
        #expect(final.samples["evq_load_cancel_latency_seconds_count{\(runLabels),origin=\"loop\"}"]
                == Double(report.cancelLatencyUs.loop.count))
        #expect(final.samples["evq_load_cancel_latency_seconds_count{\(runLabels),origin=\"thread\"}"]
                == Double(report.cancelLatencyUs.thread.count))
        #expect(report.latencyUs.count > 0 && report.cancelLatencyUs.loop.count + report.cancelLatencyUs.thread.count > 0)
        #expect(final.samples["evq_load_responses_total{\(runLabels),rcode=\"NOERROR\"}"]
                == Double(report.rcodes["NOERROR"] ?? -1))
    }
}
