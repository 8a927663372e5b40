import Atomics
import DNSQuery
import DNSResponder
import EventReactor
import Foundation
import Histogram
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// The operations `evq race` starts and cancels.
public enum RaceKind: String, CaseIterable, Sendable, Codable, Comparable {
    /// Reactor timers firing at random short delays.
    case timer
    /// Readiness waits on UDP sockets on 127.0.0.1 that other threads send datagrams to.
    case socket
    /// DNS queries against an in-process responder that drops, delays, duplicates and truncates
    /// (truncation sends the query on to TCP).
    case dns
    /// Log-scan jobs (`next`, `count`, `subscribe`) on a file being appended and rotated.
    case scan

    /// Orders the kinds as `allCases` lists them (the report's order).
    public static func < (a: RaceKind, b: RaceKind) -> Bool { a.index < b.index }

    /// The kind's position in `allCases` (the tallies' index), without searching.
    var index: Int {
        switch self {
        case .timer: 0
        case .socket: 1
        case .dns: 2
        case .scan: 3
        }
    }
}

/// The cancel-race stress run behind `evq race` (docs/design.md "The command line"): several threads
/// start operations of the chosen kinds whose completions race real events — timers, datagrams,
/// DNS replies under faults, lines appended to a rotating log — while other threads, and
/// completions on the loops, cancel them (and close scan queries) at random moments. Ends with the
/// exactly-once audit over every kind.
public struct CancelRaceConfiguration: Sendable {
    /// Threads in all: half start operations (at least one), the rest cancel them, send datagrams
    /// and write the log.
    public var threads = 4
    /// How many operations to start across all kinds (an upper bound; `durationSeconds` may stop it
    /// sooner).
    public var operations = 200_000
    /// The longest the starting phase may last, in seconds.
    public var durationSeconds = 10.0
    /// The seed of every random choice.
    public var seed: UInt64 = 1
    /// How many reactors (loop threads) the operations are spread over.
    public var reactors = 2
    /// The kinds of operation to race (default: all).
    public var kinds: Set<RaceKind> = Set(RaceKind.allCases)
    /// UDP socket pairs on 127.0.0.1 that socket operations wait on.
    public var socketPairs = 128
    /// Scan jobs, each with one `LogQuery` or subscription operation pending at a time.
    public var scanJobs = 16
    /// The fraction of completions that cancel another operation from the loop thread.
    public var loopCancelShare = 0.05
    /// The fraction of DNS queries cancelled by their starting thread right after `start`, before
    /// the loop sent them.
    public var cancelBeforeSendShare = 0.02
    /// The faults the DNS responder plays: drops (the query is retransmitted), delays, duplicates
    /// and truncation (the query goes on over TCP).
    public var dnsFaults: DNSFaults = {
        var faults = DNSFaults()
        faults.drop = 0.05
        faults.delayed = 0.10
        faults.delay = .uniform(100_000, 8_000_000)
        faults.duplicate = 0.05
        faults.truncate = 0.05
        return faults
    }()
    /// The most starter-made operations in flight at once (a closed loop: starters wait for
    /// completions), so the loops are raced, not buried under an ever-growing inbox.
    public var maxOutstanding = 8192

    /// The defaults: every kind, 4 threads, 200,000 operations, 2 reactors, seed 1.
    public init() {}
}

/// What a race run measured.
public struct CancelRaceReport: Sendable, Codable {
    public var threads: Int
    public var reactors: Int
    public var seed: UInt64
    public var kinds: [RaceKind]
    public var seconds: Double
    public var started: Int
    public var operationsPerSecond: Double
    /// Operations started, by kind.
    public var startedByKind: [String: Int]
    /// Completions by kind, then outcome: `completed`, `timed_out`, `no_more_items`, `closed`,
    /// `cancelled_thread`, `cancelled_loop`, `failed`.
    public var outcomes: [String: [String: Int]]
    /// What the DNS kind drove the engine through: `sent_udp`, `sent_tcp`, `retransmits`,
    /// `truncated`, `tcp_fallbacks`, `dropped_late`, `dropped_duplicate`, `timeouts`.
    public var dnsPaths: [String: Int]
    /// What the scan kind went through: `records`, `rotations`, `closed_from_thread`, `reopened`.
    public var scanPaths: [String: Int]
    public var cancelsWon: Int
    public var cancelsLost: Int
    /// Cancel latency (request to completion) by `kind/origin`, e.g. `dns/thread`.
    public var cancelLatency: [String: LatencySummary]
    /// Process CPU time over the run, seconds.
    public var userSeconds: Double
    public var systemSeconds: Double
    public var audit: ExactlyOnceAudit
    /// Whether the audit holds (`audit_ok` in the JSON report; the exit status is non-zero if not).
    public var auditOK: Bool

