import CoreMetrics
import DNSMessage
import EventReactor
import LinuxSystem
import Logging

/// Many thousands of outstanding DNS queries on event-loop reactors: the counterpart of Windows'
/// `DnsQueryEx` (asynchronous form) and `DnsCancelQuery`.
///
/// One engine shard per reactor holds the sockets, transaction tables and counters of the queries
/// running on that reactor; a query goes to one shard (round-robin over a group) and stays there.
/// Every query completes exactly once, on its reactor's thread, never inside `start` or `cancel`.
///
/// ```swift
/// let reactor = try Reactor()
/// var configuration = DNSQueryEngine.Configuration()
/// configuration.servers = [try DNSServer(parsing: "127.0.0.1:5353")]
/// let engine = DNSQueryEngine(reactor: reactor, configuration: configuration)
/// let handle = engine.start(try DNSQueryRequest("example.com", type: .a)) { outcome in
///     switch outcome {
///     case .success(let result): print(result.rcode, result.answers)
///     case .failure(let error): print(error)          // .timeout, .cancelled(info), …
///     }
/// }
/// handle.cancel()                                       // any thread; returns at once
/// let answer = try await engine.query(try DNSQueryRequest("example.org", type: .aaaa))
/// engine.shutdown(); reactor.shutdown()
/// ```
public final class DNSQueryEngine: Sendable {
    /// How the engine asks: servers, timing, limits and socket pools. The defaults suit a local
    /// recursive resolver; `init(resolvConf:)` takes the timing from resolv.conf.
    public struct Configuration: Sendable {
        /// Servers asked in order; nil: `/etc/resolv.conf`'s (127.0.0.1 if it names none).
        public var servers: [DNSServer]?
        /// Source addresses (ports ignored) the UDP sockets and TCP connections bind to: a server's
        /// sockets take those of its family in turn, and its pool holds at least one socket per
        /// source (up to `maxSocketsPerServer`). Empty: the kernel picks the source. A server with
        /// no source of its family fails its sends with `Address family not supported by protocol`.
        public var localAddresses: [DNSServer] = []
        /// Start each query at the next server instead of the first; nil: resolv.conf's `rotate`.
        public var rotate: Bool?
        /// How every server is asked unless `serverTransports` names another way for it (UDP).
        public var transport = DNSTransport.udp
        /// The transport of single servers, over `transport`.
        public var serverTransports: [DNSServer: DNSTransport] = [:]
        /// Stream connections (TCP, TLS) per server, opened as queries come (1): queries go to them
        /// in turn, many pipelined on each.
        public var connectionsPerServer = 1
        /// The PEM file of the certificates TLS servers are checked against; nil: the system's store.
        public var tlsCAFile: String?
        /// Whether a TLS server's certificate and name are checked (true). Off only for test servers
        /// with self-signed certificates (`evq --insecure`).
        public var tlsVerifiesPeer = true
        /// The name a TLS server's certificate must carry, also sent as SNI; nil: the certificate
        /// must carry the server's IP address.
        public var tlsServerName: String?
        /// DoH: the path of the server's endpoint (`/dns-query`, RFC 8484's example); a GET appends
        /// `?dns=` (or `&dns=` when the path has a query already).
        public var dohPath = "/dns-query"
        /// DoH: POST (the default) or GET.
        public var dohMethod = DoHMethod.post
        /// Where the resolv.conf is read from when `servers` is nil (and for the search list).
        public var resolvConfPath = "/etc/resolv.conf"
        /// A query's deadline, counted from `start` (5 s).
        public var timeout: Duration {
            get { .nanoseconds(Int64(clamping: timeoutNanos)) }
            set { timeoutNanos = newValue.clampedNanoseconds }
        }
        /// `timeout` in nanoseconds, as the loop reads it.
        package var timeoutNanos: UInt64 = 5_000_000_000
        /// Sends per query at most, over all servers (3).
        public var attempts = 3
        /// The first attempt's wait for a reply; each retry doubles it (1 s)…
        public var retransmitInterval: Duration {
            get { .nanoseconds(Int64(clamping: retransmitNanos)) }
            set { retransmitNanos = newValue.clampedNanoseconds }
        }
        /// `retransmitInterval` in nanoseconds, as the loop reads it.
        package var retransmitNanos: UInt64 = 1_000_000_000
        /// …up to this (4 s). The last attempt waits until the deadline.
        public var maxRetransmitInterval: Duration {
            get { .nanoseconds(Int64(clamping: maxRetransmitNanos)) }
            set { maxRetransmitNanos = newValue.clampedNanoseconds }
        }
        /// `maxRetransmitInterval` in nanoseconds, as the loop reads it.
        package var maxRetransmitNanos: UInt64 = 4_000_000_000
        /// An attempt over a stream (TCP, TLS, DoH) waits this long (3 s, within the deadline); a DoH
        /// server that sends no HTTP/2 SETTINGS within half of it fails its connection.
        public var tcpTimeout: Duration {
            get { .nanoseconds(Int64(clamping: tcpTimeoutNanos)) }
            set { tcpTimeoutNanos = newValue.clampedNanoseconds }
        }
        /// `tcpTimeout` in nanoseconds, as the loop reads it.
        package var tcpTimeoutNanos: UInt64 = 3_000_000_000
        /// A TCP connection with no query closes after this (10 s).
        public var tcpIdle: Duration {
            get { .nanoseconds(Int64(clamping: tcpIdleNanos)) }
            set { tcpIdleNanos = newValue.clampedNanoseconds }
        }
        /// `tcpIdle` in nanoseconds, as the loop reads it.
        package var tcpIdleNanos: UInt64 = 10_000_000_000
        /// A server whose attempt timed out is skipped for this long when others are available (1 s).
        public var serverPenalty: Duration {
            get { .nanoseconds(Int64(clamping: serverPenaltyNanos)) }
            set { serverPenaltyNanos = newValue.clampedNanoseconds }
        }
        /// `serverPenalty` in nanoseconds, as the loop reads it.
        package var serverPenaltyNanos: UInt64 = 1_000_000_000
        /// The ids of cancelled and timed-out attempts are not reused for this long, and late
        /// replies to them are dropped and counted (5 s: at least the default timeout).
        public var quarantine: Duration {
            get { .nanoseconds(Int64(clamping: quarantineNanos)) }
            set { quarantineNanos = newValue.clampedNanoseconds }
        }
        /// `quarantine` in nanoseconds, as the loop reads it.
        package var quarantineNanos: UInt64 = 5_000_000_000
        /// The id of an answered query rests this long, so a second copy of the reply is counted as
        /// a duplicate (100 ms).
        public var answeredQuarantine: Duration {
            get { .nanoseconds(Int64(clamping: answeredQuarantineNanos)) }
            set { answeredQuarantineNanos = newValue.clampedNanoseconds }
        }
        /// `answeredQuarantine` in nanoseconds, as the loop reads it.
        package var answeredQuarantineNanos: UInt64 = 100_000_000
        /// Queries in flight per shard at most; beyond, a query ends with `.limitReached`.
        public var maxOutstanding = 1_000_000
        /// UDP sockets a server's pool fills up to as queries come (4).
        public var socketsPerServer = 4
        /// UDP sockets per server at most, when the pool's sockets are full (64).
        public var maxSocketsPerServer = 64
        /// Outstanding queries per socket before the next socket is used (40,000 of 65,536 ids, so a
        /// random free id is found in a few draws).
        public var maxOutstandingPerSocket = 40_000
        /// A UDP socket retires (a new one with a new port replaces it) after this many queries.
        public var rotateAfterQueries = 250_000
        /// SO_RCVBUF asked for each UDP socket (4 MiB; the kernel caps it at `rmem_max`).
        public var receiveBufferBytes = 4 << 20
        /// UDP queries sent per `sendmmsg` at most (64): the queries one loop callback writes go out
        /// together when it is over, one system call per socket.
        public var sendBatch = 64
        /// Whether the queries of equal length that one batch sends to one socket go out as one
        /// message the kernel cuts into datagrams (UDP GSO, `UDP_SEGMENT`; Linux 4.18): the same
        /// datagrams on the wire for less CPU. On by default; a kernel without UDP GSO, or a device
        /// that cannot segment, turns it off for the shard (`DNSQueryCounters.segmentOffloadRefused`).
        public var segmentOffload = true
        /// Whether each UDP socket takes the replies the kernel coalesced (UDP GRO, `UDP_GRO`; Linux
        /// 5.0): equal-length replies a server sent as one UDP GSO message arrive in one message of
        /// the receive batch and are read one by one from it, with the same checks as any reply. On
        /// by default; a kernel without it delivers each reply alone, read the same way.
        public var receiveCoalescing = true
        /// Messages read per `recvmmsg` (32): a datagram each, or several coalesced ones.
        public var receiveBatch = 32
        /// Where the engine logs: a server penalised or restored, send and receive errors, UDP
        /// segmentation refused, resolv.conf problems, a shutdown that cancels queries (nothing per
        /// query above `.trace`). nil: the reactor's logger.
        public var logger: Logger?
        /// The swift-metrics backend for the engine's figures — queries started and completed by
        /// outcome and rcode, retransmits, TCP fallbacks, replies dropped by reason, outstanding,
        /// latency and cancel latency — counted on the loop and published every `metricsInterval`
        /// from a queue of the engine's own. nil (the default): none, and no per-query counting.
        public var metricsFactory: (any MetricsFactory)?
        /// How often each shard publishes its figures (100 ms).
        public var metricsInterval: Duration {
            get { .nanoseconds(Int64(clamping: metricsIntervalNanos)) }
            set { metricsIntervalNanos = newValue.clampedNanoseconds }
        }
        /// `metricsInterval` in nanoseconds.
        package var metricsIntervalNanos: UInt64 = 100_000_000
        /// `recvmmsg` batches per readable event before returning to the loop (16).
        public var maxBatchesPerWake = 16

