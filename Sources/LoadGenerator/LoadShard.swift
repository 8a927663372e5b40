import EventReactor
import Foundation
import LogQuery

#if canImport(Glibc)
import Glibc
#endif

/// One generator's part of a fleet (`evq load --shard I/N`): shard `index` of `count` takes every
/// `count`th line of the workload from line `index` (counting from 0), and its share of the
/// outstanding count, the rate and the query limit, so that the shares of all `count` shards add
/// up to the whole.
public struct LoadShard: Sendable, Equatable, CustomStringConvertible {
    /// This shard's number, 0 ..< `count`.
    public let index: Int
    /// How many shards the load is split into.
    public let count: Int

    /// The most shards a load is split into.
    public static let maxCount = 10_000

    /// Shard `index` of `count`.
    /// - Throws: `LoadRun.Failure` unless 1 ≤ `count` ≤ 10,000 and 0 ≤ `index` < `count`.
    public init(index: Int, count: Int) throws(LoadRun.Failure) {
        guard (1...Self.maxCount).contains(count) else { throw LoadRun.Failure("--shard I/N: N must be 1…10,000") }
        guard (0..<count).contains(index) else {
            throw LoadRun.Failure("--shard \(index)/\(count): I counts from 0 and must be below N (0…\(count - 1))")
        }
        self.index = index
        self.count = count
    }

    /// Parses `I/N`, or `auto/N` with `I` from `JOB_COMPLETION_INDEX` (a Kubernetes Indexed Job's
    /// completion index) in `environment`.
    /// - Throws: `LoadRun.Failure` naming what is wrong with the text or the variable.
    public init(parsing text: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(LoadRun.Failure)
    {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let count = Int(parts[1]) else {
            throw LoadRun.Failure("--shard \(text): expected I/N (e.g. 0/3) or auto/N")
        }
        if parts[0] == "auto" {
            guard let value = environment["JOB_COMPLETION_INDEX"] else {
                throw LoadRun.Failure("--shard auto/\(count): JOB_COMPLETION_INDEX is not set (a Kubernetes Indexed Job sets it)")
            }
            guard let index = Int(value) else {
                throw LoadRun.Failure("--shard auto/\(count): JOB_COMPLETION_INDEX is '\(value)', not a number")
            }
            try self.init(index: index, count: count)
        } else {
            guard let index = Int(parts[0]) else { throw LoadRun.Failure("--shard \(text): expected I/N (e.g. 0/3) or auto/N") }
            try self.init(index: index, count: count)
        }
    }

    /// `I/N`.
    public var description: String { "\(index)/\(count)" }

    /// This shard's share of `total`: the shares of all shards add up to `total` (the first
    /// `total % count` shards take one more).
    public func share(of total: Int) -> Int { total / count + (index < total % count ? 1 : 0) }

    /// This shard's share of a rate: `rate / count`.
    public func share(of rate: Double) -> Double { rate / Double(count) }

    /// Every `count`th element from element `index`.
    public func lines<Element>(of all: [Element]) -> [Element] {
        Array(stride(from: index, to: all.count, by: count).map { all[$0] })
    }
}

extension LoadConfiguration {
    /// The configuration of this generator's shard (`shard`): its lines of the workload and its share
    /// of the outstanding count, the rates and the query limit; unchanged without a shard.
    /// - Throws: `LoadRun.Failure` when the shard would be left with no query or no outstanding one.
    public func forShard() throws(LoadRun.Failure) -> LoadConfiguration {
        guard let shard, shard.count > 1 else { return self }
        var own = self
        own.queries = shard.lines(of: queries)
        guard !own.queries.isEmpty else {
            throw LoadRun.Failure("--shard \(shard): the workload has \(queries.count) line(s), fewer than the \(shard.count) shards")
        }
        if rate == nil {
            own.outstanding = shard.share(of: outstanding)
            guard own.outstanding > 0 else {
                throw LoadRun.Failure("--shard \(shard): --outstanding \(outstanding) leaves this shard none (give at least N)")
            }
        }
        own.rate = rate.map(shard.share(of:))
        own.rampTo = rampTo.map(shard.share(of:))
        own.maxRate = maxRate.map(shard.share(of:))
        if let maxQueries {
            own.maxQueries = shard.share(of: maxQueries)
            guard own.maxQueries! > 0 else {
                throw LoadRun.Failure("--shard \(shard): --queries \(maxQueries) leaves this shard none (give at least N)")
            }
        }
        return own
    }
}

/// When a fleet's generators start together (`evq load --start-at TIME`).
public enum LoadStartTime {
    /// Parses RFC 3339 (`2026-12-07T20:00:00Z`, an offset or fractional seconds allowed) or seconds
    /// since the Unix epoch (`1796673600`, `1796673600.5`), as seconds since the epoch.
    /// - Throws: `LoadRun.Failure` for anything else.
    public static func parse(_ text: String) throws(LoadRun.Failure) -> Double {
        if let seconds = Double(text), seconds.isFinite, seconds >= 0 { return seconds }
        if let time = LogTime(rfc3339: text) { return Double(time.nanosecondsSinceEpoch) / 1e9 }
        throw LoadRun.Failure("--start-at \(text): expected RFC 3339 (2026-12-07T20:00:00Z) or seconds since the epoch")
    }

