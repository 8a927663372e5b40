import CoreMetrics
import EventReactor

/// The scan figures of one log query or subscription, for swift-metrics: bytes read and records
/// matched (delivered by `next` and to a subscriber, counted by `count`), by operation kind.
///
/// The loop adds once per slice (never per record) to cumulative totals; at most once per the
/// reactor's `metricsInterval`, and when the query goes idle, a copy goes to a `MetricsPublisher`,
/// whose queue turns it into counter increments. So no metrics call runs on the loop, and a slow
/// backend skips snapshots (they are cumulative: nothing is lost). Made only when the reactor's
/// configuration names a metrics factory; without one a query holds nil and counts nothing.
final class ScanMetrics {
    /// The operation a slice served: the `operation` dimension.
    enum Kind: Int, CaseIterable {
        case next, count, subscribe

        var name: String {
            switch self {
            case .next: "next"
            case .count: "count"
            case .subscribe: "subscribe"
            }
        }
    }

    /// Cumulative totals, indexed by `Kind.rawValue`.
    struct Totals: Sendable {
        var bytesRead = [Int](repeating: 0, count: Kind.allCases.count)
        var records = [Int](repeating: 0, count: Kind.allCases.count)
    }

    private var totals: LoopBound<(current: Totals, dirty: Bool, offeredAt: UInt64)>
    private let publisher: MetricsPublisher<Totals>
    private let reactor: Reactor
    private let interval: UInt64

    /// Scan metrics for a query on `reactor`, or nil when it publishes no metrics. Any thread.
    static func make(on reactor: Reactor) -> ScanMetrics? {
        reactor.metricsFactory.map { ScanMetrics(reactor: reactor, factory: $0) }
    }

    private init(reactor: Reactor, factory: any MetricsFactory) {
        self.reactor = reactor
        interval = reactor.metricsIntervalNanos
        totals = LoopBound((Totals(), false, 0), reactor: reactor)
        let deltas = CounterDeltas(factory: factory)
        let name = reactor.name
        publisher = MetricsPublisher(label: "evquery.metrics.scan.\(name)") { totals in
            for kind in Kind.allCases {
                let dimensions = [("reactor", name), ("operation", kind.name)]
                deltas.add(key: kind.rawValue, label: "evquery_scan_bytes_read", dimensions: dimensions,
                           total: totals.bytesRead[kind.rawValue])
                deltas.add(key: 100 + kind.rawValue, label: "evquery_scan_records_matched", dimensions: dimensions,
                           total: totals.records[kind.rawValue])
            }
        }
    }

    /// One slice's work: `bytes` read, `records` matched. Offers a snapshot when the last one is a
    /// `metricsInterval` old. Loop only.
    func add(_ kind: Kind, bytes: Int, records: Int) {
        guard bytes > 0 || records > 0 else { return }
        totals.value.current.bytesRead[kind.rawValue] += bytes
        totals.value.current.records[kind.rawValue] += records
        totals.value.dirty = true
        let now = reactor.loopTime
        if now &- totals.value.offeredAt >= interval, publisher.offer(totals.value.current) {
            totals.value.offeredAt = now
            totals.value.dirty = false
        }
    }

    /// The query has nothing queued (or the subscription ended): publishes what was not yet, after
    /// whatever is being published. Loop only.
    func idle() {
        guard totals.value.dirty else { return }
        totals.value.dirty = false
        totals.value.offeredAt = reactor.loopTime
        publisher.publishFinalLater(totals.value.current)
    }
}
