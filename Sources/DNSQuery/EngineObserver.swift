import CoreMetrics
import DNSMessage
import EventReactor
import Logging

/// What a shard tells its operators: swift-log events and swift-metrics figures.
///
/// The loop only counts: each completion adds one to an outcome slot and one to a latency bucket
/// (`tally`); every `metricsInterval` a loop ticker hands a cumulative snapshot to a
/// `MetricsPublisher`, whose own queue turns it into counter increments, gauges and timer samples.
/// So there is no metrics call per query, and a slow backend skips snapshots instead of holding the
/// loop. The same tick logs what changed that an operator acts on: a server penalised or restored,
/// send and receive errors, UDP segmentation refused. Loop-bound, owned by its shard.
final class EngineObserver {
    /// Completion slots: 0…16 answered by rcode (16: any higher), 17…33 server failures by rcode,
    /// then one per other outcome.
    static let answeredBase = 0, failureBase = 17, timeout = 34, malformed = 35, network = 36, limit = 37,
        cancelled = 38, invalidName = 39, slotCount = 40

    struct Snapshot: Sendable {
        var counters: DNSQueryCounters
        var outcomes: [Int]
        var latency: DurationHistogram
        var cancelLatency: DurationHistogram
        var outstanding: Int
    }

    /// What the loop counts and remembers between ticks.
    private struct LoopState {
        var outcomes = [Int](repeating: 0, count: EngineObserver.slotCount)
        var latency = DurationHistogram()
        var cancelLatency = DurationHistogram()
        var ticker: LoopTicker?
        var logged = DNSQueryCounters()
        var penalised: Set<DNSServer> = []
        var stopped = false

        /// One completion in outcome `slot`, `nanos` after its start (or its cancel).
        @inline(__always)
        mutating func count(_ slot: Int, _ nanos: UInt64, cancel: Bool) {
            outcomes[slot] += 1
            if cancel { cancelLatency.add(nanos) } else { latency.add(nanos) }
        }
    }

    let logger: Logger
    private unowned let shard: EngineShard
    /// Touched only through `LoopBound`'s checked access (unchecked exclusivity: one thread).
    @exclusivity(unchecked) private var loop: LoopBound<LoopState>
    private let publisher: MetricsPublisher<Snapshot>?

    /// Any thread; the ticker starts on the loop.
    init(shard: EngineShard, logger: Logger, factory: (any MetricsFactory)?) {
        self.shard = shard
        self.logger = logger
        loop = LoopBound(LoopState(), reactor: shard.reactor)
        guard let factory else {
            publisher = nil
            return
        }
        let dimensions = [("shard", shard.reactor.name)]
        let deltas = CounterDeltas(factory: factory)
        let outstanding = Gauge(label: "evquery_dns_outstanding", dimensions: dimensions, factory: factory)
        publisher = MetricsPublisher(label: "evquery.metrics.dns.\(shard.reactor.name)") { snapshot in
            EngineObserver.publish(snapshot, dimensions: dimensions, deltas: deltas, outstanding: outstanding)
        }
    }

    /// Whether the shard needs its tick: metrics are on, or the logger takes `.notice` events.
    var needsTick: Bool { publisher != nil || logger.logLevel <= .notice }

    /// Starts the tick. Loop only.
    func start(everyNanos interval: UInt64) {
        guard needsTick, loop.value.ticker == nil, !loop.value.stopped else { return }
        loop.value.ticker = LoopTicker(reactor: shard.reactor, everyNanos: interval) { [unowned self] in tick() }
    }

    /// Stops the tick and publishes the last snapshot (idempotent). On the loop, after it stopped,
    /// or from the deinit of the shard (`onLoop` false: then nothing else reaches the observer).
    func stop(onLoop: Bool) {
        if onLoop {
            stop(&loop.value, freeTicker: true)
        } else {
            stop(&loop.uncheckedValue, freeTicker: false)
        }
    }

    private func stop(_ state: inout LoopState, freeTicker: Bool) {
        guard !state.stopped else { return }
        state.stopped = true
        if freeTicker { state.ticker?.free() }
        state.ticker = nil
        if let publisher { publisher.publishFinalLater(snapshot(state)) }
    }

    /// The publisher's snapshots skipped while the backend was busy.
    var skippedSnapshots: Int { publisher?.skipped ?? 0 }

    private func snapshot(_ state: LoopState) -> Snapshot {
        Snapshot(counters: shard.counters, outcomes: state.outcomes, latency: state.latency,
                 cancelLatency: state.cancelLatency, outstanding: shard.outstanding)
    }

    // MARK: Counting, on the loop

