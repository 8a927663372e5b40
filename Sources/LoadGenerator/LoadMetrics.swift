import CoreMetrics
import EventReactor
import Foundation
import Histogram
import LinuxSystem
import class Prometheus.PrometheusCollectorRegistry
import struct Prometheus.PrometheusMetricsFactory

/// A load run's live metrics (`evq load --metrics-listen HOST:PORT`): swift-metrics counters and
/// gauges over a swift-prometheus registry, and the latency histograms, served as Prometheus text at
/// `/metrics` by an `HTTPServer` on a reactor of its own.
///
/// Nothing is recorded per query: a publisher thread reads the recorder's totals every
/// `period` (the shards' tallies, merged as the report merges them) and adds what changed since
/// the last reading, so the load's loops do no work for the metrics and the endpoint lags the run
/// by at most one period. The latency histograms are not swift-prometheus's (one call per sample):
/// each reading turns the recorder's HdrHistograms into Prometheus buckets
/// (`PrometheusLatencyHistogram`), written after the registry's text. A reading and a scrape take
/// the same lock, so a scrape shows one whole reading: its counters and histograms agree. Every
/// metric carries the labels `shard` (when the run is one) and the user's `--label`s.
public final class LoadMetrics: Sendable {
    /// Latency histogram buckets, seconds: 10 µs … 5 s.
    public static let latencyBuckets: [Duration] = [
        .microseconds(10), .microseconds(25), .microseconds(50), .microseconds(100), .microseconds(250),
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
        .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
        .seconds(1), .seconds(2), .seconds(5),
    ]

    /// The registry the metrics live in (what `/metrics` prints).
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let dimensions: [(String, String)]
    private let sent, timeouts, cancels, errors, completed: Counter
    private let outstanding, running, auditOK, auditDouble, auditMissed: Gauge
    /// The histograms' series labels, rendered once: the run's, and with `origin` for the cancels.
    private let seriesLabels: (query: String, cancelLoop: String, cancelThread: String)
    private let responses = Locked<[UInt16: Counter]>([:])
    private let previous = Locked(Reading())
    private let server: Locked<(HTTPServer, Reactor)?> = Locked(nil)
    private let publisher = Locked<(running: Bool, finished: Bool)>((false, true))
    private let threadsCPU = Locked(0.0)

    /// What the publisher last added up and the histograms it published, and the HdrHistograms it
    /// reads into.
    private struct Reading {
        var started = 0
        var outcomes = [Int](repeating: 0, count: LoadOutcome.allCases.count)
        var rcodes = [Int](repeating: 0, count: LoadRecorder.rcodeCount)
        var latency = (query: makeLatencyHistogram(), cancelLoop: makeLatencyHistogram(), cancelThread: makeLatencyHistogram())
        var published = (query: PrometheusLatencyHistogram(), cancelLoop: PrometheusLatencyHistogram(),
                         cancelThread: PrometheusLatencyHistogram())
    }

    /// How often the publisher reads the recorder.
    public let period: Duration

    /// Makes the metrics with the run's shard and labels as dimensions, read from the run every
    /// `period` (at least 1 ms).
    public init(shard: LoadShard?, labels: [String: String], period: Duration = .seconds(1)) {
        self.period = max(period, .milliseconds(1))
        let factory = PrometheusMetricsFactory(registry: registry)
        self.factory = factory
        var dimensions = labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if let shard { dimensions.insert(("shard", shard.description), at: 0) }
        self.dimensions = dimensions
        func counter(_ name: String) -> Counter { Counter(label: name, dimensions: dimensions, factory: factory) }
        func gauge(_ name: String) -> Gauge { Gauge(label: name, dimensions: dimensions, factory: factory) }
        sent = counter("evq_load_queries_sent_total")
        completed = counter("evq_load_queries_completed_total")
        timeouts = counter("evq_load_timeouts_total")
        cancels = counter("evq_load_cancels_total")
        errors = counter("evq_load_errors_total")
        outstanding = gauge("evq_load_outstanding")
        running = gauge("evq_load_running")
        auditOK = gauge("evq_load_audit_ok")
        auditDouble = gauge("evq_load_audit_double_completions")
        auditMissed = gauge("evq_load_audit_missed")
        seriesLabels = (PrometheusLatencyHistogram.render(labels: dimensions),
                        PrometheusLatencyHistogram.render(labels: dimensions + [("origin", "loop")]),
                        PrometheusLatencyHistogram.render(labels: dimensions + [("origin", "thread")]))
        auditOK.record(-1)
    }

    /// The metrics in Prometheus's text exposition format (version 0.0.4), as of the last reading:
    /// the registry's counters and gauges, then the latency histograms. Any thread.
    public var text: [UInt8] {
        previous.withLock { last in
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            buffer.append(contentsOf: "# TYPE evq_load_query_latency_seconds histogram\n".utf8)
            last.published.query.render(name: "evq_load_query_latency_seconds", labels: seriesLabels.query, into: &buffer)
            buffer.append(contentsOf: "# TYPE evq_load_cancel_latency_seconds histogram\n".utf8)
            last.published.cancelLoop.render(name: "evq_load_cancel_latency_seconds", labels: seriesLabels.cancelLoop,
                                             into: &buffer)
            last.published.cancelThread.render(name: "evq_load_cancel_latency_seconds", labels: seriesLabels.cancelThread,
                                               into: &buffer)
            return buffer
        }
    }

