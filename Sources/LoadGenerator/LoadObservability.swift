import CoreMetrics
import Dispatch
import EventReactor
import Logging
import Prometheus

#if canImport(Glibc)
import Glibc
#endif

/// `EVQ_OBSERVE=1`: `evq load` with swift-metrics and swift-log wired into its reactors and
/// engines — a Prometheus registry (swift-prometheus) that a thread scrapes every second, as a
/// Prometheus server would, and a logger at `.notice` on stderr — so that the cost of
/// observability is measured on the same run as without it (docs/performance.md).
final class LoadObservability: Sendable {
    let registry = PrometheusCollectorRegistry()
    let factory: PrometheusMetricsFactory
    let logger: Logger
    private let running = Locked(true)
    private let scrapedBytes = Locked(0)

    /// nil unless the environment says `EVQ_OBSERVE=1`.
    static func fromEnvironment() -> LoadObservability? {
        guard let value = getenv("EVQ_OBSERVE"), String(cString: value) == "1" else { return nil }
        return LoadObservability()
    }

    private init() {
        factory = PrometheusMetricsFactory(registry: registry)
        var logger = Logger(label: "evq.load") { label in StreamLogHandler.standardError(label: label) }
        logger.logLevel = .notice
        self.logger = logger
        DispatchQueue.global().async { [self] in
            while running.withLock({ $0 }) {
                let text = registry.emitToBuffer()
                scrapedBytes.withLock { $0 += text.count }
                usleep(1_000_000)
            }
        }
    }

    /// Stops the scraping thread (after its current sleep).
    func stop() { running.withLock { $0 = false } }

    /// Wires the metrics and the logger into a reactor's configuration.
    func apply(to configuration: inout Reactor.Configuration) {
        configuration.metricsFactory = factory
        configuration.logger = logger
    }
}