    /// `epochSeconds` as RFC 3339 in UTC, to the millisecond.
    public static func rfc3339(_ epochSeconds: Double) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: Date(timeIntervalSince1970: epochSeconds))
    }

    /// The wall clock (`CLOCK_REALTIME`), seconds since the Unix epoch.
    static func secondsSinceEpoch() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }

    /// Waits until the wall clock (`CLOCK_REALTIME`) reads `epochSeconds`, or until `stopSwitch` is
    /// pulled, whichever comes first. The wait is one absolute deadline on `CLOCK_REALTIME`
    /// (`pthread_cond_timedwait`, whose default clock that is: the kernel wakes the thread when the
    /// clock passes the deadline, and a step of the clock moves the wake with it), so generators
    /// whose clocks agree start together, to the kernel's timer slack (50 µs by default); it never
    /// returns before the time unless stopped.
    /// - Returns: whether the time came (false: the switch was pulled first).
    @discardableResult
    static func wait(until epochSeconds: Double, or stopSwitch: LoadStopSwitch? = nil) -> Bool {
        let gate = WallClockGate()
        stopSwitch?.onPull { gate.open() }
        return gate.wait(untilEpochSeconds: epochSeconds)
    }
}

/// A wait for a wall-clock deadline that another thread can end early (`LoadStartTime.wait`).
private final class WallClockGate: @unchecked Sendable {
    // pthread objects must not move: they live in allocated memory, the flag is read and written
    // under the mutex only.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var opened = false

    init() {
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)  // CLOCK_REALTIME, the default clock of a condition
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Ends the wait now (any thread, any number of times).
    func open() {
        pthread_mutex_lock(mutex)
        opened = true
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Blocks until `CLOCK_REALTIME` reads at least `epochSeconds` (true) or `open` (false).
    func wait(untilEpochSeconds epochSeconds: Double) -> Bool {
        let seconds = epochSeconds.rounded(.down)
        // Rounded up, so the deadline is never before the time asked.
        let nanoseconds = min(999_999_999, Int(((epochSeconds - seconds) * 1e9).rounded(.up)))
        var deadline = timespec(tv_sec: Int(seconds), tv_nsec: nanoseconds)
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        while !opened {
            if pthread_cond_timedwait(condition, mutex, &deadline) == ETIMEDOUT {
                // Spurious wakes aside, a timeout means the clock passed the deadline; checked anyway.
                var now = timespec()
                clock_gettime(CLOCK_REALTIME, &now)
                if (now.tv_sec, now.tv_nsec) >= (deadline.tv_sec, deadline.tv_nsec) { return true }
            }
        }
        return false
    }
}

/// Ends a load run early (`LoadConfiguration.stopSwitch`): `evq load` pulls it on SIGTERM or
/// SIGINT, so that a generator that is told to stop still drains and writes its report, marked
/// incomplete.
public final class LoadStopSwitch: Sendable {
    private let state = Locked<(reason: String?, actions: [@Sendable () -> Void])>((nil, []))

    /// A switch not yet pulled.
    public init() {}

    /// Pulls the switch, from any thread, any number of times: the first pull runs the actions
    /// the run registered (they stop starting queries) and keeps `reason`.
    public func pull(reason: String) {
        let actions = state.withLock { state -> [@Sendable () -> Void] in
            guard state.reason == nil else { return [] }
            state.reason = reason
            defer { state.actions = [] }
            return state.actions
        }
        for action in actions { action() }
    }

    /// Why the switch was pulled (`SIGTERM`, …); nil while it was not.
    public var reason: String? { state.withLock { $0.reason } }

    /// Runs `action` when the switch is pulled (at once if it already was).
    func onPull(_ action: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.reason != nil { return true }
            state.actions.append(action)
            return false
        }
        if now { action() }
    }
}

/// The user's labels (`evq load --label KEY=VALUE`), on the report and every metric.
public enum LoadLabels {
    /// Labels the load sets itself, which `--label` may not take.
    public static let reserved: Set<String> = ["shard", "rcode", "origin", "le", "state", "kind"]

    /// Parses `KEY=VALUE` items: a key is a Prometheus label name (`[a-zA-Z_][a-zA-Z0-9_]*`, not
    /// starting `__`, not reserved), given once.
    /// - Throws: `LoadRun.Failure` naming the bad item.
    public static func parse(_ items: [String]) throws(LoadRun.Failure) -> [String: String] {
        var labels: [String: String] = [:]
        for item in items {
            guard let equals = item.firstIndex(of: "=") else {
                throw LoadRun.Failure("--label \(item): expected KEY=VALUE")
            }
            let key = String(item[..<equals]), value = String(item[item.index(after: equals)...])
            let first = key.unicodeScalars.first
            guard let first, first == "_" || (first.isASCII && first.properties.isAlphabetic),
                key.unicodeScalars.allSatisfy({ $0 == "_" || ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) }),
                !key.hasPrefix("__")
            else {
                throw LoadRun.Failure("--label \(item): the key must be a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, not __…)")
            }
            guard !reserved.contains(key) else { throw LoadRun.Failure("--label \(item): '\(key)' is set by evq load itself") }
            guard labels[key] == nil else { throw LoadRun.Failure("--label \(item): '\(key)' is given twice") }
            guard value.utf8.count <= 1024 else { throw LoadRun.Failure("--label \(key): the value is over 1,024 bytes") }
            labels[key] = value
        }
        return labels
    }
}