    /// Completions of `kind` with `outcome` (0 when none).
    public func count(_ kind: RaceKind, _ outcome: String) -> Int { outcomes[kind.rawValue]?[outcome] ?? 0 }

    /// The human-readable report.
    public var text: String {
        var lines: [String] = []
        lines.append("evq race: \(started) operations (\(kinds.map(\.rawValue).joined(separator: ","))) on "
            + "\(reactors) reactors, \(threads) threads, seed \(seed), \(format1(seconds, 2)) s")
        lines.append("  throughput      \(Int(operationsPerSecond.rounded())) operations/s, cpu user "
            + "\(format1(userSeconds, 2)) s system \(format1(systemSeconds, 2)) s")
        for kind in kinds {
            let counts = (outcomes[kind.rawValue] ?? [:]).filter { $0.value > 0 }.sorted { $0.key < $1.key }
            lines.append("  " + kind.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0) + "started=\(startedByKind[kind.rawValue] ?? 0) "
                + counts.map { "\($0.key)=\($0.value)" }.joined(separator: " "))
        }
        if !dnsPaths.isEmpty {
            lines.append("  dns paths       " + dnsPaths.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                .joined(separator: " "))
        }
        if !scanPaths.isEmpty {
            lines.append("  scan paths      " + scanPaths.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                .joined(separator: " "))
        }
        lines.append("  cancels         won=\(cancelsWon) lost=\(cancelsLost)")
        lines.append("  " + LatencySummary.header(unit: "µs"))
        for key in cancelLatency.keys.sorted() {
            lines.append("  " + cancelLatency[key]!.row(label: "cancel \(key)"))
        }
        lines.append("  audit           \(audit)")
        return lines.joined(separator: "\n")
    }

    /// The JSON text (snake_case keys), pretty-printed with sorted keys.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// Runs the cancel race.
public enum CancelRace {
    /// Runs one race with `configuration` and returns its report. Blocks the calling thread.
    /// - Throws: `ReactorError` if the reactors or sockets cannot be set up; `DNSResponderError`
    ///   if the responder cannot start; `LogQueryError` if the scan file cannot be made.
    public static func run(_ configuration: CancelRaceConfiguration) throws -> CancelRaceReport {
        var reactorConfiguration = Reactor.Configuration()
        reactorConfiguration.preciseTimers = true
        let group = try ReactorGroup(count: configuration.reactors, configuration: reactorConfiguration)
        defer { group.shutdown() }
        let kinds = configuration.kinds
        let sockets = try SocketPairPool(count: kinds.contains(.socket) ? configuration.socketPairs : 0)
        let dns = try kinds.contains(.dns) ? RaceDNS(group: group, faults: configuration.dnsFaults,
                                                     seed: configuration.seed) : nil
        defer { dns?.stop() }
        let log = try kinds.contains(.scan) ? RaceLog() : nil
        defer { log?.remove() }
        let state = RaceState(configuration: configuration, sockets: sockets, dns: dns)
        let baseline = group.auditBaseline()
        let before = ProcessUsage.now()
        let begin = MonotonicClock.now()
        state.begin(at: begin)
        let jobs = log.map { log in
            (0..<configuration.scanJobs).map { index in
                RaceScanJob(state: state, log: log, reactor: group.reactors[index % group.reactors.count], index: index)
            }
        } ?? []
        state.scanJobs = jobs
        for job in jobs { job.begin() }
        let starters = max(1, configuration.threads / 2)
        let cancellers = max(1, configuration.threads - starters)
        ThreadTeam.run(starters + cancellers) { worker in
            var rng = SplitMix64(seed: configuration.seed &+ UInt64(worker) &* 0x9E37_79B9)
            if worker < starters {
                state.startOperations(on: group, rng: &rng)
            } else {
                state.cancelAndFire(rng: &rng, log: log, writer: worker == starters)
            }
        }
        for job in jobs { job.wrapUp() }
        while jobs.contains(where: { !$0.isFinished }) { usleep(1000) }
        group.waitForAllDrained()
        let dnsCounters = dns?.shutDownEngine()
        let startedCount = state.started
        let audit = group.audit(since: baseline, ledger: state.ledger, started: startedCount)
        let seconds = Double(MonotonicClock.now() - begin) / 1e9
        let after = ProcessUsage.now()
        let counters = group.totalCounters
        return CancelRaceReport(
            threads: starters + cancellers, reactors: configuration.reactors, seed: configuration.seed,
            kinds: kinds.sorted(), seconds: seconds, started: startedCount,
            operationsPerSecond: Double(startedCount) / seconds, startedByKind: state.startedByKind(),
            outcomes: state.outcomeCounts(), dnsPaths: dnsCounters.map(RaceDNS.paths) ?? [:],
            scanPaths: log == nil ? [:] : state.scanPaths(jobs),
            cancelsWon: counters.cancelsWon - baseline.counters.cancelsWon,
            cancelsLost: counters.cancelsLost - baseline.counters.cancelsLost,
            cancelLatency: state.latencies(), userSeconds: after.userSeconds - before.userSeconds,
            systemSeconds: after.systemSeconds - before.systemSeconds, audit: audit, auditOK: audit.ok)
    }
}

