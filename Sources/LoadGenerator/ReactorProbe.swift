import Atomics
import EventReactor
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// The reactor's figures compared with SwiftNIO's event loop (docs/performance.md "Targets"),
/// measured the way `tools/nio-peer` measures NIO so that `tools/compare-reactor.sh` can print
/// the ratios from one run: start+cancel of a timer operation on the loop, cancelling one of
/// 1,000,000 outstanding, and RSS per outstanding operation at 1,000,000.
public enum ReactorProbe {
    /// The figures, in nanoseconds and bytes.
    public struct Report: Sendable, Codable {
        /// Median over rounds of (start + cancel + completion) on the loop, per pair.
        public var startCancelPairNanos: Double
        /// Median over rounds of cancelling one random operation of 1,000,000 (completion included).
        public var cancelOneOfMillionNanos: Double
        /// Resident bytes added per outstanding timer operation, 1,000,000 outstanding.
        public var rssBytesPerOperation: Double

        /// `name value` lines, the format tools/compare-reactor.sh reads.
        public var text: String {
            """
            start_cancel_pair_ns \(format1(startCancelPairNanos, 1))
            cancel_one_of_1m_ns \(format1(cancelOneOfMillionNanos, 1))
            rss_bytes_per_op_at_1m \(format1(rssBytesPerOperation, 1))
            """
        }
    }

    /// Runs every probe (RSS first, while the process's heap is still fresh). Blocks.
    public static func run(rounds: Int = 15) throws -> Report {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let done = ManagedAtomic<Int>(0)
        let completion: @Sendable (OperationOutcome<Void>) -> Void = { _ in done.wrappingIncrement(ordering: .relaxed) }
        func waitFor(_ target: Int) { while done.load(ordering: .relaxed) < target { sched_yield() } }

        // RSS per outstanding operation at 1,000,000.
        let million = 1_000_000
        let before = ProcessUsage.residentBytes()
        let handles = reactor.syncOnLoop {
            (0..<million).map { reactor.startTimer(afterNanos: 3_600_000_000_000 + UInt64($0), completion: completion) }
        }
        let rss = Double(ProcessUsage.residentBytes() - before) / Double(million)

        // Cancel one of 1,000,000: random victims, 10,000 a round, on the loop.
        var rng = SplitMix64(seed: 11)
        var order = Array(0..<million)
        order.shuffle(using: &rng)
        var cancelTimes: [Double] = []
        var completed = 0
        for round in 0..<rounds {
            let victims = order[(round * 10_000)..<((round + 1) * 10_000)].map { handles[$0] }
            let start = MonotonicClock.now()
            reactor.syncOnLoop { for handle in victims { handle.cancel() } }
            completed += victims.count
            waitFor(completed)
            cancelTimes.append(Double(MonotonicClock.now() - start) / Double(victims.count))
        }
        reactor.cancelAll()
        waitFor(million)
        completed = million

        // Start + cancel pairs on the loop, 10,000 a round, completions included.
        var pairTimes: [Double] = []
        for _ in 0..<rounds {
            let start = MonotonicClock.now()
            reactor.syncOnLoop {
                for _ in 0..<10_000 { reactor.startTimer(afterNanos: 60_000_000_000, completion: completion).cancel() }
            }
            completed += 10_000
            waitFor(completed)
            pairTimes.append(Double(MonotonicClock.now() - start) / 10_000)
        }
        return Report(startCancelPairNanos: median(pairTimes), cancelOneOfMillionNanos: median(cancelTimes),
                      rssBytesPerOperation: rss)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }
}
