import Histogram

/// Percentiles of one latency distribution, in microseconds (docs/performance.md "Measures").
public struct LatencySummary: Sendable, Codable, Equatable {
    public var count: UInt64
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double

    enum CodingKeys: String, CodingKey {
        case count, p50, p90, p99, p999, max
    }

    /// Summarises a histogram of nanoseconds into microseconds. A percentile is the highest value
    /// equivalent to the one at its rank (HdrHistogram's convention, not clamped to the largest
    /// sample), so it depends on the bucket counts alone: merged histograms (`evq merge`) give the
    /// percentiles of one histogram of all their samples.
    public init(nanoseconds histogram: Histogram<UInt64>) {
        let count = histogram.totalCount
        self.count = count
        func micros(_ percentile: Double) -> Double {
            count == 0 ? 0 : Double(histogram.highestEquivalentForValue(histogram.valueAtPercentile(percentile))) / 1000
        }
        p50 = micros(50)
        p90 = micros(90)
        p99 = micros(99)
        p999 = micros(99.9)
        max = Double(histogram.max) / 1000
    }

    /// One table row: `p50 p90 p99 p99.9 max count`.
    public func row(label: String) -> String {
        func cell(_ value: Double) -> String { pad(count == 0 ? "-" : format(value), 9) }
        return pad(label, 18) + cell(p50) + cell(p90) + cell(p99) + cell(p999) + cell(max) + pad("\(count)", 10)
    }

    /// The header matching `row(label:)`.
    public static func header(unit: String) -> String {
        pad("latency (\(unit))", 18) + ["p50", "p90", "p99", "p99.9", "max", "count"].map { pad($0, $0 == "count" ? 10 : 9) }.joined()
    }
}

/// A histogram of nanosecond latencies (1 ns … 100 s, 3 significant digits).
public func makeLatencyHistogram() -> Histogram<UInt64> {
    Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 100_000_000_000, numberOfSignificantValueDigits: .three)
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : String(repeating: " ", count: width - text.count) + text
}

func format(_ value: Double) -> String {
    if value >= 1000 { return String(Int(value.rounded())) }
    if value >= 100 { return String(format1(value, 0)) }
    return format1(value, value >= 10 ? 1 : 2)
}

/// Fixed-point formatting without Foundation.
func format1(_ value: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (value * scale).rounded()
    let whole = Int(scaled / scale)
    guard digits > 0 else { return String(whole) }
    let fraction = Int(abs(scaled) - Double(abs(whole)) * scale)
    let text = String(fraction)
    return "\(whole).\(String(repeating: "0", count: digits - text.count))\(text)"
}
