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
        /// The longest single slice in nanoseconds: the longest loop stall the scan caused.
        public var maxSliceNanos: UInt64 = 0
        /// The sum of all slice times in nanoseconds.
        public var totalSliceNanos: UInt64 = 0
        /// Records handed to completions or to a subscriber.
        public var recordsDelivered = 0
        /// Slices that held the loop longer than 1 ms (the target): how rare the long ones are.
        public var slicesOverOneMillisecond = 0
        /// The most CPU time (of the loop thread) one slice used: the slice's own cost, without the
        /// time the thread waited for a core (a wall-clock stall far above it is preemption).
        public var maxSliceCPUNanos: UInt64 = 0
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
        state.withLock { s in
            if cpuNanos > s.maxSliceCPUNanos { s.maxSliceCPUNanos = cpuNanos }
            s.slices += 1
            s.totalSliceNanos &+= nanos
            if nanos > s.maxSliceNanos { s.maxSliceNanos = nanos }
            if nanos > 1_000_000 { s.slicesOverOneMillisecond += 1 }
            s.recordsDelivered += records
        }
    }
}