        /// The defaults.
        public init() {}

        /// The transport `server` is asked over: its own in `serverTransports`, else `transport`.
        public func transport(of server: DNSServer) -> DNSTransport { serverTransports[server] ?? transport }

        /// The defaults with resolv.conf's servers, rotation and timing: the first wait is its
        /// `timeout:`, attempts are `attempts:` rounds over its servers, and the deadline is the
        /// sum of the waits, as glibc's resolver spends them.
        public init(resolvConf: ResolvConf) {
            servers = resolvConf.servers.isEmpty ? nil : resolvConf.servers
            rotate = resolvConf.rotate
            retransmitNanos = UInt64(resolvConf.timeoutSeconds) * 1_000_000_000
            maxRetransmitNanos = retransmitNanos
            attempts = resolvConf.attempts * max(resolvConf.servers.count, 1)
            timeoutNanos = retransmitNanos * UInt64(attempts)
        }
    }

    /// The shards, one per reactor, each retained once by the engine: its deinit hands that
    /// reference over to the shard's loop, so that a shard is not freed on another thread while its
    /// loop runs (its sockets' events call back into it, and are freed only on the loop).
    private let retainedShards: [Unmanaged<EngineShard>]
    /// The shards (a new array each time: for the rare paths).
    var shards: [EngineShard] { retainedShards.map { $0.takeUnretainedValue() } }
    /// `retainedShards[0]`, held apart: an engine on one reactor reaches its shard with no array
    /// access, and a tagged start borrows it with no retain.
    private let firstShard: Unmanaged<EngineShard>
    private let shardIndex: [ObjectIdentifier: Int]
    private let group: ReactorGroup?
    private let isShutDown = Locked(false)

