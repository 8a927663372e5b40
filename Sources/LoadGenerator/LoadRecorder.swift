import EventReactor
import Histogram

#if canImport(Glibc)
import Glibc
#endif

/// How one load query ended, as the report counts it.
public enum LoadOutcome: String, CaseIterable, Sendable, Codable {
    case answered, nxdomain, servfail, refused, timeout, cancelled, malformed
    case networkError = "network_error"
    case limitReached = "limit_reached"
    case error

    /// The outcome's position in `allCases` (the tallies' index), without searching.
    var index: Int {
        switch self {
        case .answered: 0
        case .nxdomain: 1
        case .servfail: 2
        case .refused: 3
        case .timeout: 4
        case .cancelled: 5
        case .malformed: 6
        case .networkError: 7
        case .limitReached: 8
        case .error: 9
        }
    }
}

/// What kind of operation a cancel ended (the measure is reported per kind).
public enum LoadKind: Sendable {
    case dns, scan
}

/// Collects a load run's measures. One shard per reactor (or per engine thread): a shard is
/// written by its own thread and read by the reporter once a second, under a lock that is
/// uncontended in between, so there is no shared lock on the hot path.
public final class LoadRecorder: Sendable {
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
            var outcomes = [Int](repeating: 0, count: LoadOutcome.allCases.count)
            var intervalCompleted = 0
            var intervalCancels = 0
            var intervalErrors = 0
            /// When the latest answer (answered or NXDOMAIN) was recorded, monotonic nanoseconds.
            var lastAnswerAt: UInt64 = 0
            /// Queries recorded, whatever their outcome.
            var completed = 0
        }

        let tallies = Locked(Tallies())

        /// Records one finished query: its latency (ignored for cancelled ones) and outcome, at
        /// `now` (the caller's clock reading, when it has one).
        public func recordQuery(latencyNanos: UInt64, outcome: LoadOutcome, at now: UInt64 = MonotonicClock.now()) {
            let index = outcome.index
            tallies.withLock { tally in
                tally.outcomes[index] += 1
                tally.completed += 1
                switch outcome {
                case .answered, .nxdomain:
                    tally.lastAnswerAt = now
                    _ = tally.interval.record(max(1, latencyNanos))
                    tally.intervalCompleted += 1
                case .cancelled:
                    tally.intervalCancels += 1
                default:
                    tally.intervalErrors += 1
                }
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
    private let timeline = Locked<[LoadReport.Second]>([])
    private let intervalLog: Locked<HistogramLogWriter>
    /// When the recorder was made (the run's start), monotonic nanoseconds.
    let startedAt: UInt64

    /// A recorder with `shards` shards; the interval log starts now.
    public init(shards: Int, epochSeconds: Double) {
        assert(LoadOutcome.allCases.enumerated().allSatisfy { $0.offset == $0.element.index }, "LoadOutcome.index")
        self.shards = (0..<max(1, shards)).map { _ in Shard() }
        intervalLog = Locked(HistogramLogWriter(startTime: epochSeconds, comment: "[evq load: query latency, ns]"))
        startedAt = MonotonicClock.now()
    }

    /// Closes one interval (the reporter calls it once a second): appends to the timeline and the
    /// histogram log, and returns the new point. With `final`, an interval shorter than a quarter
    /// second is folded into the previous one's log line instead (a rate over a few ms means nothing).
    @discardableResult
    public func tick(outstanding: Int, final: Bool = false) -> LoadReport.Second? {
        var merged = makeLatencyHistogram()
        var completed = 0, cancels = 0, errors = 0
        for shard in shards {
            shard.tallies.withLock { tally in
                merged.add(tally.interval)
                tally.query.add(tally.interval)
                tally.interval.reset()
                completed += tally.intervalCompleted
                cancels += tally.intervalCancels
                errors += tally.intervalErrors
                tally.intervalCompleted = 0
                tally.intervalCancels = 0
                tally.intervalErrors = 0
            }
        }
        let now = Double(MonotonicClock.now() - startedAt) / 1e9
        return timeline.withLock { points in
            let previous = points.last.map(\.end) ?? 0
            let length = max(0.001, now - previous)
            if final && length < 0.25 && !points.isEmpty { return nil }
            var point = LoadReport.Second(second: Int(now.rounded()), qps: Double(completed) / length,
                                          p99Us: Double(merged.valueAtPercentile(99)) / 1000, outstanding: outstanding,
                                          cancels: cancels, errors: errors)
            point.end = now
            points.append(point)
            intervalLog.withLock { $0.append(merged, start: previous, length: length) }
            return point
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

    /// Every second so far.
    public var seconds: [LoadReport.Second] { timeline.withLock { $0 } }
    /// The HdrHistogram interval log so far.
    public var histogramLog: String { intervalLog.withLock { $0.text } }

    /// All shards merged: query latency, cancel latencies, and outcome counts.
    public func totals() -> (query: Histogram<UInt64>, cancelLoop: Histogram<UInt64>, cancelThread: Histogram<UInt64>,
                             scanCancelLoop: Histogram<UInt64>, scanCancelThread: Histogram<UInt64>,
                             outcomes: [String: Int]) {
        var query = makeLatencyHistogram(), loop = makeLatencyHistogram(), thread = makeLatencyHistogram()
        var scanLoop = makeLatencyHistogram(), scanThread = makeLatencyHistogram()
        var outcomes = [Int](repeating: 0, count: LoadOutcome.allCases.count)
        for shard in shards {
            shard.tallies.withLock { tally in
                query.add(tally.query)
                query.add(tally.interval)  // what the last tick has not folded in yet
                loop.add(tally.cancelLoop)
                thread.add(tally.cancelThread)
                scanLoop.add(tally.scanCancelLoop)
                scanThread.add(tally.scanCancelThread)
                for index in outcomes.indices { outcomes[index] += tally.outcomes[index] }
            }
        }
        let named = Dictionary(uniqueKeysWithValues: zip(LoadOutcome.allCases.map(\.rawValue), outcomes))
        return (query, loop, thread, scanLoop, scanThread, named)
    }
}

/// Prints a live line once a second and ticks the recorder, on a thread of its own, until stopped.
public final class LiveReporter: Sendable {
    private let running = Locked(true)
    private let finished = Locked(false)

    /// Starts reporting; `outstanding` is read once a second; lines go to standard error.
    public init(recorder: LoadRecorder, quiet: Bool, outstanding: @escaping @Sendable () -> Int) {
        let running = running, finished = finished
        ThreadTeam.detach {
            var next = MonotonicClock.now() + 1_000_000_000
            while running.withLock({ $0 }) {
                let now = MonotonicClock.now()
                if now < next {
                    usleep(UInt32(min(50_000, (next - now) / 1000)))
                    continue
                }
                next += 1_000_000_000
                guard let point = recorder.tick(outstanding: outstanding()) else { continue }
                if !quiet {
                    let line = "  \(pad(String(point.second), 4)) s \(pad(String(Int(point.qps.rounded())), 10)) q/s"
                        + "   outstanding \(pad(String(point.outstanding), 7))   p99 \(pad(format(point.p99Us), 8)) µs"
                        + "   cancels \(pad(String(point.cancels), 7))   errors \(pad(String(point.errors), 6))\n"
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
