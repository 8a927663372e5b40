/// The knee of a ramp: the highest offered rate at which the server still kept up.
extension LoadReport {
    /// A ramp run (`--rate R --ramp-to R2 --ramp-seconds S`) and what it found, interval by interval
    /// in the order they were sent: the knee is the highest offered rate (queries sent in an
    /// interval over its length) before the server broke a bound for good — the first interval
    /// that lost more than 1 % of its queries or whose p99 reached `p99BoundMs`, with the next
    /// interval broken too (a single bad interval is a moment's stall of the machine). When the
    /// client's own pacer was late on average by a tenth of the p99 bound or more in that interval,
    /// the client fell behind: that is reported as such and no knee is named, since the server was
    /// never shown to fail.
    public struct Ramp: Codable, Sendable, Equatable {
        /// The ramp: from `fromRate` to `toRate` q/s over `seconds`.
        public var fromRate: Double
        public var toRate: Double
        public var seconds: Double
        /// The nominal interval, seconds: each row's `sent` counts the queries of that much send time.
        public var intervalSeconds: Double
        /// The p99 bound (`--knee-p99`), milliseconds; the loss bound is 1 %.
        public var p99BoundMs: Double
        /// The knee, q/s: the highest offered rate that kept within both bounds; nil when no interval
        /// did, or when the client fell behind first.
        public var kneeRate: Double?
        /// When the knee's interval ended, seconds from the start.
        public var kneeTime: Double?
        /// Whether an interval broke a bound (false: the server kept up over the whole ramp, so its
        /// capacity is above `toRate`).
        public var reached: Bool
        /// The first interval that broke a bound: its offered rate, loss (0…1), p99 and the pacer's
        /// mean lag.
        public var breakRate: Double?
        public var breakLoss: Double?
        public var breakP99Ms: Double?
        public var breakClientLagMs: Double?
        /// The client could not send at the ramp's rate (its pacer was late) where a bound broke: the
        /// run measured the client, not the server.
        public var clientFellBehind: Bool

        /// The report's line.
        public var sentence: String {
            let bounds = "loss ≤ 1 %, p99 < \(format(p99BoundMs)) ms"
            guard reached, let breakRate else {
                return "not reached: up to \(Int(toRate)) q/s every interval kept \(bounds); the server's knee is higher"
            }
            let broke = "at \(Int(breakRate.rounded())) q/s loss \(format1((breakLoss ?? 0) * 100, 1)) %, "
                + "p99 \(format(breakP99Ms ?? 0)) ms"
            if clientFellBehind {
                return "the client fell behind (its pacer \(format(breakClientLagMs ?? 0)) ms late on average) \(broke): "
                    + "no server knee measured; use more --reactors or a lower --ramp-to"
            }
            guard let kneeRate, let kneeTime else { return "below \(Int(fromRate)) q/s: the first interval broke \(bounds) (\(broke))" }
            return "\(Int(kneeRate.rounded())) q/s at \(format1(kneeTime, 1)) s (\(bounds)); past it \(broke)"
        }

        /// Reads the knee from a run's intervals (which must hold their final `sent` and `lost`, each
        /// counted over `slotSeconds` of send times, the nominal interval: a row's own length is when
        /// the reporter happened to close it).
        init(fromRate: Double, toRate: Double, seconds: Double, p99Bound: Duration, slotSeconds: Double,
             intervals: [Interval]) {
            self.fromRate = fromRate
            self.toRate = toRate
            self.seconds = seconds
            intervalSeconds = slotSeconds
            let (whole, attoseconds) = p99Bound.components
            p99BoundMs = Double(whole) * 1000 + Double(attoseconds) / 1e15
            reached = false
            clientFellBehind = false
            // Rows after the ramp hold its tail (queries whose send fell in its last moments, then
            // none): they say nothing of a rate.
            let rows = intervals.filter { $0.sent > 0 && $0.time <= seconds + $0.seconds / 2 }
            func breaks(_ row: Interval) -> Bool {
                Double(row.lost) / Double(max(1, row.sent - row.sentCancelled)) > 0.01 || row.p99Us / 1000 >= p99BoundMs
            }
            for (index, row) in rows.enumerated() {
                let offered = Double(row.sent) / slotSeconds
                // A break must last: one bad interval followed by a good one is the machine stalling
                // for a moment (a loaded client or host), not the server's capacity.
                guard breaks(row), index + 1 == rows.count || breaks(rows[index + 1]) else {
                    if !breaks(row) && offered > (kneeRate ?? 0) {
                        kneeRate = offered
                        kneeTime = row.time
                    }
                    continue
                }
                reached = true
                breakRate = offered
                breakLoss = Double(row.lost) / Double(max(1, row.sent - row.sentCancelled))
                breakP99Ms = row.p99Us / 1000
                breakClientLagMs = row.clientLagMs
                if row.clientLagMs >= p99BoundMs / 10 {
                    clientFellBehind = true
                    kneeRate = nil
                    kneeTime = nil
                }
                break
            }
        }
    }
}
