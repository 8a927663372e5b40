import EventReactor
import Histogram
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// How one load query ended, as the report counts it. Every reply also counts under its response
/// code (`LoadReport.rcodes`); these are the categories a person reads first.
public enum LoadOutcome: String, CaseIterable, Sendable, Codable {
    /// NOERROR with at least one answer record.
    case answered
    /// NOERROR with no answer record: the name exists, the type does not.
    case nodata
    case nxdomain, servfail, refused
    /// A reply with another response code (FORMERR, NOTIMP, YXDOMAIN, …: see the rcodes).
    case otherRcode = "other_rcode"
    case timeout, cancelled, malformed
    case networkError = "network_error"
    case limitReached = "limit_reached"
    case error

    /// The outcome's position in `allCases` (the tallies' index), without searching.
    var index: Int {
        switch self {
        case .answered: 0
        case .nodata: 1
        case .nxdomain: 2
        case .servfail: 3
        case .refused: 4
        case .otherRcode: 5
        case .timeout: 6
        case .cancelled: 7
        case .malformed: 8
        case .networkError: 9
        case .limitReached: 10
        case .error: 11
        }
    }

    /// Whether the outcome is a reply from the server, whatever its code.
    var isReply: Bool { index <= 5 }

    /// The category of a reply with `rcode` (12 bits) and `answers` answer records.
    init(rcode: UInt16, answers: Int) {
        switch rcode {
        case 0: self = answers > 0 ? .answered : .nodata
        case 2: self = .servfail
        case 3: self = .nxdomain
        case 5: self = .refused
        default: self = .otherRcode
        }
    }
}

/// What kind of operation a cancel ended (the measure is reported per kind).
public enum LoadKind: Sendable {
    case dns, scan
}

/// Collects a load run's measures. One shard per reactor (or per engine thread): a shard is
/// written by its own thread and read by the reporter once an interval, under a lock that is
/// uncontended in between, so there is no shared lock on the hot path.
public final class LoadRecorder: Sendable {
    /// The response codes counted one by one (12 bits with EDNS); a code the recorder is not told
    /// (another engine's reply) is not counted here.
    static let rcodeCount = 4096

    /// What became of the queries whose (intended) send time fell in one interval: the knee is read
    /// from these, since a lost query's timeout lands intervals after its send.
    struct SendSlot {
        var completed = 0
        var timeouts = 0
        var cancelled = 0
        /// The open loop's pacer: how late it was, summed over its rounds of sends in this interval,
        /// and how many rounds (their mean is the client's own lag: a client falling behind lags
        /// more and more, where a stall of the machine is one late round).
        var lagNanos: UInt64 = 0
        var lagRounds = 0
    }

    /// One thread's share of the measures.
    public final class Shard: Sendable {
        struct Tallies {
            /// Query latency of the intervals closed so far (`tick` folds `interval` into it).
            var query = makeLatencyHistogram()
            /// Query latency since the last `tick`: the one histogram a query is recorded in.
            var interval = makeLatencyHistogram()
            var cancelLoop = makeLatencyHistogram()
            var cancelThread = makeLatencyHistogram()
            var scanCancelLoop = makeLatencyHistogram()
            var scanCancelThread = makeLatencyHistogram()
            /// Outcomes of the intervals closed so far (`tick` folds `intervalOutcomes` into it).
            var outcomes = [Int](repeating: 0, count: LoadOutcome.allCases.count)
            /// Outcomes since the last `tick`: the one tally a query is counted in.
            var intervalOutcomes = [Int](repeating: 0, count: LoadOutcome.allCases.count)
            /// Replies by response code, of the intervals closed so far and since the last `tick`.
            var rcodes = [Int](repeating: 0, count: LoadRecorder.rcodeCount)
            var intervalRcodes = [Int](repeating: 0, count: LoadRecorder.rcodeCount)
            /// By send interval (see `SendSlot`).
            var sendSlots: [SendSlot] = []
            /// When the latest answer (any reply but a server failure) was recorded, monotonic nanoseconds.
            var lastAnswerAt: UInt64 = 0
            /// Queries recorded, whatever their outcome.
            var completed = 0

            mutating func slot(_ index: Int) -> Int {
                if index >= sendSlots.count { sendSlots.append(contentsOf: repeatElement(SendSlot(), count: index + 1 - sendSlots.count)) }
                return index
            }
        }

        let tallies = Locked(Tallies())
        private let startedAt: UInt64
        private let intervalNanos: UInt64

