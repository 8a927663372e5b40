import CoreMetrics
import Logging

extension Reactor {
    /// The logger of the reactor's configuration: the engines on this reactor log through it unless
    /// their own configuration names another. Any thread.
    public var logger: Logger { configuration.logger }

    /// The reactor's name (its thread's, and the `reactor` dimension of its metrics). Any thread.
    public var name: String { configuration.name }

    /// The metrics backend of the reactor's configuration, for the engines on it (nil: none). Any thread.
    package var metricsFactory: (any MetricsFactory)? { configuration.metricsFactory }

    /// The reactor's `metricsInterval` in nanoseconds. Any thread.
    package var metricsIntervalNanos: UInt64 { configuration.metricsIntervalNanos }

    /// What the reactor publishes each `metricsInterval`: its counters, how late its metrics timer
    /// fired (a loop stall as a timer sees it), and its turns (callbacks per turn, the longest
    /// stall and the deepest inbox since the last snapshot).
    struct MetricsSnapshot: Sendable {
        var counters: ReactorCounters.Snapshot
        var timerLagNanos: UInt64
        var turns: LoopTurns.Snapshot
    }

    /// Starts the metrics timer when the configuration names a factory. Reactor thread, once.
    func startMetrics() -> LoopTicker? {
        guard let factory = configuration.metricsFactory else { return nil }
        let dimensions = [("reactor", configuration.name)]
        let deltas = CounterDeltas(factory: factory)
        let inFlight = Gauge(label: "evquery_reactor_operations_in_flight", dimensions: dimensions, factory: factory)
        let events = Gauge(label: "evquery_reactor_events", dimensions: dimensions, factory: factory)
        let lag = Timer(label: "evquery_reactor_timer_lag", dimensions: dimensions, factory: factory)
        let stall = Timer(label: "evquery_reactor_longest_stall", dimensions: dimensions, factory: factory)
        let inbox = Gauge(label: "evquery_reactor_inbox_depth", dimensions: dimensions, factory: factory)
        let publisher = MetricsPublisher<MetricsSnapshot>(label: "evquery.metrics.\(configuration.name)") { snapshot in
            let counters = snapshot.counters
            deltas.add(key: 0, label: "evquery_reactor_operations_started", dimensions: dimensions,
                       total: counters.started)
            deltas.add(key: 1, label: "evquery_reactor_operations_completed", dimensions: dimensions,
                       total: counters.completed)
            deltas.add(key: 2, label: "evquery_reactor_cancels", dimensions: dimensions + [("result", "won")],
                       total: counters.cancelsWon)
            deltas.add(key: 3, label: "evquery_reactor_cancels", dimensions: dimensions + [("result", "lost")],
                       total: counters.cancelsLost)
            deltas.add(key: 4, label: "evquery_reactor_operations_rejected", dimensions: dimensions,
                       total: counters.rejected)
            inFlight.record(counters.inFlight)
            events.record(counters.eventsRegistered)
            lag.recordNanoseconds(Int64(clamping: snapshot.timerLagNanos))
            let turns = snapshot.turns
            deltas.add(key: 5, label: "evquery_reactor_turns", dimensions: dimensions, total: turns.turns)
            deltas.add(key: 6, label: "evquery_reactor_callbacks", dimensions: dimensions, total: turns.callbacks)
            deltas.sampleCounts(key: 0, label: "evquery_reactor_callbacks_per_turn", dimensions: dimensions,
                                total: turns.callbacksPerTurn)
            stall.recordNanoseconds(Int64(clamping: turns.longestStallNanos))
            inbox.record(turns.deepestInbox)
        }
        metricsPublisher = publisher
        let interval = configuration.metricsIntervalNanos
        var due = loopTime &+ interval
        return LoopTicker(reactor: self, everyNanos: interval) { [unowned self] in
            let now = loopTime
            let late = now > due ? now - due : 0
            due = now &+ interval
            // The maxima start again only once a snapshot is taken: a skipped one loses no stall.
            if publisher.offer(MetricsSnapshot(counters: counters.snapshot, timerLagNanos: late, turns: turns.snapshot)) {
                turns.resetMaxima()
            }
        }
    }

    /// The last snapshot, published after the loop stopped (nothing is skipped at the end).
    func publishFinalMetrics() {
        (metricsPublisher as? MetricsPublisher<MetricsSnapshot>)?
            .publishFinalLater(MetricsSnapshot(counters: counters.snapshot, timerLagNanos: 0, turns: turns.snapshot))
    }
}
