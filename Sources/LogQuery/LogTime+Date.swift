#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension LogTime {
    /// The same instant as a `Date` (to the precision of its `Double` seconds: about 0.1 µs today).
    public var date: Date {
        let seconds = nanosecondsSinceEpoch.dividedRoundingDown(by: 1_000_000_000)
        let nanos = nanosecondsSinceEpoch - seconds * 1_000_000_000
        return Date(timeIntervalSince1970: Double(seconds) + Double(nanos) / 1e9)
    }

    /// The instant of `date`, rounded to the nearest nanosecond its `Double` carries; nil outside
    /// what 64-bit nanoseconds hold (about 1677…2262: `Date.distantFuture` is nil).
    public init?(_ date: Date) {
        let interval = date.timeIntervalSince1970
        guard interval.isFinite, abs(interval) < 9.2e9 else { return nil }
        let seconds = interval.rounded(.down)
        self.init(
            nanosecondsSinceEpoch: Int64(seconds) * 1_000_000_000 + Int64(((interval - seconds) * 1e9).rounded()))
    }
}
