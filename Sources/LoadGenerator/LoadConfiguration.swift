import DNSQuery
import EventReactor
import Foundation

/// Where injected cancels are made from.
public enum CancelSource: String, Sendable, CaseIterable {
    /// From the reactor thread (a timer operation that cancels the query).
    case loop
    /// From a canceller thread.
    case thread
    /// Half and half.
    case mixed
}

/// The engine a load run drives.
public enum LoadEngineKind: String, Sendable, CaseIterable {
    /// evquery's DNSQuery engine on the reactor.
    case evquery
    /// libevent's evdns (A/AAAA only, no cancels): the in-run baseline.
    case evdns
    /// The floor (docs/performance.md, "Targets"): prebuilt queries by `sendmmsg`/`recvmmsg`, no parsing, no
    /// cancels — what the kernel and the server allow, which the evquery engine is measured against.
    case floor
}

/// What `evq load` runs (docs/design.md "The command line").
public struct LoadConfiguration: Sendable {
    /// `HOST:PORT`, `[IPv6]:PORT` or an address alone (port 53) each (`DNSServer(parsing:)`);
    /// queries go round them (the evquery engine; the others take one). Empty: the embedded
    /// responder on 127.0.0.1.
    public var servers: [String] = []
    /// Source addresses (`--local-address`, no port): the engine's sockets spread over them, each
    /// server's over those of its family (not evdns: see `validate`). Empty: the kernel picks.
    public var localAddresses: [String] = []
    public var queries: [WorkloadQuery] = Datafile.synthetic(count: 10_000, suffix: "load.evq.test")
    /// Closed loop: queries kept in flight.
    public var outstanding = 100
    /// Open loop: queries per second (nil = closed loop).
    public var rate: Double?
    /// How long queries are started (`--duration`).
    public var duration: Duration = .seconds(5)
    /// Open loop: the rate rises linearly from `rate` to this over `rampSeconds` (the run's duration
    /// unless set); the report names the knee (`LoadReport.Ramp`).
    public var rampTo: Double?
    /// The ramp's length, seconds; nil: the run's duration.
    public var rampSeconds: Double?
    /// The ramp's p99 bound: an interval whose p99 reaches it is past the knee.
    public var kneeP99: Duration = .milliseconds(100)
    /// Closed loop: at most this many queries per second, however fast replies come back.
    public var maxRate: Double?
    /// The length of a live line's interval, the JSON `intervals` and the CSV rows.
    public var interval: Duration = .seconds(1)
    /// Query flags for every query (a datafile line may add its own).
    public var flags = QueryFlags()
    public var maxQueries: Int?
    public var reactors = 1
    /// The fraction of queries cancelled (0…1); the evdns and floor engines make no cancels.
    public var cancelRate = 0.05
    public var cancelAfter = DelayDistribution.uniform(0, 200_000)
    public var cancelFrom = CancelSource.mixed
    /// Log-scan jobs mixed into the DNS load (evquery engine): each reads `scanFile` with `next`
    /// batches, over and over, with the same cancel injection as the queries.
    public var scanJobs = 0
    public var scanFile: String?
    /// The scan jobs' filter (the LogQuery filter language); nil passes every record.
    public var scanFilter: String?
    public var engine = LoadEngineKind.evquery
    /// A query's deadline (`--timeout`).
    public var timeout: Duration = .seconds(2)
    /// The evquery engine sends equal-length queries to one socket as one UDP GSO message
    /// (`DNSQueryEngine.Configuration.segmentOffload`); false sends one message per query, as the
    /// floor does.
    public var segmentOffload = true
    /// The evquery engine takes replies the kernel coalesced (UDP GRO:
    /// `DNSQueryEngine.Configuration.receiveCoalescing`); false reads each alone.
    public var receiveCoalescing = true
    /// How the evquery engine asks (`--transport`): UDP, TCP, DNS over TLS or DNS over HTTPS.
    public var transport = DNSTransport.udp
    /// Stream connections per server and reactor over TCP, TLS and DoH (`--connections`).
    public var connections = 1
    /// DoH: the endpoint's path (`--doh-path`) and the method (`--doh-method`).
    public var dohPath = "/dns-query"
    public var dohMethod = DoHMethod.post
    /// TLS: the CA file (`--tls-ca`; nil: the system's store), whether certificates are checked
    /// (`--insecure` turns it off), and the name they must carry (`--tls-name`; nil: the address).
    public var tlsCAFile: String?
    public var tlsVerifiesPeer = true
    public var tlsServerName: String?
    public var seed: UInt64 = 1
    /// No live line.
    public var quiet = false
    /// This generator's part of a fleet (`--shard I/N`); `LoadRun.run` takes its share
    /// (`forShard()`). Nil: the whole load.
    public var shard: LoadShard?
    /// When to start, seconds since the Unix epoch (`--start-at`): the run waits for it after its
    /// setup, so that a fleet's generators start together. Nil: at once.
    public var startAt: Double?
    /// The user's labels (`--label KEY=VALUE`), on the report and every metric.
    public var labels: [String: String] = [:]
    /// Ends the run early when pulled (on SIGTERM or SIGINT): no query starts after it, those in
    /// flight complete, and the report is marked incomplete. The evquery engine only.
    public var stopSwitch: LoadStopSwitch?
    /// Live metrics to publish while the run goes (`--metrics-listen`); the evquery engine only.
    public var metrics: LoadMetrics?

