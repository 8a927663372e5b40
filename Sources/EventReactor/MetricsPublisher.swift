import Atomics
import CoreMetrics
import Dispatch

/// A timer that fires every `interval` on a reactor's loop until freed: one persistent libevent
/// event, so it counts once in the reactor's registered events for its whole life (an audit taken
/// while it is re-arming sees no change). Loop-bound: create and free it on the loop.
package final class LoopTicker {
    private let event: LibeventEvent

    /// Starts ticking at once. Reactor thread only.
    package init(reactor: Reactor, everyNanos interval: UInt64, handler: @escaping () -> Void) {
        event = LibeventEvent(reactor: reactor, fd: -1, interest: [], persistent: true) { _, _ in handler() }
        event.arm(timeoutNanos: max(interval, 1_000_000))
    }

    /// Stops it for good (idempotent). Reactor thread only.
    package func free() { event.free() }
}

/// Hands cumulative snapshots, taken on a loop, to swift-metrics on a queue of its own, so that a
/// metrics backend that is slow or blocks never holds the loop: while one snapshot is still being
/// published, a newer one is skipped (and counted in `skipped`) instead of queued. Skipping loses
/// nothing: snapshots are cumulative, and the next one published carries what the skipped one held.
/// Any thread.
package final class MetricsPublisher<Snapshot: Sendable>: Sendable {
    private let queue: DispatchQueue
    private let busy = ManagedAtomic<Bool>(false)
    private let skippedCount = ManagedAtomic<Int>(0)
    private let publish: @Sendable (Snapshot) -> Void

    /// `publish` runs on the publisher's serial queue, one snapshot at a time.
    package init(label: String, publish: @escaping @Sendable (Snapshot) -> Void) {
        queue = DispatchQueue(label: label)
        self.publish = publish
    }

    /// Offers a snapshot: taken unless the previous one is still being published. Never waits.
    @discardableResult
    package func offer(_ snapshot: Snapshot) -> Bool {
        guard busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            skippedCount.wrappingIncrement(ordering: .relaxed)
            return false
        }
        queue.async { [self] in
            publish(snapshot)
            busy.store(false, ordering: .releasing)
        }
        return true
    }

    /// Publishes `snapshot` after whatever is in progress, waiting on a queue rather than skipping:
    /// the last word of an engine that is shutting down. Suspends the task until it is done.
    package func publishFinal(_ snapshot: Snapshot) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async { [self] in
                publish(snapshot)
                continuation.resume()
            }
        }
    }

    /// `publishFinal` without waiting for it (from the loop).
    package func publishFinalLater(_ snapshot: Snapshot) {
        queue.async { [self] in publish(snapshot) }
    }

    /// Snapshots skipped because the backend was still busy with an earlier one.
    package var skipped: Int { skippedCount.load(ordering: .relaxed) }
}

/// Turns a series of cumulative counts into counter increments and timer samples: remembers the
/// last count (or histogram) it saw per key. Used only on a publisher's queue.
package final class CounterDeltas: @unchecked Sendable {
    // Touched only on one MetricsPublisher's serial queue (its `publish` closure).
    private var last: [Int: Int] = [:]
    private var counters: [Int: Counter] = [:]
    private var histograms: [Int: (last: DurationHistogram, timer: Timer)] = [:]
    private var recorders: [Int: (last: DurationHistogram, recorder: Recorder)] = [:]
    private let factory: any MetricsFactory

    package init(factory: any MetricsFactory) { self.factory = factory }

    /// Increments the counter `label`/`dimensions` (made once, under `key`) by what `total` grew.
    package func add(key: Int, label: String, dimensions: [(String, String)], total: Int) {
        let delta = total - (last[key] ?? 0)
        guard delta > 0 else { return }
        last[key] = total
        let counter: Counter
        if let known = counters[key] {
            counter = known
        } else {
            counter = Counter(label: label, dimensions: dimensions, factory: factory)
            counters[key] = counter
        }
        counter.increment(by: delta)
    }

    /// Records into the timer `label`/`dimensions` (made once, under `key`) a sample of what
    /// `total` (a cumulative histogram) gained since the last call.
    package func sample(key: Int, label: String, dimensions: [(String, String)], total: DurationHistogram) {
        let known = histograms[key]
        let timer = known?.timer ?? Timer(label: label, dimensions: dimensions, factory: factory)
        total.since(known?.last ?? DurationHistogram()).recordSample { timer.recordNanoseconds($0) }
        histograms[key] = (total, timer)
    }

    /// Records into the histogram recorder `label`/`dimensions` (made once, under `key`) a sample of
    /// what `total` (a cumulative histogram of counts, not durations) gained since the last call.
    package func sampleCounts(key: Int, label: String, dimensions: [(String, String)], total: DurationHistogram) {
        let known = recorders[key]
        let recorder = known?.recorder ?? Recorder(label: label, dimensions: dimensions, aggregate: true, factory: factory)
        total.since(known?.last ?? DurationHistogram()).recordSample { recorder.record($0) }
        recorders[key] = (total, recorder)
    }
}

/// A log2 histogram of nanosecond durations (bucket i holds [2^(i-1), 2^i)), filled on a loop (one add per value) and handed to a
/// `Timer` off it as a bounded sample: `recordSample` records each bucket's midpoint in proportion
/// to its share, at most `maxSamples` values a call, so that publishing costs the same at any rate.
/// The exact number of values is the matching counter's; the timer's quantiles come from the sample.
package struct DurationHistogram: Sendable {
    package var counts = [Int](repeating: 0, count: 65)

    package init() {}

    /// Adds one duration. Reactor thread of its owner.
    @inline(__always)
    package mutating func add(_ nanos: UInt64) {
        counts[nanos == 0 ? 0 : 64 - nanos.leadingZeroBitCount] += 1
    }

    /// What was added since `earlier` (a copy taken before).
    package func since(_ earlier: DurationHistogram) -> DurationHistogram {
        var delta = DurationHistogram()
        for index in 0..<65 { delta.counts[index] = counts[index] - earlier.counts[index] }
        return delta
    }

    /// Records a proportional sample of at most `maxSamples` values (each non-empty bucket at least
    /// once, as its midpoint) through `record` (a timer's or a recorder's).
    package func recordSample(maxSamples: Int = 256, _ record: (Int64) -> Void) {
        let total = counts.reduce(0, +)
        guard total > 0 else { return }
        for (index, count) in counts.enumerated() where count > 0 {
            let low: Int64 = index == 0 ? 0 : Int64(1) << (index - 1)
            let midpoint = index == 0 ? 0 : low + low / 2
            let samples = total <= maxSamples ? count : max(1, count * maxSamples / total)
            for _ in 0..<samples { record(midpoint) }
        }
    }
}