/// How an operation of the race ended.
enum RaceOutcome: Int, CaseIterable {
    case completed, timedOut, noMoreItems, closed, cancelledThread, cancelledLoop, failed

    var name: String {
        ["completed", "timed_out", "no_more_items", "closed", "cancelled_thread", "cancelled_loop", "failed"][rawValue]
    }

    init(_ info: CancelInfo) { self = info.origin == .loop ? .cancelledLoop : .cancelledThread }
}

/// Shared state of one race: the numbering, the ledger, the recent handles cancellers aim at, the
/// pacing, tallies.
final class RaceState: @unchecked Sendable {
    let configuration: CancelRaceConfiguration
    let sockets: SocketPairPool
    let dns: RaceDNS?
    let ledger: CompletionLedger
    /// Set once before the jobs begin, read after (the scan jobs that cancellers may close).
    var scanJobs: [RaceScanJob] = []
    private let nextIndex = ManagedAtomic<Int>(0)
    private let over = ManagedAtomic<Bool>(false)
    private let deadline = ManagedAtomic<UInt64>(.max)
    /// The starters' window of operations in flight: a starter waits on it (a futex sleep, not a
    /// spin) and each completion of a starter-made operation signals it.
    private let window: DispatchSemaphore
    /// Cancellers sleep on it; every 16th operation started wakes one for a burst of cancels.
    private let ticks = DispatchSemaphore(value: 0)
    private let recent: Locked<[OperationHandle?]>
    private let tallies: [ManagedAtomic<Int>]
    private let startedPerKind: [ManagedAtomic<Int>]
    /// Closes of scan queries the cancellers may make (scan operations are few beside the rest).
    private let closeCredits = ManagedAtomic<Int>(0)
    private let latency: [Locked<Histogram<UInt64>>]
    private let starterKinds: [RaceKind]
    static let ringSize = 4096
    static let burst = 16

    init(configuration: CancelRaceConfiguration, sockets: SocketPairPool, dns: RaceDNS?) {
        self.configuration = configuration
        self.sockets = sockets
        self.dns = dns
        ledger = CompletionLedger(capacity: configuration.operations)
        window = DispatchSemaphore(value: configuration.maxOutstanding)
        recent = Locked(Array(repeating: nil, count: Self.ringSize))
        tallies = (0..<RaceKind.allCases.count * RaceOutcome.allCases.count).map { _ in ManagedAtomic<Int>(0) }
        startedPerKind = RaceKind.allCases.map { _ in ManagedAtomic<Int>(0) }
        latency = (0..<RaceKind.allCases.count * 2).map { _ in Locked(makeLatencyHistogram()) }
        starterKinds = [.timer, .socket, .dns].filter { configuration.kinds.contains($0) }
    }

    func begin(at start: UInt64) {
        // Clamped: a duration past a year (or not finite) is "no deadline", never a trap.
        let seconds = configuration.durationSeconds.isFinite ? min(max(configuration.durationSeconds, 0), 31_536_000) : 31_536_000
        deadline.store(start &+ UInt64(seconds * 1e9), ordering: .relaxed)
    }

    var started: Int { min(nextIndex.load(ordering: .relaxed), configuration.operations) }
    var isOver: Bool { over.load(ordering: .relaxed) }

