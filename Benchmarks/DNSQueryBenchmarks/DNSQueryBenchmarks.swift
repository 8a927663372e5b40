import Benchmark
import DNSMessage
import DNSQuery
import DNSResponder
import EventReactor

#if canImport(Glibc)
import Glibc
#endif

// DNSQuery round trips against the in-process responder (docs/performance.md "Targets": at most one
// allocation per round trip where it can be avoided): `swift package benchmark --target DNSQueryBenchmarks`.
// Each iteration is one round trip; queries are started on the loop (as `evq load` does), 64 outstanding,
// so mallocs/iteration is the engine's cost per query plus the completion closure the caller makes
// (none with `start(_:tag:target:)`, the "tagged" rows).

/// Runs `count` round trips on `reactor`, keeping `window` outstanding, starting every query from
/// the loop; returns when all completed. Each query reports back through a completion closure that
/// captures one class, as a load generator's would, or (`tagged`) to this object under a tag.
final class ClosedLoop: DNSQueryCompletionTarget, @unchecked Sendable {  // loop thread only, then read after `done`.
    let engine: DNSQueryEngine
    let request: DNSQueryRequest
    let total: Int
    let tagged: Bool
    let window = 64
    var started = 0
    var completed = 0
    var failures = 0
    let done = Locked(false)

    init(engine: DNSQueryEngine, request: DNSQueryRequest, total: Int, tagged: Bool) {
        self.engine = engine
        self.request = request
        self.total = total
        self.tagged = tagged
    }

    func fill() {
        while started < total && started - completed < window {
            started += 1
            if tagged {
                engine.start(request, tag: UInt64(started), target: self)
            } else {
                engine.start(request) { [self] outcome in queryCompleted(tag: 0, outcome) }
            }
        }
    }

    func queryCompleted(tag: UInt64, _ outcome: DNSQueryOutcome) {
        completed += 1
        if case .failure = outcome { failures += 1 }
        if completed == total { done.withLock { $0 = true } } else { fill() }
    }
}

func roundTrips(_ benchmark: Benchmark, detail: DNSResultDetail, tagged: Bool = false) throws {
    let responder = try DNSResponder(DNSResponder.Configuration())
    try responder.start()
    defer { responder.stop() }
    let reactor = try Reactor()
    defer { reactor.shutdown() }
    var configuration = DNSQueryEngine.Configuration()
    configuration.servers = [DNSServer(ipv4: 127, 0, 0, 1, port: responder.port)]
    let engine = DNSQueryEngine(reactor: reactor, configuration: configuration)
    var options = DNSQueryOptions()
    options.resultDetail = detail
    let request = try DNSQueryRequest("www.load.evq.test.", type: .a, options: options)
    // Warm the sockets and tables outside the measurement.
    let warm = ClosedLoop(engine: engine, request: request, total: 1_000, tagged: tagged)
    reactor.execute { warm.fill() }
    while !warm.done.withLock({ $0 }) { usleep(1_000) }
    let loop = ClosedLoop(engine: engine, request: request, total: benchmark.scaledIterations.count, tagged: tagged)
    benchmark.startMeasurement()
    reactor.execute { loop.fill() }
    while !loop.done.withLock({ $0 }) { usleep(200) }
    benchmark.stopMeasurement()
    precondition(loop.failures == 0, "\(loop.failures) queries failed")
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds, warmupIterations: 1, scalingFactor: .kilo, maxDuration: .seconds(3),
        maxIterations: 20
    )
    Benchmark("Round trip, summary result (64 outstanding)") { benchmark in
        try roundTrips(benchmark, detail: .summary)
    }
    Benchmark("Round trip, full result (64 outstanding)") { benchmark in
        try roundTrips(benchmark, detail: .full)
    }
    Benchmark("Round trip, summary result, tagged (64 outstanding)") { benchmark in
        try roundTrips(benchmark, detail: .summary, tagged: true)
    }
}
