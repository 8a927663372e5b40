import CoreMetrics
import Logging

extension Reactor {
    /// The logger of the reactor's configuration: the engines on this reactor log through it unless
    /// their own configuration names another. Any thread.
    public var logger: Logger { configuration.logger }

    /// The reactor's name (its thread's, and the `reactor` dimension of its metrics). Any thread.
    public var name: String { configuration.name }

    /// What the reactor publishes each `metricsInterval`: its counters, and how late its metrics
    /// timer fired (a loop stall as a timer sees it).
    struct MetricsSnapshot: Sendable {
        var counters: ReactorCounters.Snapshot
        var timerLagNanos: UInt64
    }

    /// Starts the metrics timer when the configuration names a factory. Reactor thread, once.
    func startMetrics() -> LoopTicker? {
        guard let factory = configuration.metricsFactory else { return nil }
        let dimensions = [("reactor", configuration.name)]
        let deltas = CounterDeltas(factory: factory)
        let inFlight = Gauge(label: "evquery_reactor_operations_in_flight", dimensions: dimensions, factory: factory)
        let events = Gauge(label: "evquery_reactor_events", dimensions: dimensions, factory: factory)
        let lag = Timer(label: "evquery_reactor_timer_lag", dimensions: dimensions, factory: factory)
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
        }
        metricsPublisher = publisher
        let interval = configuration.metricsIntervalNanos
        var due = loopTime &+ interval
        return LoopTicker(reactor: self, everyNanos: interval) { [unowned self] in
            let now = loopTime
            let late = now > due ? now - due : 0
            due = now &+ interval
            publisher.offer(MetricsSnapshot(counters: counters.snapshot, timerLagNanos: late))
        }
    }

    /// The last snapshot, published after the loop stopped (nothing is skipped at the end).
    func publishFinalMetrics() {
        (metricsPublisher as? MetricsPublisher<MetricsSnapshot>)?
            .publishFinalLater(MetricsSnapshot(counters: counters.snapshot, timerLagNanos: 0))
    }
}