    /// One completion: its outcome slot, and its latency from submission (or, for a cancel, from the
    /// `cancel()` call).
    @inline(__always)
    func tally(_ outcome: DNSQueryOutcome, submittedAt: UInt64, now: UInt64) {
        let slot: Int
        switch outcome {
        case .success(let result):
            slot = Self.answeredBase + Int(min(result.rcode.rawValue, 16))
        case .failure(let error):
            switch error {
            case .serverFailure(let rcode): slot = Self.failureBase + Int(min(rcode.rawValue, 16))
            case .timeout: slot = Self.timeout
            case .malformedReply: slot = Self.malformed
            case .network, .connectionFailed: slot = Self.network
            case .limitReached: slot = Self.limit
            case .invalidName: slot = Self.invalidName
            case .cancelled(let info):
                loop.value.count(Self.cancelled, now > info.requestedAt ? now &- info.requestedAt : 0, cancel: true)
                return
            }
        }
        loop.value.count(slot, now > submittedAt ? now &- submittedAt : 0, cancel: false)
    }

    // MARK: The tick

    private func tick() {
        publisher?.offer(snapshot(loop.value))
        guard logger.logLevel <= .notice else { return }
        logChanges(shard.counters, &loop.value)
    }

    private func logChanges(_ counters: DNSQueryCounters, _ state: inout LoopState) {
        let logged = state.logged
        let shardName = Logger.MetadataValue.string(shard.reactor.name)
        if counters.sendErrors > logged.sendErrors {
            logger.warning("DNS sends failed", metadata: [
                "shard": shardName, "count": "\(counters.sendErrors - logged.sendErrors)",
            ])
        }
        if counters.receiveErrors > logged.receiveErrors {
            logger.warning("DNS receives failed", metadata: [
                "shard": shardName, "count": "\(counters.receiveErrors - logged.receiveErrors)",
                "unreachable": "\(counters.unreachable - logged.unreachable)",
            ])
        }
        if counters.segmentOffloadRefused > logged.segmentOffloadRefused {
            logger.notice("UDP segmentation offload refused: one message per query from now on", metadata: [
                "shard": shardName,
            ])
        }
        state.logged = counters
        let now = shard.reactor.loopTime
        for server in shard.penaltyStates() {
            let isPenalised = server.penaltyUntil > now
            if isPenalised && !state.penalised.contains(server.address) {
                state.penalised.insert(server.address)
                logger.notice("DNS server penalised: an attempt timed out or it was unreachable", metadata: [
                    "shard": shardName, "server": "\(server.address)",
                    "penalty_ms": "\((server.penaltyUntil - now) / 1_000_000)",
                ])
            } else if !isPenalised && state.penalised.contains(server.address) {
                state.penalised.remove(server.address)
                logger.notice("DNS server restored", metadata: ["shard": shardName, "server": "\(server.address)"])
            }
        }
    }

    // MARK: Publishing, on the publisher's queue

    private static let failureNames: [(Int, String, String)] = [
        (timeout, "timeout", "none"), (malformed, "malformed", "none"), (network, "network", "none"),
        (limit, "limit", "none"), (cancelled, "cancelled", "none"), (invalidName, "invalid_name", "none"),
    ]

    private static func publish(
        _ snapshot: Snapshot, dimensions: [(String, String)], deltas: CounterDeltas, outstanding: Gauge
    ) {
        let counters = snapshot.counters
        var completed = 0
        for rcode in 0...16 {
            let name = DNSRcode(rawValue: UInt16(rcode)).description
            for (base, outcome) in [(answeredBase, "answered"), (failureBase, "server_failure")] {
                let total = snapshot.outcomes[base + rcode]
                completed += total
                guard total > 0 else { continue }
                deltas.add(key: 1000 + base + rcode, label: "evquery_dns_queries_completed",
                           dimensions: dimensions + [("outcome", outcome), ("rcode", name)], total: total)
            }
        }
        for (slot, outcome, rcode) in failureNames {
            let total = snapshot.outcomes[slot]
            completed += total
            guard total > 0 else { continue }
            deltas.add(key: 1000 + slot, label: "evquery_dns_queries_completed",
                       dimensions: dimensions + [("outcome", outcome), ("rcode", rcode)], total: total)
        }
        deltas.add(key: 1, label: "evquery_dns_queries_started", dimensions: dimensions,
                   total: completed + snapshot.outstanding)
        deltas.add(key: 2, label: "evquery_dns_retransmits", dimensions: dimensions, total: counters.retransmits)
        deltas.add(key: 3, label: "evquery_dns_tcp_fallbacks", dimensions: dimensions, total: counters.tcpFallbacks)
        deltas.add(key: 4, label: "evquery_dns_send_errors", dimensions: dimensions, total: counters.sendErrors)
        let dropped = [
            ("wrong_id", counters.droppedWrongID), ("wrong_question", counters.droppedWrongQuestion),
            ("wrong_opcode", counters.droppedWrongOpcode), ("malformed", counters.droppedMalformed),
            ("late", counters.droppedLate), ("duplicate", counters.droppedDuplicate),
        ]
        for (index, (reason, total)) in dropped.enumerated() {
            deltas.add(key: 10 + index, label: "evquery_dns_replies_dropped",
                       dimensions: dimensions + [("reason", reason)], total: total)
        }
        outstanding.record(snapshot.outstanding)
        deltas.sample(key: 1, label: "evquery_dns_latency", dimensions: dimensions, total: snapshot.latency)
        deltas.sample(key: 2, label: "evquery_dns_cancel_latency", dimensions: dimensions, total: snapshot.cancelLatency)
    }
}