    /// An engine whose queries all run on `reactor`. Any thread.
    public convenience init(reactor: Reactor, configuration: Configuration = Configuration()) {
        self.init(reactors: [reactor], group: nil, configuration: configuration)
    }

    /// An engine with one shard per reactor of `group`; each query goes to `group.next()`. Any thread.
    public convenience init(group: ReactorGroup, configuration: Configuration = Configuration()) {
        self.init(reactors: group.reactors, group: group, configuration: configuration)
    }

    private init(reactors: [Reactor], group: ReactorGroup?, configuration: Configuration) {
        var configuration = configuration
        configuration.socketsPerServer = max(configuration.socketsPerServer,
                                             min(configuration.localAddresses.count, configuration.maxSocketsPerServer))
        var resolvConf = ResolvConf.load(path: configuration.resolvConfPath)
        if resolvConf.servers.isEmpty {
            resolvConf.servers = [DNSServer(ipv4: 127, 0, 0, 1)]
            if configuration.servers == nil {
                (configuration.logger ?? reactors[0].logger).warning(
                    "resolv.conf names no server or cannot be read: asking 127.0.0.1:53",
                    metadata: ["path": "\(configuration.resolvConfPath)"])
            }
        }
        retainedShards = reactors.map {
            .passRetained(EngineShard(reactor: $0, configuration: configuration, resolvConf: resolvConf))
        }
        var index: [ObjectIdentifier: Int] = [:]
        for (position, reactor) in reactors.enumerated() { index[ObjectIdentifier(reactor)] = position }
        shardIndex = index
        firstShard = retainedShards[0]
        self.group = group
    }

