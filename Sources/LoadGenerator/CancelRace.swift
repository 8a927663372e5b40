import Atomics
import EventReactor
import Histogram

#if canImport(Glibc)
import Glibc
#endif

/// The cancel-race stress run behind `evq race` (docs/design.md "The command line"): several threads
/// start operations whose completions race real events — timers firing at random short delays and
/// UDP datagrams arriving on 127.0.0.1 — while other threads, and completions on the loop itself,
/// cancel them at random moments. Ends with the exactly-once audit.
public struct CancelRaceConfiguration: Sendable {
    /// Threads in all: half start operations (at least one), the rest cancel them and send datagrams.
    public var threads = 4
    /// How many operations to start (an upper bound; `durationSeconds` may stop it sooner).
    public var operations = 200_000
    /// The longest the starting phase may last, in seconds.
    public var durationSeconds = 10.0
    /// The seed of every random choice.
    public var seed: UInt64 = 1
    /// How many reactors (loop threads) the operations are spread over.
    public var reactors = 2
    /// UDP socket pairs on 127.0.0.1 that socket operations wait on.
    public var socketPairs = 128
    /// The fraction of operations that wait for a datagram instead of a timer.
    public var socketShare = 0.25
    /// The fraction of completions that cancel another operation from the loop thread.
    public var loopCancelShare = 0.05
    /// The most operations in flight at once (a closed loop: starters wait for completions), so
    /// the loops are raced, not buried under an ever-growing inbox.
    public var maxOutstanding = 8192

    /// The defaults: 4 threads, 200,000 operations, 2 reactors, seed 1.
    public init() {}
}

/// What a race run measured.
public struct CancelRaceReport: Sendable, Codable {
    public var threads: Int
    public var reactors: Int
    public var seed: UInt64
    public var seconds: Double
    public var started: Int
    public var operationsPerSecond: Double
    /// Completions by outcome: `timer_fired`, `socket_ready`, `socket_timed_out`, `cancelled_thread`,
    /// `cancelled_loop`, `failed`.
    public var outcomes: [String: Int]
    public var cancelsWon: Int
    public var cancelsLost: Int
    public var cancelLatencyLoop: LatencySummary
    public var cancelLatencyThread: LatencySummary
    public var audit: ExactlyOnceAudit

    /// The human-readable report.
    public var text: String {
        var lines: [String] = []
        lines.append("evq race: \(started) operations on \(reactors) reactors, \(threads) threads, seed \(seed), "
            + "\(format1(seconds, 2)) s")
        lines.append("  throughput      \(Int(operationsPerSecond.rounded())) operations/s")
        lines.append("  outcomes        " + outcomes.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            .joined(separator: " "))
        lines.append("  cancels         won=\(cancelsWon) lost=\(cancelsLost)")
        lines.append("  " + LatencySummary.header(unit: "µs"))
        lines.append("  " + cancelLatencyLoop.row(label: "cancel from loop"))
        lines.append("  " + cancelLatencyThread.row(label: "cancel from thread"))
        lines.append("  audit           \(audit)")
        return lines.joined(separator: "\n")
    }
}

/// Runs the cancel race.
public enum CancelRace {
    /// Runs one race with `configuration` and returns its report. Blocks the calling thread.
    /// - Throws: `ReactorError` if the reactors or sockets cannot be set up.
    public static func run(_ configuration: CancelRaceConfiguration) throws -> CancelRaceReport {
        let group = try ReactorGroup(count: configuration.reactors)
        defer { group.shutdown() }
        let sockets = try SocketPairPool(count: configuration.socketPairs)
        let state = RaceState(configuration: configuration, sockets: sockets)
        let baseline = group.auditBaseline()
        let begin = MonotonicClock.now()
        let starters = max(1, configuration.threads / 2)
        let cancellers = max(1, configuration.threads - starters)
        ThreadTeam.run(starters + cancellers) { worker in
            var rng = SplitMix64(seed: configuration.seed &+ UInt64(worker) &* 0x9E37_79B9)
            if worker < starters {
                state.startOperations(on: group, rng: &rng, until: begin &+ UInt64(configuration.durationSeconds * 1e9))
            } else {
                state.cancelAndFire(rng: &rng)
            }
        }
        let startedCount = state.started
        let audit = group.audit(since: baseline, ledger: state.ledger, started: startedCount)
        let seconds = Double(MonotonicClock.now() - begin) / 1e9
        let counters = group.totalCounters
        return CancelRaceReport(
            threads: starters + cancellers, reactors: configuration.reactors, seed: configuration.seed,
            seconds: seconds, started: startedCount, operationsPerSecond: Double(startedCount) / seconds,
            outcomes: state.outcomeCounts(), cancelsWon: counters.cancelsWon - baseline.counters.cancelsWon,
            cancelsLost: counters.cancelsLost - baseline.counters.cancelsLost,
            cancelLatencyLoop: LatencySummary(nanoseconds: state.latency(.loop)),
            cancelLatencyThread: LatencySummary(nanoseconds: state.latency(.thread)),
            audit: audit)
    }
}

