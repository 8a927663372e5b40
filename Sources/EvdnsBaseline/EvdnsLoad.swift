import CLibevent
import EventReactor

/// libevent's own DNS client, evdns, driven in a closed loop: the in-run baseline of `evq load
/// --engine evdns` (docs/design.md: a peer, not part of the engine, and the one module above
/// EventReactor that calls libevent directly). It runs on its own `event_base` and thread, as a C
/// program on evdns would, and asks only A and AAAA, which is all evdns can ask.
public enum EvdnsLoad {
    /// How an evdns query ended (its `DNS_ERR_*` code, kept as the raw value for the rest).
    public enum Outcome: Sendable, Equatable {
        /// NOERROR with an answer of the type asked.
        case answered
        /// NOERROR with no answer of the type asked (`DNS_ERR_NODATA`).
        case nodata
        /// The rcodes libevent tells apart: FORMERR, SERVFAIL, NXDOMAIN, NOTIMP, REFUSED.
        case formatError, servfail, nxdomain, notImplemented, refused
        case timeout, truncated
        /// Any other `DNS_ERR_*` (`DNS_ERR_UNKNOWN` for a reply with an rcode above 5); the code is kept.
        case other(Int32)

        init(_ code: Int32) {
            switch code {
            case DNS_ERR_NONE: self = .answered
            case DNS_ERR_NODATA: self = .nodata
            case DNS_ERR_NOTEXIST: self = .nxdomain
            case DNS_ERR_SERVERFAILED: self = .servfail
            case DNS_ERR_NOTIMPL: self = .notImplemented
            case DNS_ERR_REFUSED: self = .refused
            case DNS_ERR_TIMEOUT: self = .timeout
            case DNS_ERR_TRUNCATED: self = .truncated
            case DNS_ERR_FORMAT: self = .formatError
            default: self = .other(code)
            }
        }
    }

    /// What a run's response codes can tell: libevent reports NOERROR (with or without an answer of
    /// the type asked), FORMERR, SERVFAIL, NXDOMAIN, NOTIMP and REFUSED; every other rcode reaches
    /// the callback as `DNS_ERR_UNKNOWN`, without its number.
    public static let rcodesNote = "evdns tells NOERROR, NODATA, FORMERR, SERVFAIL, NXDOMAIN, NOTIMP and REFUSED; "
        + "other rcodes reach it as DNS_ERR_UNKNOWN and count as outcomes.error"

    /// One query to ask: a name, and AAAA instead of A.
    public struct Query: Sendable {
        public var name: String
        public var aaaa: Bool
        /// Makes a query.
        public init(name: String, aaaa: Bool) {
            self.name = name
            self.aaaa = aaaa
        }
    }

    /// How to run.
    public struct Configuration: Sendable {
        /// `HOST:PORT` or `[IPv6]:PORT` of the server (evdns's own syntax).
        public var server: String
        /// Queries kept in flight.
        public var outstanding: Int
        /// Asked round-robin.
        public var queries: [Query]
        /// Stop starting queries after this long…
        public var duration: Duration
        /// …or after this many queries, whichever comes first.
        public var maxQueries: Int = .max
        /// evdns's per-attempt timeout (evdns counts it in milliseconds).
        public var timeout: Duration = .seconds(5)
        /// Asked on the run's loop every `stopCheckPeriod`: once it says true, no query is started
        /// and the run ends when those in flight have completed (a run stopped by SIGTERM). The
        /// queries themselves never call it.
        public var shouldStop: (@Sendable () -> Bool)?
        /// How often `shouldStop` is asked.
        public var stopCheckPeriod: Duration = .milliseconds(50)

        /// Makes a configuration.
        public init(server: String, outstanding: Int, queries: [Query], duration: Duration) {
            self.server = server
            self.outstanding = outstanding
            self.queries = queries
            self.duration = duration
        }
    }

    /// Why a run could not start.
    public struct SetupError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs the closed loop on the calling thread until it is done and every query has completed.
    /// `record` runs on this thread for each completion, with its latency in nanoseconds.
    /// - Returns: how many queries were sent.
    public static func run(
        _ configuration: Configuration, record: @escaping (UInt64, Outcome) -> Void
    ) throws(SetupError) -> Int {
        guard !configuration.queries.isEmpty, configuration.outstanding > 0 else {
            throw SetupError(description: "evdns: no queries or no outstanding count")
        }
        guard let base = event_base_new() else { throw SetupError(description: "evdns: event_base_new failed") }
        defer { event_base_free(base) }
        guard let dns = evdns_base_new(base, 0) else { throw SetupError(description: "evdns: evdns_base_new failed") }
        defer { evdns_base_free(dns, 1) }
        guard evdns_base_nameserver_ip_add(dns, configuration.server) == 0 else {
            throw SetupError(description: "evdns: bad server address \(configuration.server)")
        }
        _ = evdns_base_set_option(dns, "max-inflight:", String(configuration.outstanding))
        _ = evdns_base_set_option(dns, "timeout:", String(Double(configuration.timeout / .milliseconds(1)) / 1000))
        _ = evdns_base_set_option(dns, "randomize-case:", "0")  // like evquery's default: no 0x20
        let run = ClosedLoop(configuration: configuration, base: base, dns: dns, record: record)
        return withExtendedLifetime(run) { run.go() }
    }
}