    deinit {
        // Each shard keeps ended query objects for reuse, and they hold the shard: an engine dropped
        // without `shutdown()` frees them on the shard's loop and stops keeping any (queries may
        // still be in flight), so that the shard goes with its last query, as it did before reuse.
        // The engine's reference is released there too: released here, after the job had dropped
        // its own, it was the last one, and the shard was freed off its loop.
        for retained in retainedShards {
            retained.takeUnretainedValue().reactor.execute { retained.takeRetainedValue().stopKeepingQueries() }
        }
    }

    @inline(__always) private func nextShard() -> EngineShard {
        guard retainedShards.count > 1, let group else { return firstShard.takeUnretainedValue() }
        return retainedShards[shardIndex[ObjectIdentifier(group.next())] ?? 0].takeUnretainedValue()
    }

    /// Starts a query. Any thread; returns at once with the handle to cancel it.
    ///
    /// `completion` runs exactly once, on the query's reactor thread, never inside this call: with
    /// the result, or with a `DNSQueryError` (`.cancelled` if a cancel took effect). The deadline
    /// (`request.timeout` or the configuration's) counts from this call.
    /// The corresponding Windows call is `DnsQueryEx` returning `DNS_REQUEST_PENDING`.
    @discardableResult
    public func start(_ request: DNSQueryRequest, completion: @escaping @Sendable (DNSQueryOutcome) -> Void)
        -> QueryHandle
    {
        let shard = nextShard()
        let body = ClosureQuery(request: request, shard: shard, completion: completion)
        return QueryHandle(operation: shard.start(body))
    }

    /// Starts a query that reports to `target` under `tag`: `start(_:completion:)` without the
    /// closure, so the query's own object is the only allocation (for callers that start many
    /// queries and tell them apart by a number). Same promises: `target.queryCompleted(tag:_:)` runs
    /// exactly once, on the query's reactor thread, never inside this call. The engine holds
    /// `target` strongly until then. Any thread.
    @discardableResult
    public func start(_ request: DNSQueryRequest, tag: UInt64, target: any DNSQueryCompletionTarget)
        -> QueryHandle
    {
        guard retainedShards.count > 1 else {
            // One reactor: its shard, borrowed (the engine holds it for its life); fetched
            // into a local, it was a retain and a release per query.
            return firstShard._withUnsafeGuaranteedRef { shard in
                QueryHandle(operation: shard.startTagged(request, tag: tag, target: target))
            }
        }
        return QueryHandle(operation: nextShard().startTagged(request, tag: tag, target: target))
    }

    /// Asks and waits. Swift task cancellation cancels the query (reason `.task`); a task already
    /// cancelled throws `.cancelled` at once and sends nothing.
    /// - Throws: `DNSQueryError` (`.cancelled` when the task or anyone else cancelled it).
    public func query(_ request: DNSQueryRequest) async throws(DNSQueryError) -> DNSQueryResult {
        let shard = nextShard()
        let outcome: DNSQueryOutcome
        do {
            outcome = try await shard.reactor.run { (completion: @escaping @Sendable (OperationOutcome<DNSQueryOutcome>)
                -> Void) in
                let body = ClosureQuery(request: request, shard: shard) { outcome in
                    if case .failure(.cancelled(let info)) = outcome {
                        completion(.cancelled(info))
                    } else {
                        completion(.completed(outcome))
                    }
                }
                return shard.reactor.start(body)
            }
        } catch let cancelled as OperationCancelled {
            throw .cancelled(cancelled.info)
        } catch {
            throw .limitReached  // unreachable: queries never end with `OperationOutcome.failed`.
        }
        return try outcome.get()
    }

    /// The counters summed over the shards. Any thread (each shard is read on its loop).
    public func counters() -> DNSQueryCounters {
        shards.reduce(DNSQueryCounters()) { total, shard in total + onLoop(of: shard) { shard.counters } }
    }

