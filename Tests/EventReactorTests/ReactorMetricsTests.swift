import Dispatch
import EventReactor
import MetricsTestKit
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The reactor's own figures through swift-metrics: the longest stall, the inbox's depth and the
/// callbacks per loop turn, counted on the loop and published from a snapshot each interval.
@Suite struct ReactorMetricsTests {
    private func reactor(publishingTo metrics: TestMetrics, name: String) throws -> Reactor {
        var configuration = Reactor.Configuration()
        configuration.name = name
        configuration.metricsFactory = metrics
        configuration.metricsInterval = .milliseconds(10)
        return try Reactor(configuration: configuration)
    }

    /// A completion that sleeps 50 ms holds the loop that long: the longest stall published since
    /// is at least 50 ms, under the reactor's name.
    @Test func aCompletionThatSleepsShowsAsAStallAtLeastThatLong() throws {
        let metrics = TestMetrics()
        let reactor = try reactor(publishingTo: metrics, name: "stall-probe")
        defer { reactor.shutdown() }
        withAudit(reactor, operations: 1) { reactor, ledger in
            reactor.startTimer(afterNanos: 0) { _ in
                usleep(50_000)
                ledger.record(0)
            }
            #expect(eventually { ledger.completions(of: 0) == 1 })
            return 1
        }
        let stall = try metrics.expectTimer("evquery_reactor_longest_stall", [("reactor", "stall-probe")])
        #expect(eventually { (stall.values.max() ?? 0) >= 50_000_000 }, "published: \(stall.values.max() ?? 0) ns")
    }

    /// 1,000 starts posted from another thread while the loop is held by a job wait in the inbox:
    /// the depth published is at least 1,000, and every one of them still completes once.
    @Test func inboxDepthRisesWhileSubmissionsWaitForABusyLoop() throws {
        let metrics = TestMetrics()
        let reactor = try reactor(publishingTo: metrics, name: "inbox-probe")
        defer { reactor.shutdown() }
        let count = 1_000
        withAudit(reactor, operations: count) { reactor, ledger in
            let holding = DispatchSemaphore(value: 0)
            let release = DispatchSemaphore(value: 0)
            reactor.execute {
                holding.signal()
                release.wait()
            }
            holding.wait()
            for index in 0..<count {
                reactor.startTimer(afterNanos: 0) { _ in ledger.record(index) }
            }
            release.signal()
            #expect(eventually { (0..<count).allSatisfy { ledger.completions(of: $0) == 1 } })
            return count
        }
        let depth = try metrics.expectGauge("evquery_reactor_inbox_depth", [("reactor", "inbox-probe")])
        #expect(eventually { (depth.values.max() ?? 0) >= Double(count) }, "published: \(depth.values.max() ?? 0)")
    }

    /// A completion that schedules 100 deferred jobs makes a loop turn of at least 100 callbacks:
    /// the callbacks-per-turn histogram holds a value of at least 64 (its log2 bucket), and the
    /// callback counter has them all.
    @Test func aTurnOfManyCallbacksShowsInCallbacksPerTurn() throws {
        let metrics = TestMetrics()
        let reactor = try reactor(publishingTo: metrics, name: "turn-probe")
        defer { reactor.shutdown() }
        let ran = Locked(0)
        withAudit(reactor, operations: 1) { reactor, ledger in
            reactor.startTimer(afterNanos: 0) { _ in
                for _ in 0..<100 {
                    var job: DeferredJob?
                    job = DeferredJob(reactor: reactor) {
                        ran.withLock { $0 += 1 }
                        job?.free()
                        job = nil
                    }
                    job?.schedule()
                }
                ledger.record(0)
            }
            #expect(eventually { ledger.completions(of: 0) == 1 && ran.withLock { $0 } == 100 })
            return 1
        }
        let dimensions = [("reactor", "turn-probe")]
        // Made with the first snapshot that holds a turn.
        #expect(eventually { (try? metrics.expectRecorder("evquery_reactor_callbacks_per_turn", dimensions)) != nil })
        let perTurn = try metrics.expectRecorder("evquery_reactor_callbacks_per_turn", dimensions)
        #expect(eventually { (perTurn.values.max() ?? 0) >= 64 }, "published: \(perTurn.values.max() ?? 0)")
        #expect(eventually { metrics.counterTotal(label: "evquery_reactor_callbacks", dimensions: dimensions) >= 100 })
        #expect(metrics.counterTotal(label: "evquery_reactor_turns", dimensions: dimensions) >= 1)
    }
}