/// The state of one run: a slot per outstanding query, each re-issued from its own callback.
private final class ClosedLoop {
    struct Slot {
        unowned(unsafe) var loop: ClosedLoop
        var index: Int
        var sentAt: UInt64
    }

    let configuration: EvdnsLoad.Configuration
    let base: OpaquePointer
    let dns: OpaquePointer
    let record: (UInt64, EvdnsLoad.Outcome) -> Void
    let slots: UnsafeMutablePointer<Slot>
    let names: [[CChar]]
    var sent = 0
    var inFlight = 0
    /// No query starts at or after this (monotonic ns); 0 once `shouldStop` said so.
    var stopAt: UInt64

    init(configuration: EvdnsLoad.Configuration, base: OpaquePointer, dns: OpaquePointer,
         record: @escaping (UInt64, EvdnsLoad.Outcome) -> Void) {
        self.configuration = configuration
        self.base = base
        self.dns = dns
        self.record = record
        names = configuration.queries.map { Array($0.name.utf8CString) }
        slots = .allocate(capacity: configuration.outstanding)
        stopAt = MonotonicClock.now() + UInt64(configuration.duration / .nanoseconds(1))
        for index in 0..<configuration.outstanding {
            (slots + index).initialize(to: Slot(loop: self, index: index, sentAt: 0))
        }
    }

    deinit { slots.deallocate() }

    func go() -> Int {
        // The stop check: a timer on the run's own loop, so the hot path reads no shared flag.
        var stopCheck: OpaquePointer?
        if configuration.shouldStop != nil {
            stopCheck = event_new(base, -1, Int16(EV_PERSIST), stopCheckCallback, Unmanaged.passUnretained(self).toOpaque())
            let nanos = Int(max(1e6, min(1e12, configuration.stopCheckPeriod / .nanoseconds(1))))
            var period = timeval(tv_sec: nanos / 1_000_000_000, tv_usec: nanos % 1_000_000_000 / 1000)
            if let stopCheck { event_add(stopCheck, &period) }
        }
        defer { if let stopCheck { event_free(stopCheck) } }
        checkStop()  // stopped before the start (while waiting for it): no query at all
        for index in 0..<configuration.outstanding { issue(index) }
        if inFlight > 0 { event_base_dispatch(base) }
        return sent
    }

    /// The stop check's timer fired: asks `shouldStop`.
    func checkStop() {
        if configuration.shouldStop?() == true { stopAt = 0 }
    }

    func issue(_ index: Int) {
        guard sent < configuration.maxQueries, MonotonicClock.now() < stopAt else { return }
        let query = configuration.queries[sent % configuration.queries.count]
        let name = names[sent % names.count]
        slots[index].sentAt = MonotonicClock.now()
        let request = name.withUnsafeBufferPointer { text in
            query.aaaa
                ? evdns_base_resolve_ipv6(dns, text.baseAddress, DNS_QUERY_NO_SEARCH, evdnsCallback, slots + index)
                : evdns_base_resolve_ipv4(dns, text.baseAddress, DNS_QUERY_NO_SEARCH, evdnsCallback, slots + index)
        }
        guard request != nil else {
            record(0, .other(-1))
            return
        }
        sent += 1
        inFlight += 1
    }

    func completed(_ index: Int, code: Int32) {
        inFlight -= 1
        record(MonotonicClock.now() &- slots[index].sentAt, EvdnsLoad.Outcome(code))
        issue(index)
        if inFlight == 0 { event_base_loopbreak(base) }
    }
}

/// The stop check's timer callback: `arg` is the run (`ClosedLoop`), alive for the whole dispatch.
private let stopCheckCallback: @convention(c) (Int32, Int16, UnsafeMutableRawPointer?) -> Void = { _, _, arg in
    guard let arg else { return }
    Unmanaged<ClosedLoop>.fromOpaque(arg).takeUnretainedValue().checkStop()
}

/// The evdns completion callback: `arg` points at the query's slot.
private let evdnsCallback: @convention(c) (Int32, CChar, Int32, Int32, UnsafeMutableRawPointer?, UnsafeMutableRawPointer?)
    -> Void = { result, _, _, _, _, arg in
        guard let slot = arg?.assumingMemoryBound(to: ClosedLoop.Slot.self) else { return }
        slot.pointee.loop.completed(slot.pointee.index, code: result)
    }
