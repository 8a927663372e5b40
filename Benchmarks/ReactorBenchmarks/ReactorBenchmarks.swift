import Atomics
import Benchmark
import EventReactor
import LinuxSystem
import LoadGenerator

#if canImport(Glibc)
import Glibc
#endif

// Reactor micro-benchmarks (docs/performance.md "Targets"): `swift package benchmark --target ReactorBenchmarks`.
// Latencies are custom metrics in nanoseconds, one sample per iteration, so the table shows their
// percentiles; the physical floor (a raw eventfd + epoll_wait wake between two threads) runs in the
// same process, in the same run.

let latencyNanos = BenchmarkMetric.custom("latency (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let bytesPerOperation = BenchmarkMetric.custom("RSS bytes/op", polarity: .prefersSmaller, useScalingFactor: false)

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds, warmupIterations: 3, maxDuration: .seconds(3), maxIterations: 100_000
    )

    Benchmark(
        "Timer start+complete, 1,000 from another thread",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo)
    ) { benchmark in
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let done = ManagedAtomic<Int>(0)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            reactor.startTimer(afterNanos: 0) { _ in done.wrappingIncrement(ordering: .relaxed) }
        }
        while done.load(ordering: .relaxed) < benchmark.scaledIterations.count { sched_yield() }
        benchmark.stopMeasurement()
    }

    Benchmark(
        "Timer start+cancel pair on the loop, completion included",
        configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal], scalingFactor: .kilo)
    ) { benchmark in
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let done = ManagedAtomic<Int>(0)
        let count = benchmark.scaledIterations.count
        benchmark.startMeasurement()
        reactor.syncOnLoop {
            for _ in 0..<count {
                reactor.startTimer(afterNanos: 60_000_000_000) { _ in done.wrappingIncrement(ordering: .relaxed) }
                    .cancel()
            }
        }
        while done.load(ordering: .relaxed) < count { sched_yield() }
        benchmark.stopMeasurement()
    }

    Benchmark(
        "Cancel latency, cross-thread: cancel() to completion start",
        configuration: .init(metrics: [latencyNanos], maxIterations: 20_000)
    ) { benchmark in
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        for _ in benchmark.scaledIterations {
            // 50 µs: the loop installs the operation and goes back to sleep in epoll first.
            benchmark.measurement(latencyNanos, Int(CancelLatencyProbe.cancelOnce(on: reactor, pauseMicros: 50)))
        }
    }

    Benchmark(
        "Cancel latency, cross-thread, busy-poll 50 µs",
        configuration: .init(metrics: [latencyNanos], maxIterations: 20_000)
    ) { benchmark in
        var configuration = Reactor.Configuration()
        configuration.busyPoll = .microseconds(50)
        let reactor = try Reactor(configuration: configuration)
        defer { reactor.shutdown() }
        for _ in benchmark.scaledIterations {
            benchmark.measurement(latencyNanos, Int(CancelLatencyProbe.cancelOnce(on: reactor, pauseMicros: 20)))
        }
    }

    Benchmark(
        "Floor: raw eventfd write to epoll_wait return on another thread",
        configuration: .init(metrics: [latencyNanos], maxIterations: 20_000)
    ) { benchmark in
        let floor = try RawWakeFloor()
        defer { floor.stop() }
        for _ in benchmark.scaledIterations {
            usleep(50)  // same pacing as the reactor run: the waiter is asleep in epoll_wait
            benchmark.measurement(latencyNanos, Int(floor.wakeOnce()))
        }
    }

    Benchmark(
        "Cancel one of 1,000,000 outstanding timers (on the loop, completion included)",
        configuration: .init(metrics: [.wallClock, .throughput], scalingFactor: .kilo, maxIterations: 20)
    ) { benchmark in
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let done = ManagedAtomic<Int>(0)
        let handles = reactor.syncOnLoop {
            (0..<1_000_000).map { index in
                reactor.startTimer(afterNanos: 60_000_000_000 + UInt64(index) * 997 % 1_000_000_000) { _ in
                    done.wrappingIncrement(ordering: .relaxed)
                }
            }
        }
        let count = benchmark.scaledIterations.count
        let victims = (0..<count).map { handles[($0 &* 7919) % handles.count] }
        benchmark.startMeasurement()
        reactor.syncOnLoop { for handle in victims { handle.cancel() } }
        while done.load(ordering: .relaxed) < count { sched_yield() }
        benchmark.stopMeasurement()
    }

    Benchmark(
        "RSS per outstanding timer operation at 1,000,000",
        // One cold iteration: a warm-up would leave freed memory resident and hide the cost.
        configuration: .init(metrics: [bytesPerOperation], warmupIterations: 0, maxIterations: 1)
    ) { benchmark in
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let done = ManagedAtomic<Int>(0)
        let count = 1_000_000
        let completion: @Sendable (OperationOutcome<Void>) -> Void = { _ in done.wrappingIncrement(ordering: .relaxed) }
        let before = ProcessUsage.residentBytes()
        reactor.syncOnLoop {
            for index in 0..<count { reactor.startTimer(afterNanos: 60_000_000_000 + UInt64(index), completion: completion) }
        }
        let after = ProcessUsage.residentBytes()
        benchmark.measurement(bytesPerOperation, (after - before) / count)
        reactor.cancelAll()
        while done.load(ordering: .relaxed) < count { sched_yield() }
    }
}
