import Atomics
import EventReactor
import Histogram
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// Cross-thread cancel latency of an idle reactor beside its physical floor, in the same run:
/// `cancel()` called on this thread until the completion starts on the reactor thread, and a raw
/// `eventfd` write until `epoll_wait` returns on another thread. Samples alternate so that both
/// see the same machine noise.
public enum CancelLatencyProbe {
    /// The two distributions and their ratios.
    public struct Report: Sendable, Codable {
        public var reactor: LatencySummary
        public var floor: LatencySummary
        public var busyPollMicros: UInt64
        public var p50Ratio: Double { reactor.p50 / floor.p50 }
        public var p99Ratio: Double { reactor.p99 / floor.p99 }

        /// The human-readable table.
        public var text: String {
            [
                LatencySummary.header(unit: "µs"),
                reactor.row(label: busyPollMicros > 0 ? "evquery busy-poll" : "evquery cancel"),
                floor.row(label: "raw eventfd wake"),
                "ratio evquery/floor: p50 \(format1(p50Ratio, 2))×  p99 \(format1(p99Ratio, 2))×",
            ].joined(separator: "\n")
        }
    }

    /// Takes `samples` of each, pausing `pauseMicros` before each so both waiters are asleep.
    public static func run(samples: Int, pauseMicros: UInt32 = 50, busyPollMicros: UInt64 = 0) throws -> Report {
        var configuration = Reactor.Configuration()
        configuration.busyPoll = .microseconds(busyPollMicros)
        let reactor = try Reactor(configuration: configuration)
        defer { reactor.shutdown() }
        let floor = try RawWakeFloor()
        defer { floor.stop() }
        var reactorHistogram = makeLatencyHistogram()
        var floorHistogram = makeLatencyHistogram()
        for _ in 0..<samples {
            _ = reactorHistogram.record(cancelOnce(on: reactor, pauseMicros: pauseMicros))
            usleep(pauseMicros)
            _ = floorHistogram.record(floor.wakeOnce())
        }
        return Report(reactor: LatencySummary(nanoseconds: reactorHistogram),
                      floor: LatencySummary(nanoseconds: floorHistogram), busyPollMicros: busyPollMicros)
    }
}

extension CancelLatencyProbe {
    /// One sample: starts a long timer on `reactor`, lets the loop go back to sleep for
    /// `pauseMicros`, cancels it from this thread, and returns the nanoseconds from `cancel()` to
    /// the completion's start. Not from the reactor's thread.
    public static func cancelOnce(on reactor: Reactor, pauseMicros: UInt32) -> UInt64 {
        let latency = ManagedAtomic<UInt64>(0)
        let handle = reactor.startTimer(afterNanos: 60_000_000_000) { outcome in
            if case .cancelled(let info) = outcome {
                latency.store(max(1, MonotonicClock.now() - info.requestedAt), ordering: .releasing)
            }
        }
        usleep(pauseMicros)
        handle.cancel()
        while latency.load(ordering: .acquiring) == 0 { sched_yield() }
        return latency.load(ordering: .relaxed)
    }
}

/// The physical floor of a cross-thread wake-up: a thread blocked in `epoll_wait` on an eventfd,
/// woken by a write from another thread; measured from just before the write to just after the
/// wait returns.
public final class RawWakeFloor: @unchecked Sendable {
    private let eventFD: Int32
    private let readiness: ReadinessSet
    private let sentAt = ManagedAtomic<UInt64>(0)
    private let latency = ManagedAtomic<UInt64>(0)
    private let running = ManagedAtomic<Bool>(true)
    private let done = ManagedAtomic<Bool>(false)

    /// Starts the waiting thread.
    public init() throws(ReactorError) {
        var fd: Int32 = -1
        do {
            fd = try ProcessCalls.eventFD()
            readiness = try ReadinessSet()
            try readiness.watchReadable(fd, token: 0)
        } catch {
            if fd >= 0 { Socket.close(fd) }
            throw ReactorError(.systemCall, errno: error.errno, error.call)
        }
        eventFD = fd
        let floor = self
        ThreadTeam.detach { floor.waitLoop() }
    }

    private func waitLoop() {
        while running.load(ordering: .relaxed) {
            guard readiness.wait(timeoutMillis: 1000, max: 1, { _ in }) == 1 else { continue }
            let now = MonotonicClock.now()
            var value: UInt64 = 0
            _ = read(eventFD, &value, 8)
            latency.store(max(1, now &- sentAt.load(ordering: .acquiring)), ordering: .releasing)
        }
        done.store(true, ordering: .releasing)
    }

    /// One wake-up; returns its latency in nanoseconds.
    public func wakeOnce() -> UInt64 {
        latency.store(0, ordering: .relaxed)
        sentAt.store(MonotonicClock.now(), ordering: .releasing)
        var one: UInt64 = 1
        _ = write(eventFD, &one, 8)
        while latency.load(ordering: .acquiring) == 0 { sched_yield() }
        return latency.load(ordering: .relaxed)
    }

    /// Stops the waiting thread and closes the fds.
    public func stop() {
        running.store(false, ordering: .relaxed)
        var one: UInt64 = 1
        _ = write(eventFD, &one, 8)
        while !done.load(ordering: .acquiring) { sched_yield() }
        close(eventFD)
    }
}
