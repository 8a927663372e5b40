#if canImport(Glibc)
import Glibc
#endif

/// A distribution of delays in nanoseconds, written `fixed:D`, `uniform:A-B` or `exp:MEAN`, where
/// each duration is a number with a unit (`ns`, `us`/`µs`, `ms`, `s`).
public enum DelayDistribution: Sendable, Equatable, CustomStringConvertible {
    case fixed(UInt64)
    case uniform(UInt64, UInt64)
    case exponential(mean: UInt64)

    /// Parses `fixed:100us`, `uniform:0-2ms`, `exp:500us`, or a bare duration (fixed).
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let kind = parts.count == 2 ? parts[0] : "fixed"
        let value = parts.count == 2 ? parts[1] : parts[0]
        switch kind {
        case "fixed":
            guard let nanos = Self.nanoseconds(value) else { return nil }
            self = .fixed(nanos)
        case "uniform":
            let bounds = value.split(separator: "-").map(String.init)
            guard bounds.count == 2, let low = Self.nanoseconds(bounds[0]), let high = Self.nanoseconds(bounds[1]),
                low <= high
            else { return nil }
            self = .uniform(low, high)
        case "exp":
            guard let mean = Self.nanoseconds(value), mean > 0 else { return nil }
            self = .exponential(mean: mean)
        default:
            return nil
        }
    }

    /// One draw, in nanoseconds.
    public func sample(using rng: inout some RandomNumberGenerator) -> UInt64 {
        switch self {
        case .fixed(let nanos): return nanos
        case .uniform(let low, let high): return UInt64.random(in: low...high, using: &rng)
        case .exponential(let mean):
            let u = Double.random(in: Double.ulpOfOne..<1, using: &rng)
            return UInt64(min(-log(u) * Double(mean), 3.6e12))
        }
    }

    /// A duration like `250us`, `2ms`, `1.5s`, `800ns` in nanoseconds.
    public static func nanoseconds(_ text: String) -> UInt64? {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let number = Double(text.dropLast(suffix.count)), number >= 0 else { return nil }
            return UInt64(number * scale)
        }
        return nil
    }

    public var description: String {
        switch self {
        case .fixed(let n): "fixed:\(n)ns"
        case .uniform(let a, let b): "uniform:\(a)ns-\(b)ns"
        case .exponential(let mean): "exp:\(mean)ns"
        }
    }
}