    /// Cancels every query the engine has on the loop now (reason `.cancelAll`); like
    /// `EvtCancel(NULL)`, each completes once with `.cancelled`. Any thread but a reactor's.
    public func cancelAll() {
        for shard in shards { onLoop(of: shard) { shard.cancelAll() } }
    }

    /// Cancels every query of the engine (reason `.shutdown`) and closes its sockets and
    /// connections; queries started later end with `cancelled(shutdown)`. Idempotent. Call it
    /// before the reactors' own `shutdown()` (which also completes every pending query with
    /// `cancelled(shutdown)`; after it, this only closes the file descriptors).
    public func shutdown() {
        // Once: after the reactors stopped, two threads calling this at once would otherwise close
        // the same shard on two global-queue threads together.
        guard isShutDown.withLock({ done in defer { done = true }; return !done }) else { return }
        for shard in shards {
            onLoop(of: shard) { shard.close() }
            // A closed stream connection's libevent objects are freed on the loop's next pass.
            if !shard.reactor.inLoop { shard.reactor.settle() }
        }
    }

    private func onLoop<T: Sendable>(of shard: EngineShard, _ work: @escaping @Sendable () -> T) -> T {
        shard.reactor.inLoop ? work() : shard.reactor.syncOnLoop(work)
    }

    /// Metrics snapshots not handed to the backend because it was still busy with an earlier one
    /// (a slow or blocked backend); nothing is lost, the next snapshot carries their counts. Any thread.
    public var metricsSnapshotsSkipped: Int {
        retainedShards.reduce(0) { $0 + ($1.takeUnretainedValue().observer?.skippedSnapshots ?? 0) }
    }

    // MARK: async forms: the task suspends while the loop works; no thread is blocked

    /// The counters summed over the shards, each read on its loop; the task suspends, no thread waits.
    public func counters() async -> DNSQueryCounters {
        var total = DNSQueryCounters()
        for shard in shards { total = total + (await shard.reactor.onLoop { shard.counters }) }
        return total
    }

    /// Cancels every query the engine has on the loop now (reason `.cancelAll`) and returns once
    /// each of them has run its completion (with `.cancelled`).
    public func cancelAll() async {
        for shard in shards { await shard.reactor.onLoop { shard.cancelAll() } }
    }

    /// `shutdown()` for a task: cancels every query (reason `.shutdown`), closes the sockets and
    /// connections, and returns once every cancelled query has run its completion. Idempotent.
    public func shutdown() async {
        guard isShutDown.withLock({ done in defer { done = true }; return !done }) else { return }
        for shard in shards { await shard.reactor.onLoop { shard.close() } }
    }
}

/// Receives the outcomes of queries started with `DNSQueryEngine.start(_:tag:target:)`.
public protocol DNSQueryCompletionTarget: AnyObject, Sendable {
    /// The query started under `tag` has ended with `outcome`: called exactly once per query, on
    /// the query's reactor thread.
    func queryCompleted(tag: UInt64, _ outcome: DNSQueryOutcome)
}

/// The handle of a started query: the counterpart of Windows' `DNS_QUERY_CANCEL`, minus its
/// lifetime rule — it is a (slot, generation) value, so a stale handle is inert, never dangling.
public struct QueryHandle: Hashable, Sendable {
    /// The reactor operation underneath.
    public let operation: OperationHandle

    /// Wraps an operation handle.
    public init(operation: OperationHandle) {
        self.operation = operation
    }

    /// Cancels the query: any thread, any number of times, returns at once, never runs the
    /// completion inline. `.cancelled` means it took effect: the completion then runs exactly once
    /// with `DNSQueryError.cancelled`, after the query's transaction id went into quarantine and its
    /// timer left the loop — and never with a result, even if a reply is already in the socket.
    /// `.alreadyCompleted`: an answer or an error won first and is (or was) delivered.
    /// The corresponding Windows call is `DnsCancelQuery`.
    @discardableResult
    public func cancel() -> CancelResult { operation.cancel() }

    /// `cancel()`, then suspends the task until the query's completion has run (with `.cancelled`
    /// when this cancel took effect, else with the outcome that won first).
    @discardableResult
    public func cancelAndWait() async -> CancelResult { await operation.cancelAndWait() }
}