        init(startedAt: UInt64, intervalNanos: UInt64) {
            self.startedAt = startedAt
            self.intervalNanos = intervalNanos
        }

        /// The send interval of a query sent (or meant to be sent) at `time`.
        private func sendInterval(_ time: UInt64) -> Int {
            time > startedAt ? Int((time - startedAt) / intervalNanos) : 0
        }

        /// Records one finished query: its latency (ignored for cancelled ones), outcome and, for a
        /// reply, its 12-bit response code (nil when the engine does not read it), at `now` (the
        /// caller's clock reading, when it has one). The query's send time is `now - latencyNanos`.
        public func recordQuery(latencyNanos: UInt64, outcome: LoadOutcome, rcode: UInt16? = nil,
                                at now: UInt64 = MonotonicClock.now()) {
            let index = outcome.index
            let sent = sendInterval(now &- latencyNanos)
            tallies.withLock { tally in
                tally.intervalOutcomes[index] += 1
                tally.completed += 1
                if let rcode { tally.intervalRcodes[Int(rcode & 0x0FFF)] += 1 }
                let slot = tally.slot(sent)
                tally.sendSlots[slot].completed += 1
                switch outcome {
                case .answered, .nodata, .nxdomain, .otherRcode:
                    tally.lastAnswerAt = now
                    _ = tally.interval.record(max(1, latencyNanos))
                case .servfail, .refused:
                    _ = tally.interval.record(max(1, latencyNanos))
                case .cancelled:
                    tally.sendSlots[slot].cancelled += 1
                case .timeout:
                    tally.sendSlots[slot].timeouts += 1
                default:
                    break
                }
            }
        }

        /// Records that the open loop's pacer started a round of sends `lagNanos` after the first
        /// one's intended time `intended`.
        func recordLag(_ lagNanos: UInt64, intended: UInt64) {
            let sent = sendInterval(intended)
            tallies.withLock { tally in
                let slot = tally.slot(sent)
                tally.sendSlots[slot].lagNanos &+= lagNanos
                tally.sendSlots[slot].lagRounds += 1
            }
        }

        /// Records one cancel's latency (cancel() → completion start) by origin and kind.
        public func recordCancel(latencyNanos: UInt64, origin: CancelOrigin, kind: LoadKind) {
            tallies.withLock { tally in
                switch (origin, kind) {
                case (.loop, .dns): _ = tally.cancelLoop.record(max(1, latencyNanos))
                case (.thread, .dns): _ = tally.cancelThread.record(max(1, latencyNanos))
                case (.loop, .scan): _ = tally.scanCancelLoop.record(max(1, latencyNanos))
                case (.thread, .scan): _ = tally.scanCancelThread.record(max(1, latencyNanos))
                }
            }
        }
    }

    /// The shards, one per recording thread.
    public let shards: [Shard]
    private let timeline = Locked<[LoadReport.Interval]>([])
    private let intervalLog: Locked<HistogramLogWriter>
    /// When the recorder was made (the run's start), monotonic nanoseconds.
    let startedAt: UInt64
    /// The length of an interval (the live line, the JSON `intervals`, the CSV rows).
    public let intervalNanos: UInt64

    /// A recorder with `shards` shards and intervals of `interval` (at least 1 ms); the interval
    /// log starts now.
    public init(shards: Int, epochSeconds: Double, interval: Duration = .seconds(1)) {
        assert(LoadOutcome.allCases.enumerated().allSatisfy { $0.offset == $0.element.index }, "LoadOutcome.index")
        intervalNanos = max(1_000_000, interval.clampedNanoseconds)
        let startedAt = MonotonicClock.now()
        self.startedAt = startedAt
        self.shards = (0..<max(1, shards)).map { [intervalNanos] _ in
            Shard(startedAt: startedAt, intervalNanos: intervalNanos)
        }
        intervalLog = Locked(HistogramLogWriter(startTime: epochSeconds, comment: "[evq load: query latency, ns]"))
    }