    /// The defaults: embedded responder, closed loop of 100, 5 s, 5 % cancels.
    public init() {}
}

/// What `--cancel-rate`, `--cancel-after` and `--cancel-from` ask of each operation started, in a
/// few words: a driver keeps its own, so a draw copies nothing of the configuration.
struct CancelDraw {
    let rate: Double
    let after: DelayDistribution
    let from: CancelSource

    /// Whether to cancel the operation just started and, if so, after how long and from where
    /// (`true`: the loop, `false`: the canceller thread).
    func next(using rng: inout SplitMix64) -> (delayNanos: UInt64, fromLoop: Bool)? {
        guard Double.random(in: 0..<1, using: &rng) < rate else { return nil }
        let delay = after.sample(using: &rng)
        return switch from {
        case .loop: (delay, true)
        case .thread: (delay, false)
        case .mixed: (delay, rng.next() & 1 == 0)
        }
    }
}

extension LoadConfiguration {
    /// The run's cancel draw; nil when `cancelRate` is 0 (no operation is cancelled).
    var cancelDraw: CancelDraw? {
        cancelRate > 0 ? CancelDraw(rate: cancelRate, after: cancelAfter, from: cancelFrom) : nil
    }

    /// Checks the ranges and combinations a run needs, before anything starts.
    /// - Throws: `LoadRun.Failure` naming the flag and what it accepts.
    public func validate() throws(LoadRun.Failure) {
        typealias Failure = LoadRun.Failure
        guard (1...1_000_000).contains(outstanding) else { throw Failure("--outstanding must be 1…1,000,000") }
        if let rate, !(rate > 0 && rate <= 10_000_000) { throw Failure("--rate must be in (0, 10,000,000]") }
        if let rampTo {
            guard rate != nil else { throw Failure("--ramp-to needs --rate (the rate the ramp starts from)") }
            guard rampTo > 0 && rampTo <= 10_000_000 else { throw Failure("--ramp-to must be in (0, 10,000,000]") }
        }
        if let rampSeconds {
            guard rampTo != nil else { throw Failure("--ramp-seconds needs --ramp-to") }
            guard rampSeconds > 0 && rampSeconds <= 86_400 else { throw Failure("--ramp-seconds must be in (0, 86400]") }
        }
        guard kneeP99 > .zero else { throw Failure("--knee-p99 must be above 0") }
        if let maxRate {
            guard rate == nil else { throw Failure("--max-rate caps a closed loop (--outstanding); with --rate it is not needed") }
            guard maxRate > 0 && maxRate <= 10_000_000 else { throw Failure("--max-rate must be in (0, 10,000,000]") }
        }
        guard interval >= .milliseconds(10) && interval <= .seconds(3600) else {
            throw Failure("--interval must be 0.01…3600 seconds")
        }
        if let size = flags.ednsSize, !(512...65_535).contains(size) { throw Failure("--edns-size must be 512…65535") }
        guard duration > .zero, duration <= .seconds(86_400) else { throw Failure("--duration must be in (0, 86400] seconds") }
        if let maxQueries, maxQueries < 1 { throw Failure("--queries must be at least 1") }
        guard (1...64).contains(reactors) else { throw Failure("--reactors must be 1…64") }
        guard (0...1).contains(cancelRate) else { throw Failure("--cancel-rate must be between 0 and 1") }
        guard timeout > .zero, timeout <= .seconds(3600) else { throw Failure("--timeout must be in (0, 3600] seconds") }
        guard scanJobs >= 0, scanJobs <= 10_000 else { throw Failure("--scan-jobs must be 0…10,000") }
        if scanJobs > 0 && scanFile == nil { throw Failure("--scan-jobs needs --scan-file") }
        let targets = try serverAddresses()
        guard servers.count <= 64 else { throw Failure("--server: at most 64 servers") }
        let sources = try sourceAddresses()
        guard sources.count <= 64 else { throw Failure("--local-address: at most 64 addresses") }
        if !sources.isEmpty {
            for target in targets where !sources.contains(where: { $0.isIPv6 == target.isIPv6 }) {
                let family = target.isIPv6 ? "IPv6" : "IPv4"
                throw Failure("--server \(target) is \(family), but no --local-address is \(family)")
            }
            if targets.isEmpty, !sources.contains(where: { !$0.isIPv6 }) {
                throw Failure("--local-address: the embedded responder is on 127.0.0.1, but no --local-address is IPv4")
            }
            if engine == .evdns {
                throw Failure("--engine evdns cannot send from a --local-address: libevent's bind-to: skips "
                    + "loopback servers and binds one address for all")
            }
        }
        if engine != .evquery {
            if rate != nil { throw Failure("--engine \(engine.rawValue) runs a closed loop only (no --rate)") }
            if maxRate != nil { throw Failure("--max-rate paces the evquery engine only") }
            if servers.count > 1 { throw Failure("--engine \(engine.rawValue) asks one --server") }
            if flags != QueryFlags() || queries.contains(where: { $0.flags != QueryFlags() }) {
                throw Failure("query flags (--dnssec-ok, --edns-size, …) go with the evquery engine only")
            }
            if scanJobs > 0 { throw Failure("--scan-jobs mix with the evquery engine only") }
            if metrics != nil { throw Failure("--metrics-listen goes with the evquery engine only") }
        }
        guard !queries.isEmpty else { throw Failure("the workload has no queries") }
        if let startAt {
            let now = Date().timeIntervalSince1970
            guard startAt > now else {
                throw Failure("--start-at \(LoadStartTime.rfc3339(startAt)) is in the past (now \(LoadStartTime.rfc3339(now)))")
            }
            guard startAt - now <= 86_400 else { throw Failure("--start-at must be within a day from now") }
        }
    }
}

extension LoadConfiguration {
    /// `servers` parsed, in order.
    /// - Throws: `LoadRun.Failure` naming the server and what is wrong with it.
    public func serverAddresses() throws(LoadRun.Failure) -> [DNSServer] {
        try servers.map { text throws(LoadRun.Failure) in
            do { return try DNSServer(parsing: text) } catch { throw LoadRun.Failure("--\(error)") }
        }
    }

    /// `localAddresses` parsed, each checked by binding a UDP socket to it once (and closing it):
    /// an address this host does not have is refused here, before any query.
    /// - Throws: `LoadRun.Failure` naming the address and the reason in words
    ///   (`Cannot assign requested address`).
    public func sourceAddresses() throws(LoadRun.Failure) -> [DNSServer] {
        try localAddresses.map { text throws(LoadRun.Failure) in
            let source: DNSServer
            do throws(DNSServerParseError) { source = try DNSServer(parsingSource: text) } catch {
                throw LoadRun.Failure("--local-address \"\(text)\": \(error.reason)")
            }
            do { try source.checkSourceAddress() } catch {
                throw LoadRun.Failure("--local-address \(text): \(error)")
            }
            return source
        }
    }
}
