extension Duration {
    /// The duration in whole nanoseconds, as the monotonic clock counts them: 0 when negative,
    /// `UInt64.max` when longer than that (585 years).
    @inlinable
    public var clampedNanoseconds: UInt64 {
        // A negative duration under a second has seconds 0 and negative attoseconds.
        guard self > .zero else { return 0 }
        let (seconds, attoseconds) = components
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return .max }
        let (total, carry) = whole.addingReportingOverflow(UInt64(attoseconds / 1_000_000_000))
        return carry ? .max : total
    }
}

extension Duration {
    /// The duration in seconds, as a `Double` (for rates and reports).
    @inlinable
    public var inSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