    /// The next operation's number for `kind`, or nil once the count or the time is over. The
    /// time is checked before a number is taken: a number taken and then refused would be a hole
    /// in `0..<started`, which the audit counts as a missed completion.
    func claim(_ kind: RaceKind) -> Int? {
        guard !over.load(ordering: .relaxed), MonotonicClock.now() < deadline.load(ordering: .relaxed) else {
            return endClaims()
        }
        let index = nextIndex.loadThenWrappingIncrement(ordering: .relaxed)
        guard index < configuration.operations else { return endClaims() }
        let ofKind = startedPerKind[kind.index].loadThenWrappingIncrement(ordering: .relaxed)
        // One scan operation in ten earns a close of a scan query from a canceller thread.
        if kind == .scan, ofKind % 10 == 9 { closeCredits.wrappingIncrement(ordering: .relaxed) }
        if index % Self.burst == 0 { ticks.signal() }
        return index
    }

    /// Marks the run over (waking the cancellers, once); returns nil for `claim`.
    private func endClaims() -> Int? {
        if !over.exchange(true, ordering: .relaxed) {
            for _ in 0..<configuration.threads { ticks.signal() }
        }
        return nil
    }

    /// Puts `handle` where cancellers and loop cancels find it.
    func publish(_ handle: OperationHandle, index: Int) {
        recent.withLock { $0[index % Self.ringSize] = handle }
    }

    func startOperations(on group: ReactorGroup, rng: inout SplitMix64) {
        guard !starterKinds.isEmpty else { return }
        while true {
            window.wait()
            var kind = starterKinds[Int.random(in: 0..<starterKinds.count, using: &rng)]
            var pair: Int?
            if kind == .socket {
                pair = sockets.acquire()
                // All pairs busy: another kind if there is one, else wait for a pair.
                if pair == nil, let other = starterKinds.first(where: { $0 != .socket }) { kind = other }
                if pair == nil, kind == .socket { pair = sockets.acquireWaiting() }
            }
            guard let index = claim(kind) else {
                if let pair { sockets.release(pair) }
                window.signal()
                break
            }
            let reactor = group.next()
            let handle: OperationHandle
            switch kind {
            case .socket:
                let pair = pair!
                let timeout = UInt64.random(in: 1_000_000...20_000_000, using: &rng)
                handle = reactor.startReadinessWait(fd: sockets.receiver(pair), timeoutNanos: timeout) { outcome in
                    self.sockets.release(pair)
                    self.ended(.socket, index, outcome.map { _ in () }, windowed: true)
                }
            case .dns:
                handle = dns!.start(index) { outcome in
                    self.ended(.dns, index, outcome, windowed: true)
                }
                if Double.random(in: 0..<1, using: &rng) < configuration.cancelBeforeSendShare { handle.cancel() }
            default:
                // Mostly short timers that race the cancels; a fifth long enough that cancels win.
                let delay = Double.random(in: 0..<1, using: &rng) < 0.8
                    ? UInt64.random(in: 0...2_000_000, using: &rng) : UInt64.random(in: 50_000_000...500_000_000, using: &rng)
                handle = reactor.startTimer(afterNanos: delay) { outcome in
                    self.ended(.timer, index, outcome.map { _ in () }, windowed: true)
                }
            }
            publish(handle, index: index)
        }
    }

    /// A canceller: sleeps until operations were started, then cancels a burst of recent ones (and
    /// fires sockets, closes scan queries, and — for the writer — appends to and rotates the log).
    func cancelAndFire(rng: inout SplitMix64, log: RaceLog?, writer: Bool) {
        while !isOver {
            _ = ticks.wait(timeout: .now() + .milliseconds(5))
            for _ in 0..<Self.burst {
                let draw = Double.random(in: 0..<1, using: &rng)
                if draw < 0.2, sockets.count > 0 {
                    sockets.fire(Int.random(in: 0..<sockets.count, using: &rng))
                } else if draw < 0.25, !scanJobs.isEmpty, closeCredits.load(ordering: .relaxed) > 0 {
                    closeCredits.wrappingDecrement(ordering: .relaxed)
                    scanJobs[Int.random(in: 0..<scanJobs.count, using: &rng)].closeFromThread()
                } else {
                    recent.withLock { $0[Int.random(in: 0..<Self.ringSize, using: &rng)] }?.cancel()
                }
            }
            if writer, let log { log.write(lines: 4, rotateOneIn: 50, rng: &rng) }
        }
    }

