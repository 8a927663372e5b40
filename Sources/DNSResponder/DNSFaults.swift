import EventReactor

/// The ways the responder misbehaves on purpose, each with a probability (0…1) drawn per query
/// from a generator seeded by `DNSResponder.Configuration.seed` (and the thread's index), so a
/// single-threaded run replays under the same seed. At most one fault that changes the answer
/// applies to a query; drop is decided first, then delay (which combines with the others).
///
/// Every fault applies on every transport, with these exceptions: `truncate`, `wrongSourcePort`
/// and `maxQPS` are UDP's alone (a TC answer over a stream leaves the client no larger transport to
/// retry on, so the TCP a truncated UDP answer sends it to stays whole); `reset` and `split` are
/// the streams' alone; over DoH a duplicate cannot be sent (a stream carries one response),
/// `reset` resets the HTTP/2 stream (`RST_STREAM`) and `split` sends the answer in two DATA frames.
public struct DNSFaults: Sendable, Equatable {
    /// Answer nothing.
    public var drop = 0.0
    /// Answer after a delay drawn from `delay`, for this fraction of queries.
    public var delayed = 0.0
    /// The delay of a delayed answer.
    public var delay = DelayDistribution.fixed(0)
    /// Answer with TC set and no records (the client should ask again over TCP).
    public var truncate = 0.0
    /// Answer SERVFAIL.
    public var servfail = 0.0
    /// Answer with a malformed packet: cut short, a compression pointer that loops, or counts that
    /// promise more records than the packet holds (in turn).
    public var malformed = 0.0
    /// Answer with another transaction id.
    public var wrongID = 0.0
    /// Answer a question other than the one asked (another name).
    public var wrongQuestion = 0.0
    /// Answer twice.
    public var duplicate = 0.0
    /// Answer from another UDP port than the one asked.
    public var wrongSourcePort = 0.0
    /// Streams: send the first half of the answer, then reset the connection (`SO_LINGER` 0).
    public var reset = 0.0
    /// Streams: send the answer in two writes, the second a millisecond after the first.
    public var split = 0.0
    /// Answer at most this many UDP queries per second, over all UDP threads, and drop the rest
    /// unanswered (`faultRateLimited`): a server of known capacity, for finding a knee. Each thread
    /// takes its share, with a burst of 100 ms of it, so a thread the machine stalls briefly does
    /// not drop the queries that waited meanwhile. nil: no limit.
    public var maxQPS: Double?

    /// No faults.
    public init() {}

    /// Whether any fault is on.
    public var any: Bool {
        drop > 0 || delayed > 0 || truncate > 0 || servfail > 0 || malformed > 0 || wrongID > 0 || wrongQuestion > 0
            || duplicate > 0 || wrongSourcePort > 0 || maxQPS != nil || reset > 0 || split > 0
    }
}

/// What one query drew: at most one answer-changing fault, plus drop / delay / duplicate / port.
struct FaultDraw {
    enum Change { case none, truncate, servfail, malformed, wrongID, wrongQuestion }
    var drop = false
    var delayNanos: UInt64?
    var change = Change.none
    var duplicate = false
    var wrongSourcePort = false
    var reset = false
    var split = false

    /// No fault.
    init() {}

    init(_ faults: DNSFaults, using rng: inout SplitMix64) {
        func chance(_ probability: Double) -> Bool {
            probability > 0 && Double(rng.next() >> 11) * 0x1p-53 < probability
        }
        if chance(faults.drop) {
            drop = true
            return
        }
        if chance(faults.delayed) { delayNanos = faults.delay.sample(using: &rng) }
        if chance(faults.truncate) {
            change = .truncate
        } else if chance(faults.servfail) {
            change = .servfail
        } else if chance(faults.malformed) {
            change = .malformed
        } else if chance(faults.wrongID) {
            change = .wrongID
        } else if chance(faults.wrongQuestion) {
            change = .wrongQuestion
        }
        duplicate = chance(faults.duplicate)
        wrongSourcePort = chance(faults.wrongSourcePort)
        reset = chance(faults.reset)
        split = !reset && chance(faults.split)
    }
}
