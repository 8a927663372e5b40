/// What a reactor's loop counts about its own turns, for its metrics: callbacks per turn, the
/// longest stall (the longest time one turn's callbacks kept the loop from returning to epoll) and
/// the deepest the cross-thread inbox got before the loop took it.
///
/// A turn is the callbacks of one `event_base_loop` pass; it starts when its first callback reads
/// the clock (`Reactor.refreshLoopTime`, which the trampoline does anyway) and ends at the loop's
/// next clock read, so measuring a turn reads the clock no more than the loop did before. Counting
/// costs a few plain stores per callback and per turn: the words live in one block the reactor
/// owns (no exclusivity check, no atomics). Loop-bound: only the loop thread touches the words.
final class LoopTurns {
    /// Buckets of the callbacks-per-turn histogram: bucket i holds [2^(i-1), 2^i) callbacks.
    static let buckets = 33
    // Word layout: the open turn, the figures since the last snapshot, the cumulative figures.
    private static let turnStart = 0, turnCallbacks = 1, maxStall = 2, maxInbox = 3, turns = 4, callbacks = 5,
        histogram = 6, count = 6 + buckets
    private let words = UnsafeMutablePointer<UInt64>.allocate(capacity: LoopTurns.count)

    init() { words.initialize(repeating: 0, count: Self.count) }

    deinit { words.deallocate() }

    /// A callback starts at loop time `now`: the first one opens the turn.
    @inline(__always)
    func callbackStarted(at now: UInt64) {
        if words[Self.turnCallbacks] == 0 { words[Self.turnStart] = now }
        words[Self.turnCallbacks] &+= 1
    }

    /// The loop is back from `event_base_loop` and read the clock (`now`): closes the open turn.
    @inline(__always)
    func turnEnded(at now: UInt64) {
        let callbacks = words[Self.turnCallbacks]
        guard callbacks != 0 else { return }
        let start = words[Self.turnStart]
        stall(now > start ? now &- start : 0)
        words[Self.turns] &+= 1
        words[Self.callbacks] &+= callbacks
        words[Self.histogram + min(64 - callbacks.leadingZeroBitCount, Self.buckets - 1)] &+= 1
        words[Self.turnCallbacks] = 0
    }

    /// Work that ran outside any callback (jobs the loop found on its way to epoll) for `nanos`.
    @inline(__always)
    func stall(_ nanos: UInt64) {
        if nanos > words[Self.maxStall] { words[Self.maxStall] = nanos }
    }

    /// The loop took `depth` jobs from its inbox at once.
    @inline(__always)
    func inboxTaken(_ depth: Int) {
        if UInt64(depth) > words[Self.maxInbox] { words[Self.maxInbox] = UInt64(depth) }
    }

    /// The figures now, for a metrics snapshot.
    var snapshot: Snapshot {
        var callbacksPerTurn = DurationHistogram()
        for bucket in 0..<Self.buckets { callbacksPerTurn.counts[bucket] = Int(words[Self.histogram + bucket]) }
        return Snapshot(
            turns: Int(words[Self.turns]), callbacks: Int(words[Self.callbacks]), callbacksPerTurn: callbacksPerTurn,
            longestStallNanos: words[Self.maxStall], deepestInbox: Int(words[Self.maxInbox]))
    }

    /// Starts the longest stall and the deepest inbox again from zero (a snapshot was published).
    func resetMaxima() {
        words[Self.maxStall] = 0
        words[Self.maxInbox] = 0
    }

    /// A loop's turn figures at one instant.
    struct Snapshot: Sendable {
        /// Turns with at least one callback, since the reactor started.
        var turns: Int
        /// Callbacks run, since the reactor started.
        var callbacks: Int
        /// Callbacks per turn, cumulative, in log2 buckets.
        var callbacksPerTurn: DurationHistogram
        /// The longest turn (or run of jobs outside a callback) since the last snapshot.
        var longestStallNanos: UInt64
        /// The most jobs the loop found in its inbox at once since the last snapshot.
        var deepestInbox: Int
    }
}
