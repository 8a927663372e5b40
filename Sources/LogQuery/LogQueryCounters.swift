import EventReactor

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
    }

    private let state = Locked(Snapshot())

    /// Makes zeroed counters.
    public init() {}

    /// The figures now.
    public var snapshot: Snapshot { state.withLock { $0 } }

    /// Adds one slice of `nanos` that delivered `records` records.
    func recordSlice(nanos: UInt64, records: Int) {
        state.withLock { s in
            s.slices += 1
            s.totalSliceNanos &+= nanos
            if nanos > s.maxSliceNanos { s.maxSliceNanos = nanos }
            s.recordsDelivered += records
        }
    }
}