/// Shared state of one race: who started what, the recent handles cancellers aim at, tallies.
private final class RaceState: Sendable {
    enum Outcome: Int, CaseIterable {
        case timerFired, socketReady, socketTimedOut, cancelledThread, cancelledLoop, failed
        var name: String {
            ["timer_fired", "socket_ready", "socket_timed_out", "cancelled_thread", "cancelled_loop", "failed"][rawValue]
        }
    }

    let configuration: CancelRaceConfiguration
    let sockets: SocketPairPool
    let ledger: CompletionLedger
    private let nextIndex = ManagedAtomic<Int>(0)
    private let outstanding = ManagedAtomic<Int>(0)
    private let startersDone = ManagedAtomic<Bool>(false)
    private let recent: Locked<[OperationHandle?]>
    private let tallies: [ManagedAtomic<Int>]
    private let loopLatency = Locked(makeLatencyHistogram())
    private let threadLatency = Locked(makeLatencyHistogram())
    private static let ringSize = 4096

    init(configuration: CancelRaceConfiguration, sockets: SocketPairPool) {
        self.configuration = configuration
        self.sockets = sockets
        ledger = CompletionLedger(capacity: configuration.operations)
        recent = Locked(Array(repeating: nil, count: Self.ringSize))
        tallies = Outcome.allCases.map { _ in ManagedAtomic<Int>(0) }
    }

    var started: Int { min(nextIndex.load(ordering: .relaxed), configuration.operations) }

    func startOperations(on group: ReactorGroup, rng: inout SplitMix64, until deadline: UInt64) {
        while true {
            let index = nextIndex.loadThenWrappingIncrement(ordering: .relaxed)
            guard index < configuration.operations, MonotonicClock.now() < deadline else { break }
            while outstanding.load(ordering: .relaxed) >= configuration.maxOutstanding { sched_yield() }
            outstanding.wrappingIncrement(ordering: .relaxed)
            let reactor = group.next()
            let handle: OperationHandle
            if Double.random(in: 0..<1, using: &rng) < configuration.socketShare, let pair = sockets.acquire() {
                let timeout = UInt64.random(in: 1_000_000...20_000_000, using: &rng)
                handle = reactor.startReadinessWait(fd: sockets.receiver(pair), timeoutNanos: timeout) { outcome in
                    self.sockets.release(pair)
                    self.completed(index, socket: true, outcome.map { _ in () })
                }
            } else {
                // Mostly short timers that race the cancels; a fifth long enough that cancels win.
                let delay = Double.random(in: 0..<1, using: &rng) < 0.8
                    ? UInt64.random(in: 0...2_000_000, using: &rng) : UInt64.random(in: 50_000_000...500_000_000, using: &rng)
                handle = reactor.startTimer(afterNanos: delay) { outcome in self.completed(index, socket: false, outcome) }
            }
            recent.withLock { $0[index % Self.ringSize] = handle }
        }
        startersDone.store(true, ordering: .relaxed)
    }

    func cancelAndFire(rng: inout SplitMix64) {
        while !startersDone.load(ordering: .relaxed) {
            if Double.random(in: 0..<1, using: &rng) < 0.2 {
                sockets.fire(Int.random(in: 0..<sockets.count, using: &rng))
            } else {
                let slot = Int.random(in: 0..<Self.ringSize, using: &rng)
                recent.withLock { $0[slot] }?.cancel()
            }
            // Leave the cores to the loops now and then: on a machine with fewer cores than
            // threads, unpaced cancellers would measure the scheduler, not the reactor.
            usleep(UInt32.random(in: 0...40, using: &rng))
        }
    }

