import EventReactor

#if canImport(Glibc)
    import Glibc
#endif

/// Figures of one `LogQuery` (or subscription), readable from any thread: how long the longest
/// slice held the loop, how many slices ran, how many records were delivered.
public final class LogQueryCounters: Sendable {
    /// A copy of the figures at one instant.
    public struct Snapshot: Sendable, Equatable {
        /// Slices run on the loop.
        public var slices = 0
        /// The longest single slice: the longest loop stall the scan caused.
        public var maxSlice = Duration.zero
        /// The sum of all slice times.
        public var totalSlice = Duration.zero
        /// Records handed to completions or to a subscriber.
        public var recordsDelivered = 0
        /// Slices that held the loop longer than 1 ms (the target): how rare the long ones are.
        public var slicesOverOneMillisecond = 0
        /// The most CPU time (of the loop thread) one slice used: the slice's own cost, without the
        /// time the thread waited for a core (a wall-clock stall far above it is preemption).
        public var maxSliceCPU = Duration.zero
    }

    private let state = Locked(Snapshot())

    /// Makes zeroed counters.
    public init() {}

    /// The figures now.
    public var snapshot: Snapshot { state.withLock { $0 } }

    /// The calling thread's CPU time in nanoseconds (`CLOCK_THREAD_CPUTIME_ID`).
    static func threadCPUNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Adds one slice of `nanos` (wall) and `cpuNanos` (thread CPU) that delivered `records` records.
    func recordSlice(nanos: UInt64, cpuNanos: UInt64, records: Int) {
        let wall = Duration.nanoseconds(Int64(clamping: nanos))
        let cpu = Duration.nanoseconds(Int64(clamping: cpuNanos))
        state.withLock { s in
            if cpu > s.maxSliceCPU { s.maxSliceCPU = cpu }
            s.slices += 1
            s.totalSlice += wall
            if wall > s.maxSlice { s.maxSlice = wall }
            if nanos > 1_000_000 { s.slicesOverOneMillisecond += 1 }
            s.recordsDelivered += records
        }
    }
}
