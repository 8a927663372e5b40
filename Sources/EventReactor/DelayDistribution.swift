#if canImport(Glibc)
import Glibc
#endif

/// A distribution of delays in nanoseconds, written `fixed:D`, `uniform:A-B` or `exp:MEAN`, where
/// each duration is a number with a unit (`ns`, `us`/`µs`, `ms`, `s`).
public enum DelayDistribution: Sendable, Equatable, CustomStringConvertible {
    case fixed(UInt64)
    case uniform(UInt64, UInt64)
    case exponential(mean: UInt64)

    /// Parses `fixed:100us`, `uniform:0-2ms`, `exp:500us`, or a bare duration (fixed); nil when
    /// `init(parsing:)` throws.
    public init?(_ text: String) {
        guard let parsed = try? DelayDistribution(parsing: text) else { return nil }
        self = parsed
    }

    /// Parses `fixed:100us`, `uniform:0-2ms`, `exp:500us`, or a bare duration (fixed).
    /// - Throws: `ParseError` with the offset of the wrong part and what was expected there.
    public init(parsing text: String) throws(ParseError) {
        let colon = text.firstIndex(of: ":")
        let kind = colon.map { String(text[..<$0]) } ?? "fixed"
        let value = colon.map { String(text[text.index(after: $0)...]) } ?? text
        let offset = colon.map { text.distance(from: text.startIndex, to: $0) + 1 } ?? 0
        func fail(_ at: Int, _ reason: String) -> ParseError { ParseError(text: text, position: at, reason: reason) }
        func duration(_ part: String, at: Int) throws(ParseError) -> UInt64 {
            guard let nanos = Self.nanoseconds(part) else {
                throw fail(at, "expected a duration with a unit (ns, us, ms, s) such as 250us, not \"\(part)\"")
            }
            return nanos
        }
        switch kind {
        case "fixed":
            self = .fixed(try duration(value, at: offset))
        case "uniform":
            let bounds = value.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
            guard bounds.count == 2 else { throw fail(offset, "expected A-B, two durations, such as 0us-200us") }
            let low = try duration(bounds[0], at: offset)
            let high = try duration(bounds[1], at: offset + bounds[0].count + 1)
            guard low <= high else { throw fail(offset, "the lower bound \(bounds[0]) is above the upper \(bounds[1])") }
            self = .uniform(low, high)
        case "exp":
            let mean = try duration(value, at: offset)
            guard mean > 0 else { throw fail(offset, "the mean must be above 0") }
            self = .exponential(mean: mean)
        default:
            throw fail(0, "expected fixed:D, uniform:A-B or exp:MEAN (e.g. exp:2ms), not \"\(kind):\"")
        }
    }

    /// Why a delay distribution's text was refused, and where.
    public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
        /// The text as given.
        public var text: String
        /// 0-based offset, in characters, of the wrong part.
        public var position: Int
        /// What was expected, in words.
        public var reason: String

        /// Makes an error.
        public init(text: String, position: Int, reason: String) {
            self.text = text
            self.position = position
            self.reason = reason
        }

        /// `delay "exp:fast" at position 4: expected a duration with a unit …`.
        public var description: String { "delay \"\(text)\" at position \(position): \(reason)" }
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

    /// A duration like `250us`, `2ms`, `1.5s`, `800ns` in nanoseconds; nil without a unit, or
    /// negative, not a number, or over 1,000 hours.
    public static func nanoseconds(_ text: String) -> UInt64? {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            // Finite and below an hour's 3.6e12 ns times 1,000: a huge or infinite value is refused,
            // not converted (UInt64 of it would trap).
            guard let number = Double(text.dropLast(suffix.count)), number >= 0, number * scale < 3.6e15 else {
                return nil
            }
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