    private func completed(_ index: Int, socket: Bool, _ outcome: OperationOutcome<Void>) {
        let now = MonotonicClock.now()
        ledger.record(index)
        outstanding.wrappingDecrement(ordering: .relaxed)
        let kind: Outcome
        switch outcome {
        case .completed:
            kind = socket ? .socketReady : .timerFired
        case .cancelled(let info):
            kind = info.origin == .loop ? .cancelledLoop : .cancelledThread
            let latency = now &- info.requestedAt
            if info.origin == .loop {
                _ = loopLatency.withLock { $0.record(latency) }
            } else {
                _ = threadLatency.withLock { $0.record(latency) }
            }
        case .failed(let error):
            kind = error.code == .timedOut ? .socketTimedOut : .failed
        }
        tallies[kind.rawValue].wrappingIncrement(ordering: .relaxed)
        // Some completions cancel another operation from the loop thread.
        var rng = SplitMix64(seed: UInt64(index) &* 0xD1B5_4A32_D192_ED03 &+ configuration.seed)
        if Double.random(in: 0..<1, using: &rng) < configuration.loopCancelShare {
            recent.withLock { $0[Int.random(in: 0..<Self.ringSize, using: &rng)] }?.cancel()
        }
    }

    func outcomeCounts() -> [String: Int] {
        Dictionary(uniqueKeysWithValues: Outcome.allCases.map { ($0.name, tallies[$0.rawValue].load(ordering: .relaxed)) })
    }

    func latency(_ origin: CancelOrigin) -> Histogram<UInt64> {
        origin == .loop ? loopLatency.withLock { $0 } : threadLatency.withLock { $0 }
    }
}

extension OperationOutcome {
    /// The same outcome with its success value transformed.
    func map<T: Sendable>(_ transform: (Success) -> T) -> OperationOutcome<T> {
        switch self {
        case .completed(let value): .completed(transform(value))
        case .cancelled(let info): .cancelled(info)
        case .failed(let error): .failed(error)
        }
    }
}

/// Pairs of UDP sockets on 127.0.0.1 (a bound receiver and a sender connected to it): real
/// readiness for socket operations to wait on.
final class SocketPairPool: Sendable {
    private let receivers: [Int32]
    private let senders: [Int32]
    private let free: Locked<[Int]>
    var count: Int { receivers.count }

    init(count: Int) throws(ReactorError) {
        var receivers: [Int32] = []
        var senders: [Int32] = []
        for _ in 0..<count {
            let receiver = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard receiver >= 0, sender >= 0 else { throw ReactorError(.systemCall, errno: errno, "socket") }
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let ok = withUnsafeMutablePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                    bind(receiver, raw, length) == 0 && getsockname(receiver, raw, &length) == 0
                        && connect(sender, raw, length) == 0
                }
            }
            guard ok else { throw ReactorError(.systemCall, errno: errno, "bind/connect on 127.0.0.1") }
            receivers.append(receiver)
            senders.append(sender)
        }
        self.receivers = receivers
        self.senders = senders
        free = Locked(Array(0..<count))
    }

    deinit { (receivers + senders).forEach { close($0) } }

    func receiver(_ pair: Int) -> Int32 { receivers[pair] }

    /// Takes an idle pair, with any stale datagram drained; nil when all are busy.
    func acquire() -> Int? {
        guard let pair = free.withLock({ $0.popLast() }) else { return nil }
        drain(pair)
        return pair
    }

    func release(_ pair: Int) {
        drain(pair)
        free.withLock { $0.append(pair) }
    }

    /// Sends one datagram to the pair's receiver (a full buffer is fine: it is readable anyway).
    func fire(_ pair: Int) {
        var byte: UInt8 = 1
        _ = send(senders[pair], &byte, 1, Int32(MSG_DONTWAIT))
    }

    private func drain(_ pair: Int) {
        var buffer: UInt8 = 0
        while recv(receivers[pair], &buffer, 1, Int32(MSG_DONTWAIT)) >= 0 {}
    }
}