    /// Serves `/metrics` on `host:port` from a reactor of its own (port 0: the kernel chooses).
    /// Returns the port.
    /// - Throws: `ReactorError` when the reactor cannot start or the address cannot be bound.
    @discardableResult
    public func listen(host: String, port: UInt16) throws(ReactorError) -> UInt16 {
        var configuration = Reactor.Configuration()
        configuration.name = "evq-metrics"
        let reactor = try Reactor(configuration: configuration)
        do {
            let http = try HTTPServer(reactor: reactor, host: host, port: port) { [self] request in
                guard request.path == "/metrics" else {
                    return .init(status: 404, body: Array("evq load serves /metrics only\n".utf8))
                }
                return .init(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: text)
            }
            server.withLock { $0 = (http, reactor) }
            return http.port
        } catch {
            reactor.shutdown()
            throw error
        }
    }

    /// Stops serving (idempotent).
    public func close() {
        guard let (http, reactor) = server.withLock({ current -> (HTTPServer, Reactor)? in
            defer { current = nil }
            return current
        }) else { return }
        http.close()
        reactor.shutdown()
    }

    /// Publishes `recorder`'s totals every `period` on a thread of its own, until `finish`;
    /// `started` tells how many queries were started so far.
    func startPublishing(recorder: LoadRecorder, started: @escaping @Sendable () -> Int) {
        publisher.withLock { $0 = (true, false) }
        running.record(1)
        let nanos = period.clampedNanoseconds
        ThreadTeam.detach { [self] in
            ProcessCalls.setCurrentThreadName("evq-metrics-pub")
            var next = MonotonicClock.now() + nanos
            while publisher.withLock({ $0.running }) {
                let now = MonotonicClock.now()
                if now < next {
                    usleep(UInt32(min(50_000, (next - now) / 1000)))
                    continue
                }
                next += nanos
                publish(recorder: recorder, started: started())
            }
            publisher.withLock { $0.finished = true }
        }
    }

    /// CPU seconds the metrics' threads (the publisher and the endpoint's reactor) used until the
    /// run finished: the cost of the metrics, apart from the run's own threads. Tick resolution (10 ms).
    public var cpuSeconds: Double { threadsCPU.withLock { $0 } }

    /// Stops the publisher, publishes the final totals and the run's audit.
    func finish(recorder: LoadRecorder, started: Int, audit: ExactlyOnceAudit) {
        let used = ProcessUsage.threadCPUSeconds(namePrefix: "evq-metrics")
        threadsCPU.withLock { $0 = used }
        publisher.withLock { $0.running = false }
        while !publisher.withLock({ $0.finished }) { usleep(1000) }
        publish(recorder: recorder, started: started)
        auditOK.record(audit.ok ? 1 : 0)
        auditDouble.record(audit.doubleCompletions)
        auditMissed.record(audit.missed)
        running.record(0)
    }

    /// Adds what changed since the last reading, and replaces the histograms.
    private func publish(recorder: LoadRecorder, started: Int) {
        previous.withLock { last in
            let (outcomes, rcodes) = recorder.reading(into: &last.latency)
            sent.increment(by: max(0, started - last.started))
            last.started = max(last.started, started)
            var finished = 0, failed = 0
            for outcome in LoadOutcome.allCases {
                let change = outcomes[outcome.index] - last.outcomes[outcome.index]
                finished += change
                switch outcome {
                case .timeout: timeouts.increment(by: change)
                case .cancelled: cancels.increment(by: change)
                case _ where !outcome.isReply: failed += change
                default: break
                }
            }
            completed.increment(by: finished)
            errors.increment(by: failed)
            outstanding.record(max(0, started - outcomes.reduce(0, +)))
            for code in rcodes.indices where rcodes[code] != last.rcodes[code] {
                responseCounter(UInt16(code)).increment(by: rcodes[code] - last.rcodes[code])
            }
            last.outcomes = outcomes
            last.rcodes = rcodes
            last.published = (PrometheusLatencyHistogram(last.latency.query),
                              PrometheusLatencyHistogram(last.latency.cancelLoop),
                              PrometheusLatencyHistogram(last.latency.cancelThread))
        }
    }

    /// The replies counter of one response code (`rcode` label by name, as the report names it).
    private func responseCounter(_ code: UInt16) -> Counter {
        responses.withLock { counters in
            if let counter = counters[code] { return counter }
            let counter = Counter(label: "evq_load_responses_total",
                                  dimensions: dimensions + [("rcode", LoadReport.rcodeName(code))], factory: factory)
            counters[code] = counter
            return counter
        }
    }
}