    /// Records the end of operation `index` of `kind`; some completions cancel another operation
    /// from the loop thread. `windowed`: started by a starter (frees a place in its window).
    func ended(_ kind: RaceKind, _ index: Int, _ outcome: RaceOutcome, cancel: CancelInfo? = nil, windowed: Bool) {
        let now = MonotonicClock.now()
        ledger.record(index)
        if windowed { window.signal() }
        tallies[kind.index * RaceOutcome.allCases.count + outcome.rawValue].wrappingIncrement(ordering: .relaxed)
        if let cancel {
            let slot = kind.index * 2 + (cancel.origin == .loop ? 0 : 1)
            _ = latency[slot].withLock { $0.record(now > cancel.requestedAt ? now - cancel.requestedAt : 0) }
        }
        var rng = SplitMix64(seed: UInt64(index) &* 0xD1B5_4A32_D192_ED03 &+ configuration.seed)
        if Double.random(in: 0..<1, using: &rng) < configuration.loopCancelShare {
            recent.withLock { $0[Int.random(in: 0..<Self.ringSize, using: &rng)] }?.cancel()
        }
    }

    func ended(_ kind: RaceKind, _ index: Int, _ outcome: OperationOutcome<Void>, windowed: Bool) {
        switch outcome {
        case .completed: ended(kind, index, .completed, windowed: windowed)
        case .cancelled(let info): ended(kind, index, RaceOutcome(info), cancel: info, windowed: windowed)
        case .failed(let error): ended(kind, index, error.code == .timedOut ? .timedOut : .failed, windowed: windowed)
        }
    }

    func ended(_ kind: RaceKind, _ index: Int, _ outcome: DNSQueryOutcome, windowed: Bool) {
        switch outcome {
        case .success, .failure(.serverFailure): ended(kind, index, .completed, windowed: windowed)
        case .failure(.cancelled(let info)): ended(kind, index, RaceOutcome(info), cancel: info, windowed: windowed)
        case .failure(.timeout): ended(kind, index, .timedOut, windowed: windowed)
        case .failure: ended(kind, index, .failed, windowed: windowed)
        }
    }

    func startedByKind() -> [String: Int] {
        Dictionary(uniqueKeysWithValues: configuration.kinds.map {
            ($0.rawValue, startedPerKind[$0.index].load(ordering: .relaxed))
        })
    }

    func outcomeCounts() -> [String: [String: Int]] {
        Dictionary(uniqueKeysWithValues: configuration.kinds.map { kind in
            (kind.rawValue, Dictionary(uniqueKeysWithValues: RaceOutcome.allCases.map {
                ($0.name, tallies[kind.index * RaceOutcome.allCases.count + $0.rawValue].load(ordering: .relaxed))
            }))
        })
    }

    func latencies() -> [String: LatencySummary] {
        var result: [String: LatencySummary] = [:]
        for kind in configuration.kinds {
            for (offset, origin) in ["loop", "thread"].enumerated() {
                let summary = LatencySummary(nanoseconds: latency[kind.index * 2 + offset].withLock { $0 })
                if summary.count > 0 { result["\(kind.rawValue)/\(origin)"] = summary }
            }
        }
        return result
    }

    func scanPaths(_ jobs: [RaceScanJob]) -> [String: Int] {
        var paths = ["records": 0, "closed_from_thread": 0, "reopened": 0, "rotations": 0]
        for job in jobs {
            for (key, value) in job.paths { paths[key, default: 0] += value }
        }
        return paths
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
    private let available: DispatchSemaphore
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
        available = DispatchSemaphore(value: count)
    }

    deinit { (receivers + senders).forEach { close($0) } }

    func receiver(_ pair: Int) -> Int32 { receivers[pair] }

    /// Takes an idle pair, with any stale datagram drained; nil when all are busy.
    func acquire() -> Int? {
        guard available.wait(timeout: .now()) == .success else { return nil }
        return take()
    }

    /// Takes an idle pair, waiting for one to be released.
    func acquireWaiting() -> Int {
        available.wait()
        return take()
    }

    private func take() -> Int {
        let pair = free.withLock { $0.popLast()! }
        drain(pair)
        return pair
    }

    func release(_ pair: Int) {
        drain(pair)
        free.withLock { $0.append(pair) }
        available.signal()
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