    /// Closes one interval (the reporter calls it once an interval): appends to the timeline and the
    /// histogram log, and returns the new row. With `final`, an interval shorter than a quarter of
    /// an interval is folded into the previous one instead (a rate over a few ms means nothing).
    @discardableResult
    public func tick(outstanding: Int, final: Bool = false) -> LoadReport.Interval? {
        var merged = makeLatencyHistogram()
        var outcomes = [Int](repeating: 0, count: LoadOutcome.allCases.count)
        var rcodes = [Int](repeating: 0, count: Self.rcodeCount)
        for shard in shards {
            shard.tallies.withLock { tally in
                merged.add(tally.interval)
                tally.query.add(tally.interval)
                tally.interval.reset()
                for index in outcomes.indices {
                    outcomes[index] += tally.intervalOutcomes[index]
                    tally.outcomes[index] += tally.intervalOutcomes[index]
                    tally.intervalOutcomes[index] = 0
                }
                for index in rcodes.indices where tally.intervalRcodes[index] != 0 {
                    rcodes[index] += tally.intervalRcodes[index]
                    tally.rcodes[index] += tally.intervalRcodes[index]
                    tally.intervalRcodes[index] = 0
                }
            }
        }
        let now = Double(MonotonicClock.now() - startedAt) / 1e9
        return timeline.withLock { rows in
            let previous = rows.last?.time ?? 0
            let length = max(0.001, now - previous)
            if final && length < Double(intervalNanos) / 4e9 && !rows.isEmpty {
                rows[rows.count - 1].absorb(outcomes: outcomes, rcodes: rcodes, until: now)
                // The log keeps the tail as an interval of its own: its intervals add up to the report's histogram.
                if merged.totalCount > 0 { intervalLog.withLock { $0.append(merged, start: previous, length: length) } }
                return nil
            }
            var row = LoadReport.Interval(time: now, seconds: length, outcomes: outcomes, rcodes: rcodes,
                                          latency: merged, outstanding: outstanding)
            row.index = rows.count
            rows.append(row)
            intervalLog.withLock { $0.append(merged, start: previous, length: length) }
            return row
        }
    }

    /// Queries recorded so far over every shard (with the number started, the live line's
    /// outstanding count, with no shared counter on the hot path).
    public var completedQueries: Int { shards.reduce(0) { total, shard in total + shard.tallies.withLock { $0.completed } } }

    /// Seconds from the start to the latest answer: the span a rate of answers is taken over, so
    /// that waiting out the timeouts of a few lost queries at the end does not dilute it.
    public var answeringSeconds: Double {
        let last = shards.map { $0.tallies.withLock { $0.lastAnswerAt } }.max() ?? 0
        return last > startedAt ? Double(last - startedAt) / 1e9 : 0
    }

    /// Every interval so far, each with what became of the queries sent in it (`sent`, `lost`,
    /// `clientLagMs`: final once the run has drained).
    public var intervals: [LoadReport.Interval] {
        var slots: [SendSlot] = []
        for shard in shards {
            shard.tallies.withLock { tally in
                if tally.sendSlots.count > slots.count {
                    slots.append(contentsOf: repeatElement(SendSlot(), count: tally.sendSlots.count - slots.count))
                }
                for (index, slot) in tally.sendSlots.enumerated() {
                    slots[index].completed += slot.completed
                    slots[index].timeouts += slot.timeouts
                    slots[index].cancelled += slot.cancelled
                    slots[index].lagNanos &+= slot.lagNanos
                    slots[index].lagRounds += slot.lagRounds
                }
            }
        }
        return timeline.withLock { rows in
            rows.map { row in
                var row = row
                // The last row may have absorbed a short tail: it takes the send slots it spans.
                let first = row.index
                let last = row.index == rows.count - 1 ? slots.count - 1 : row.index
                var lag: UInt64 = 0, rounds = 0
                for index in first...max(first, last) where index < slots.count {
                    row.sent += slots[index].completed
                    row.lost += slots[index].timeouts
                    row.sentCancelled += slots[index].cancelled
                    lag &+= slots[index].lagNanos
                    rounds += slots[index].lagRounds
                }
                row.clientLagMs = rounds > 0 ? Double(lag) / Double(rounds) / 1e6 : 0
                return row
            }
        }
    }

    /// The HdrHistogram interval log so far.
    public var histogramLog: String { intervalLog.withLock { $0.text } }

    /// An empty latency histogram, which `reading` starts from.
    private static let emptyLatency = makeLatencyHistogram()

