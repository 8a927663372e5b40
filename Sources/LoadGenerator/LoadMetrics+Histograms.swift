import Histogram

/// One latency histogram as Prometheus exposes it (`_bucket{le=…}`, `_sum`, `_count`), computed from
/// the load recorder's HdrHistogram at publish time: the cost is one pass over the HdrHistogram's
/// counts, however many samples it holds (swift-prometheus's histogram takes one sample per call).
///
/// A value recorded by HdrHistogram counts under every bound at or above the lowest value of its
/// equivalent range (within 0.1 % of the value, 3 significant digits); the sum is taken at the
/// middle of each range. Built from totals that only grow, the buckets of successive readings never
/// shrink.
struct PrometheusLatencyHistogram: Sendable, Equatable {
    /// The samples at or below each bound of `LoadMetrics.latencyBuckets`, cumulative.
    private(set) var cumulative: [UInt64]
    /// Every sample (`le="+Inf"` and `_count`).
    private(set) var count: UInt64 = 0
    /// The samples' sum, nanoseconds.
    private(set) var sumNanoseconds: UInt64 = 0

    /// The bounds, nanoseconds.
    static let bounds: [UInt64] = LoadMetrics.latencyBuckets.map { UInt64($0.clampedNanoseconds) }
    /// The bounds as `le` label values, as swift-prometheus writes a `Duration` (`0.00001`, `1.0`).
    static let boundLabels: [String] = bounds.map(seconds)

    /// No sample.
    init() { cumulative = [UInt64](repeating: 0, count: Self.bounds.count) }

    /// The buckets of `histogram`'s samples (nanoseconds).
    init(_ histogram: Histogram<UInt64>) {
        self.init()
        guard histogram.totalCount > 0 else { return }
        let bounds = Self.bounds
        var bucket = 0
        for item in histogram.recordedValues() {
            let low = histogram.lowestEquivalentForValue(item.value)
            while bucket < bounds.count && bounds[bucket] < low { bucket += 1 }
            let samples = UInt64(item.count)
            if bucket < bounds.count { cumulative[bucket] &+= samples }
            count &+= samples
            sumNanoseconds &+= samples &* histogram.medianEquivalentForValue(item.value)
        }
        for index in cumulative.indices.dropFirst() { cumulative[index] &+= cumulative[index - 1] }
    }

    /// Appends the histogram's lines for the series `name{labels}` (`labels` already rendered, or
    /// empty) in Prometheus's text format.
    func render(name: String, labels: String, into buffer: inout [UInt8]) {
        let prefix = labels.isEmpty ? "" : labels + ","
        var text = ""
        for (label, samples) in zip(Self.boundLabels, cumulative) {
            text += "\(name)_bucket{\(prefix)le=\"\(label)\"} \(samples)\n"
        }
        text += "\(name)_bucket{\(prefix)le=\"+Inf\"} \(count)\n"
        let braces = labels.isEmpty ? "" : "{\(labels)}"
        text += "\(name)_sum\(braces) \(Self.seconds(sumNanoseconds))\n"
        text += "\(name)_count\(braces) \(count)\n"
        buffer.append(contentsOf: text.utf8)
    }

    /// Nanoseconds as decimal seconds with no trailing zero past the first decimal (`0.000025`,
    /// `2.0`): how swift-prometheus writes a `Duration`, so the `le` values stay those Prometheus
    /// queries have grouped by.
    static func seconds(_ nanoseconds: UInt64) -> String {
        var fraction = String(nanoseconds % 1_000_000_000)
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.count > 1 && fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(nanoseconds / 1_000_000_000).\(fraction)"
    }

    /// `labels` as Prometheus writes them inside braces: `key="value"` joined by commas, with `\`,
    /// `"` and line feeds escaped in the values.
    static func render(labels: [(String, String)]) -> String {
        labels.map { key, value in
            var escaped = ""
            for character in value.unicodeScalars {
                switch character {
                case "\\": escaped += "\\\\"
                case "\"": escaped += "\\\""
                case "\n": escaped += "\\n"
                default: escaped.unicodeScalars.append(character)
                }
            }
            return "\(key)=\"\(escaped)\""
        }.joined(separator: ",")
    }
}