    /// What the live metrics publish (`LoadMetrics`): the three DNS latency histograms of every
    /// shard added into `latency` (replaced by empty ones first), and the outcome counts by
    /// `LoadOutcome.index` and replies by rcode.
    func reading(into latency: inout (query: Histogram<UInt64>, cancelLoop: Histogram<UInt64>,
                                      cancelThread: Histogram<UInt64>)) -> (outcomes: [Int], rcodes: [Int]) {
        // Copies of an empty histogram, not `reset()`: a copy is one memcpy when the first `add` makes
        // it unique, where `reset()` is the library's generic code, tens of instructions a count.
        latency = (Self.emptyLatency, Self.emptyLatency, Self.emptyLatency)
        var outcomes = [Int](repeating: 0, count: LoadOutcome.allCases.count)
        var rcodes = [Int](repeating: 0, count: Self.rcodeCount)
        for shard in shards {
            shard.tallies.withLock { tally in
                latency.query.add(tally.query)
                latency.query.add(tally.interval)
                latency.cancelLoop.add(tally.cancelLoop)
                latency.cancelThread.add(tally.cancelThread)
                for index in outcomes.indices { outcomes[index] += tally.outcomes[index] + tally.intervalOutcomes[index] }
                for code in rcodes.indices { rcodes[code] += tally.rcodes[code] + tally.intervalRcodes[code] }
            }
        }
        return (outcomes, rcodes)
    }

    /// The shards merged (all of them unless told): query latency, cancel latencies, outcome counts
    /// and replies by rcode.
    public func totals(of selected: [Shard]? = nil) -> (query: Histogram<UInt64>, cancelLoop: Histogram<UInt64>, cancelThread: Histogram<UInt64>,
                             scanCancelLoop: Histogram<UInt64>, scanCancelThread: Histogram<UInt64>,
                             outcomes: [String: Int], rcodes: [UInt16: Int]) {
        var query = makeLatencyHistogram(), loop = makeLatencyHistogram(), thread = makeLatencyHistogram()
        var scanLoop = makeLatencyHistogram(), scanThread = makeLatencyHistogram()
        var outcomes = [Int](repeating: 0, count: LoadOutcome.allCases.count)
        var rcodes: [UInt16: Int] = [:]
        for shard in selected ?? shards {
            shard.tallies.withLock { tally in
                query.add(tally.query)
                query.add(tally.interval)  // what the last tick has not folded in yet
                loop.add(tally.cancelLoop)
                thread.add(tally.cancelThread)
                scanLoop.add(tally.scanCancelLoop)
                scanThread.add(tally.scanCancelThread)
                // With what the last tick has not folded in yet.
                for index in outcomes.indices { outcomes[index] += tally.outcomes[index] + tally.intervalOutcomes[index] }
                for code in tally.rcodes.indices where tally.rcodes[code] + tally.intervalRcodes[code] > 0 {
                    rcodes[UInt16(code), default: 0] += tally.rcodes[code] + tally.intervalRcodes[code]
                }
            }
        }
        let named = Dictionary(uniqueKeysWithValues: zip(LoadOutcome.allCases.map(\.rawValue), outcomes))
        return (query, loop, thread, scanLoop, scanThread, named, rcodes)
    }
}

/// Prints a live line once an interval and ticks the recorder, on a thread of its own, until stopped.
public final class LiveReporter: Sendable {
    private let running = Locked(true)
    private let finished = Locked(false)

    /// Starts reporting: ticks at the recorder's start plus each whole interval; `outstanding` is
    /// read at each tick; lines go to standard error.
    public init(recorder: LoadRecorder, quiet: Bool, outstanding: @escaping @Sendable () -> Int) {
        let running = running, finished = finished
        ThreadTeam.detach {
            var next = recorder.startedAt + recorder.intervalNanos
            while running.withLock({ $0 }) {
                let now = MonotonicClock.now()
                if now < next {
                    usleep(UInt32(min(50_000, (next - now) / 1000)))
                    continue
                }
                next += recorder.intervalNanos
                guard let row = recorder.tick(outstanding: outstanding()) else { continue }
                if !quiet {
                    let line = "  \(pad(format1(row.time, 1), 6)) s \(pad(String(Int(row.qps.rounded())), 10)) q/s"
                        + "   outstanding \(pad(String(row.outstanding), 7))   p99 \(pad(format(row.p99Us), 8)) µs"
                        + "   cancels \(pad(String(row.cancels), 7))   errors \(pad(String(row.errors), 6))\n"
                    writeStandardError(line)
                }
            }
            finished.withLock { $0 = true }
        }
    }

    /// Stops the reporter (after one last tick) and waits for its thread.
    public func stop(recorder: LoadRecorder, outstanding: Int) {
        running.withLock { $0 = false }
        while !finished.withLock({ $0 }) { usleep(1000) }
        recorder.tick(outstanding: outstanding, final: true)
    }
}

/// Writes text to standard error (fd 2) with one `write`.
func writeStandardError(_ text: String) {
    var bytes = Array(text.utf8)
    _ = write(2, &bytes, bytes.count)
}
