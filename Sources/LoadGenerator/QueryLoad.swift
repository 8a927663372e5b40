import Atomics
import DNSMessage
import DNSQuery
import EventReactor
import Foundation
import LinuxSystem

extension LoadRun {
    /// Drives evquery's DNSQuery engine against `servers`: one driver per reactor and one engine per
    /// reactor and server, each driver keeping its share of the load on its own loop (closed loop: N
    /// outstanding; open loop: a paced rate, latency counted from the intended send time) and sending
    /// query number n to server n mod the count, with cancels injected from the loops and from a
    /// canceller thread. Ends with the exactly-once audit over every query and timer.
    static func runEvquery(_ configuration: LoadConfiguration, servers: [String]) throws -> (LoadReport, LoadRecorder) {
        let addresses = try servers.map { server throws(Failure) -> DNSServer in
            do { return try DNSServer(parsing: server, defaultPort: configuration.transport.defaultPort) } catch { throw Failure("--\(error)") }
        }
        // Summary results: the rcode and counts are all a load run reads, and they cost no allocation.
        // The timeout is the engines' (below), not each request's: a request with limits of its own
        // costs its query a second cache line of the request to read.
        var options = DNSQueryOptions()
        options.resultDetail = .summary
        let requests = try configuration.queries.map { query throws(Failure) -> DNSQueryRequest in
            guard let type = DNSType(mnemonic: query.type) else { throw Failure("unknown query type \(query.type)") }
            var asked = options
            configuration.flags.adding(query.flags).apply(to: &asked)
            do {
                return try DNSQueryRequest(query.name, type: type, options: asked)
            } catch { throw Failure("workload: \(error)") }
        }
        let group: ReactorGroup
        // Microsecond timers when the pacer's sends or the cancel delays need them (finer than epoll's
        // 1 ms); they cost a timerfd_settime on each loop turn, which a closed loop without cancels
        // does not need.
        var reactorConfiguration = Reactor.Configuration()
        reactorConfiguration.preciseTimers = configuration.rate != nil || configuration.maxRate != nil
            || configuration.cancelRate > 0
        let observability = LoadObservability.fromEnvironment()
        defer { observability?.stop() }
        observability?.apply(to: &reactorConfiguration)
        do { group = try ReactorGroup(count: configuration.reactors, configuration: reactorConfiguration) } catch {
            throw Failure("cannot start \(configuration.reactors) reactor(s): \(error)")
        }
        defer { group.shutdown() }
        let baseline = group.auditBaseline()
        var engineConfiguration = DNSQueryEngine.Configuration()
        engineConfiguration.timeout = configuration.timeout
        engineConfiguration.segmentOffload = configuration.segmentOffload
        engineConfiguration.receiveCoalescing = configuration.receiveCoalescing
        engineConfiguration.localAddresses = try configuration.sourceAddresses()
        engineConfiguration.metricsFactory = observability?.factory
        engineConfiguration.logger = observability?.logger
        engineConfiguration.transport = configuration.transport
        engineConfiguration.connectionsPerServer = configuration.connections
        engineConfiguration.tlsCAFile = configuration.tlsCAFile
        engineConfiguration.tlsVerifiesPeer = configuration.tlsVerifiesPeer
        engineConfiguration.tlsServerName = configuration.tlsServerName
        engineConfiguration.dohPath = configuration.dohPath
        engineConfiguration.dohMethod = configuration.dohMethod
        // engines[reactor][server]
        let engineSets = group.reactors.map { reactor in
            addresses.map { address in
                var own = engineConfiguration
                own.servers = [address]
                return DNSQueryEngine(reactor: reactor, configuration: own)
            }
        }
        let engines = engineSets.flatMap { $0 }

        for (index, server) in servers.enumerated() {
            guard let failure = probe(engineSets[0][index], with: requests[0]) else { continue }
            for engine in engines { engine.shutdown() }
            throw Failure("\(server) did not answer a probe query for \(configuration.queries[0].name): \(failure)"
                + "; is a DNS server listening there?", serverDidNotAnswer: true)
        }
        waitForStart(configuration)
        let plan = QueryLoadPlan(configuration: configuration, requests: requests)
        // shards[reactor * servers + server]
        let recorder = LoadRecorder(shards: configuration.reactors * servers.count,
                                    epochSeconds: Date().timeIntervalSince1970, interval: configuration.interval)
        let drivers = group.reactors.indices.map { index in
            QueryLoadDriver(plan: plan, reactor: group.reactors[index], engines: engineSets[index],
                            shards: Array(recorder.shards[(index * servers.count)..<((index + 1) * servers.count)]),
                            index: index)
        }
        let scans = try configuration.scanJobs > 0
            ? ScanLoadPlan(configuration: configuration, canceller: plan.canceller) : nil
        let jobs = try (0..<configuration.scanJobs).map { index throws(Failure) in
            let reactor = index % drivers.count
            return try ScanJob(plan: scans!, reactor: group.reactors[reactor],
                               shard: recorder.shards[reactor * servers.count],
                               index: index)
        }
        let reporter = LiveReporter(recorder: recorder, quiet: configuration.quiet) {
            max(0, plan.started - recorder.completedQueries)
        }
        configuration.metrics?.startPublishing(recorder: recorder) { plan.started }
        let before = ProcessUsage.now()
        let begin = MonotonicClock.now()
        plan.begin(at: begin)
        configuration.stopSwitch?.onPull { plan.stopStarting() }
        for driver in drivers { driver.reactor.execute { driver.begin() } }
        for job in jobs { job.begin() }
        for _ in drivers { plan.driverFinished.wait() }
        scans?.stop()
        while (scans?.finishedJobs.load(ordering: .acquiring) ?? 0) < jobs.count { usleep(1000) }
        let seconds = Double(MonotonicClock.now() - begin) / 1e9
        let after = ProcessUsage.now()
        reporter.stop(recorder: recorder, outstanding: 0)
        plan.canceller.stop()
        let counters = engines.map { $0.counters() }
        func total(_ field: KeyPath<DNSQueryCounters, Int>) -> Int { counters.reduce(0) { $0 + $1[keyPath: field] } }
        for engine in engines { engine.shutdown() }
        let sent = plan.started
        var audit = group.audit(since: baseline, ledger: plan.ledger, started: sent)
        if let scans {
            audit.doubleCompletions += scans.ledger.doubleCompletions
            audit.missed += scans.ledger.missed(started: scans.started)
        }
        configuration.metrics?.finish(recorder: recorder, started: sent, audit: audit)
        var report = assemble(engine: "evquery", server: servers.joined(separator: ", "), configuration: configuration,
                              recorder: recorder,
                              seconds: seconds, sent: sent, usage: (before, after), audit: audit)
        report.repliesDropped = [
            "wrong_id": total(\.droppedWrongID), "wrong_question": total(\.droppedWrongQuestion),
            "wrong_opcode": total(\.droppedWrongOpcode),
            "malformed": total(\.droppedMalformed), "late": total(\.droppedLate), "duplicate": total(\.droppedDuplicate),
        ]
        report.sends = ["udp": total(\.sentUDP), "segmented": total(\.sentSegmented), "tcp": total(\.sentTCP),
                        "replies_coalesced": total(\.repliesCoalesced)]
        report.transport = configuration.transport == .tls ? "dot" : configuration.transport.rawValue
        if configuration.transport.isStream {
            report.connections = [
                "opened": total(\.connectionsOpened), "closed": total(\.connectionsClosed),
                "reconnects": total(\.reconnects), "failures": total(\.connectionsFailed),
                "tls_handshakes": total(\.tlsHandshakes), "tls_resumed": total(\.tlsResumed),
                "tls_failures": total(\.tlsFailures),
            ]
            if configuration.transport == .doh {
                report.connections?["stream_resets"] = total(\.streamResets)
                report.connections?["doh_refused"] = total(\.dohRefused)
                report.connections?["goaways"] = total(\.goaways)
            }
        }
        if let scans { report.outcomes.merge(scans.outcomes) { $1 } }
        if servers.count > 1 {
            report.servers = servers.enumerated().map { index, server in
                LoadReport.ServerRow(server: server, totals: recorder.totals(of: recorder.shards.indices
                    .filter { $0 % servers.count == index }.map { recorder.shards[$0] }))
            }
        }
        return (report, recorder)
    }
}

extension LoadRun {
    /// Asks one query before the load (1 s, 2 attempts) so that a wrong or silent server is a clear
    /// error, not a run of timeouts. Returns the failure, or nil if any reply came back.
    static func probe(_ engine: DNSQueryEngine, with request: DNSQueryRequest) -> DNSQueryError? {
        var probe = request
        probe.timeout = .seconds(1)
        probe.attempts = 2
        let outcome = Locked<DNSQueryOutcome?>(nil)
        engine.start(probe) { result in outcome.withLock { $0 = result } }
        while true {
            switch outcome.withLock({ $0 }) {
            case nil: usleep(1000)
            case .success, .failure(.serverFailure): return nil
            case .failure(let error): return error
            }
        }
    }
}

/// What every driver of one run shares: the workload, the query numbering, the ledger, the stop rules.
final class QueryLoadPlan: Sendable {
    let configuration: LoadConfiguration
    let requests: [DNSQueryRequest]
    /// Counts each query's completions by its number, independently of the reactors.
    let ledger: CompletionLedger
    /// Signalled once by each driver when it has stopped issuing and drained (the run waits on it).
    let driverFinished = DispatchSemaphore(value: 0)
    let canceller = CancelScheduler()
    // Raw atomic words (each query claims its number here): a `ManagedAtomic`'s storage address is
    // a call that is not inlined across modules, two per query.
    private let nextNumber = UnsafeAtomic<Int>.create(0)
    private let limit: Int
    private let deadline = UnsafeAtomic<UInt64>.create(.max)

    /// The most queries one run numbers (its ledger is 4 bytes a query, touched only as used).
    static let maxQueries = 1 << 28

    init(configuration: LoadConfiguration, requests: [DNSQueryRequest]) {
        self.configuration = configuration
        self.requests = requests
        limit = min(configuration.maxQueries ?? Self.maxQueries, Self.maxQueries)
        ledger = CompletionLedger(capacity: limit)
    }

    deinit {
        nextNumber.destroy()
        deadline.destroy()
    }

    /// Starts the clock: no query is numbered after `start + duration`.
    func begin(at start: UInt64) {
        deadline.store(start &+ configuration.duration.clampedNanoseconds, ordering: .relaxed)
    }

    /// Ends the run's time now (from any thread): no query is numbered after this.
    func stopStarting() {
        deadline.store(0, ordering: .relaxed)
    }

    /// The next query's number, or nil once the run's time or count is over.
    func claim(now: UInt64) -> Int? {
        guard now < deadline.load(ordering: .relaxed) else { return nil }
        let number = nextNumber.loadThenWrappingIncrement(ordering: .relaxed)
        return number < limit ? number : nil
    }

    /// How many queries were started.
    var started: Int { min(nextNumber.load(ordering: .relaxed), limit) }
}

/// One reactor's share of a load run. Loop-bound: every member is used only on `reactor`'s
/// thread (it is `@unchecked Sendable` so that completions and `execute` can carry it there), so
/// the fields touched per query skip the dynamic exclusivity check (a thread-local lookup each).
final class QueryLoadDriver: DNSQueryCompletionTarget, @unchecked Sendable {
    let reactor: Reactor
    private let plan: QueryLoadPlan
    /// `plan.ledger`, held here: reached through the plan, each record retained and released it.
    private let ledger: CompletionLedger
    /// One engine and one shard per server: query number n goes to server n mod their count.
    private let engines: [DNSQueryEngine]
    private let shards: [LoadRecorder.Shard]
    @exclusivity(unchecked) private var rng: SplitMix64
    /// Closed loop: this driver's share of the outstanding count.
    private let quota: Int
    /// Open loop (and a capped closed loop): nanoseconds between this driver's intended sends, and
    /// the next intended send.
    @exclusivity(unchecked) private var interval: Double
    @exclusivity(unchecked) private var nextIntended = 0.0
    /// A ramp: this driver's rate rises by `rampSlope` q/s each second until `rampEnd` (nanoseconds
    /// after `origin`); `startRate` is its share of `--rate`.
    private let startRate: Double
    private let rampSlope: Double
    private let rampEnd: Double
    /// A closed loop capped by `--max-rate`: whether the pacer is armed to fill the loop later.
    private let capped: Bool
    @exclusivity(unchecked) private var pacerArmed = false
    /// When `begin` ran: intended send times travel in each query's tag relative to it.
    private var origin: UInt64 = 0
    @exclusivity(unchecked) private var inFlight = 0
    @exclusivity(unchecked) private var issuing = true
    @exclusivity(unchecked) private var reportedDone = false
    /// Loop-side cancel timers by query number, so a query that ends first takes its timer with it.
    @exclusivity(unchecked) private var cancelTimers: [Int: OperationHandle] = [:]
    /// From the configuration, read once (the hot path never copies the configuration).
    private let cancelDraw: CancelDraw?
    private let closedLoop: Bool

    init(plan: QueryLoadPlan, reactor: Reactor, engines: [DNSQueryEngine], shards: [LoadRecorder.Shard], index: Int) {
        let configuration = plan.configuration
        let reactors = configuration.reactors
        self.plan = plan
        ledger = plan.ledger
        self.reactor = reactor
        self.engines = engines
        self.shards = shards
        rng = SplitMix64(seed: configuration.seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        quota = configuration.outstanding / reactors + (index < configuration.outstanding % reactors ? 1 : 0)
        let startRate = (configuration.rate ?? configuration.maxRate ?? 0) / Double(reactors)
        self.startRate = startRate
        interval = startRate > 0 ? 1e9 / startRate : 0
        let rampSeconds = configuration.rampSeconds ?? configuration.duration.inSeconds
        rampSlope = configuration.rampTo.map { ($0 / Double(reactors) - startRate) / rampSeconds } ?? 0
        rampEnd = rampSeconds * 1e9
        cancelDraw = configuration.cancelDraw
        closedLoop = configuration.rate == nil
        capped = configuration.maxRate != nil
    }

    /// Starts this driver's load: fills its closed loop, or starts its pacer.
    func begin() {
        reactor.preconditionInLoop()
        origin = MonotonicClock.now()
        nextIntended = Double(origin)
        if closedLoop {
            fill(now: origin)
        } else {
            reactor.start(Pacer(driver: self), timeoutNanos: 1)
        }
        finishIfDrained()
    }

    /// Closed loop: starts queries until the quota is in flight or the run is over; `now` is the
    /// caller's clock reading (their send time). Capped (`--max-rate`), it starts one only when its
    /// turn has come, and arms the pacer to come back for the rest.
    private func fill(now: UInt64) {
        guard capped else {
            while issuing && inFlight < quota { issue(intendedAt: now) }
            return
        }
        // A loop that fell idle does not bank its unused turns: at most one interval's burst.
        nextIntended = max(nextIntended, Double(now) - interval)
        while issuing && inFlight < quota && nextIntended <= Double(now) {
            issue(intendedAt: now)
            nextIntended += interval
        }
        if issuing && inFlight < quota && !pacerArmed {
            pacerArmed = true
            reactor.start(Pacer(driver: self), timeoutNanos: max(1, untilNextSend))
        }
    }

    /// Open loop: starts every query whose intended send time has come; a capped closed loop: fills
    /// it. Returns whether to go on.
    fileprivate func pace() -> Bool {
        let clock = MonotonicClock.now()
        if closedLoop {
            fill(now: clock)  // the pacer is armed (`pacerArmed`): this one, if it goes on
            pacerArmed = issuing && inFlight < quota
            finishIfDrained()
            return pacerArmed
        }
        let now = Double(clock)
        if issuing && nextIntended <= now { shards[0].recordLag(UInt64(now - nextIntended), intended: UInt64(nextIntended)) }
        while issuing && nextIntended <= now {
            issue(intendedAt: UInt64(nextIntended))
            if rampSlope != 0 {
                let elapsed = min(nextIntended - Double(origin), rampEnd)
                interval = 1e9 / max(startRate + rampSlope * elapsed / 1e9, 0.001)
            }
            nextIntended += interval
        }
        finishIfDrained()
        return issuing
    }

    /// Nanoseconds until the next intended send.
    fileprivate var untilNextSend: UInt64 { UInt64(max(0, nextIntended - Double(MonotonicClock.now()))) }

    private func issue(intendedAt: UInt64) {
        // A query whose intended time is before the deadline is part of the run.
        guard let number = plan.claim(now: intendedAt) else {
            issuing = false
            return
        }
        inFlight += 1
        let handle = engines[server(of: number)].start(plan.requests[number % plan.requests.count],
                                                       tag: tag(number, intendedAt: intendedAt),
                                  target: self)
        guard let (delay, fromLoop) = cancelDraw?.next(using: &rng) else { return }
        if fromLoop {
            cancelTimers[number] = reactor.startTimer(afterNanos: delay) { [self] outcome in
                cancelTimers[number] = nil
                if case .completed = outcome { handle.cancel() }
                finishIfDrained()
            }
        } else {
            plan.canceller.schedule(at: MonotonicClock.now() &+ delay) { handle.cancel() }
        }
    }

    // A query's tag: its number in the low 28 bits (`QueryLoadPlan.maxQueries`), and its intended send
    // time, as 64 ns ticks since `origin`, in the high 36. Latencies are taken modulo the 2^42 ns
    // (73 minutes) the ticks span, so a run of any length measures them right, at most 63 ns high.
    private static let numberBits = QueryLoadPlan.maxQueries.trailingZeroBitCount
    private static let tickShift = 6
    private static let offsetMask: UInt64 = (1 << (64 - numberBits + tickShift)) - 1

    private func tag(_ number: Int, intendedAt: UInt64) -> UInt64 {
        UInt64(number) | ((intendedAt &- origin) >> Self.tickShift) << Self.numberBits
    }

    /// A query ended: on the loop, which read the clock as the reply's batch arrived (`loopTime`).
    func queryCompleted(tag: UInt64, _ outcome: DNSQueryOutcome) {
        let now = reactor.loopTime
        let number = Int(tag & (1 << Self.numberBits - 1))
        let intendedOffset = (tag >> Self.numberBits) << Self.tickShift
        let latency = (now &- origin &- intendedOffset) & Self.offsetMask
        // A send intended after `now` (never expected: the loop clock only moves on) counts as 0.
        completed(number, latencyNanos: latency > Self.offsetMask / 2 ? 0 : latency, now: now, outcome)
    }

    private func completed(_ number: Int, latencyNanos: UInt64, now: UInt64, _ outcome: DNSQueryOutcome) {
        ledger.record(number)
        let kind: LoadOutcome
        var rcode: UInt16?
        switch outcome {
        case .success(let result):
            rcode = result.rcode.rawValue
            kind = LoadOutcome(rcode: rcode!, answers: Int(result.summary.answerCount))
        case .failure(.serverFailure(let code)):
            rcode = code.rawValue
            kind = LoadOutcome(rcode: rcode!, answers: 0)
        case .failure(let error):
            kind = LoadOutcome(error)
            if case .cancelled(let info) = error, info.reason == .caller {
                // The clock itself, not the batch's `now`: a cancel's completion can run in the same
                // callback as the cancel, before the loop clock moves on.
                let cancelEnded = MonotonicClock.now()
                shards[server(of: number)].recordCancel(latencyNanos: cancelEnded > info.requestedAt ? cancelEnded - info.requestedAt : 0,
                                   origin: info.origin, kind: .dns)
            }
        }
        shards[server(of: number)].recordQuery(latencyNanos: latencyNanos, outcome: kind, rcode: rcode, at: now)
        if !cancelTimers.isEmpty, let timer = cancelTimers.removeValue(forKey: number) { timer.cancel() }
        inFlight -= 1
        if closedLoop { fill(now: now) }
        finishIfDrained()
    }

    /// The server query `number` goes to (no division with one server).
    private func server(of number: Int) -> Int {
        engines.count == 1 ? 0 : number % engines.count
    }

    private func finishIfDrained() {
        guard !issuing, inFlight == 0, cancelTimers.isEmpty, !pacerArmed, !reportedDone else { return }
        reportedDone = true
        plan.driverFinished.signal()
    }

    /// The pacer: the open loop's clock, one operation for the whole run, re-armed for each intended
    /// send; in a closed loop capped by `--max-rate`, armed while the loop waits for its next turn.
    private final class Pacer: OperationBody {
        private let driver: QueryLoadDriver

        init(driver: QueryLoadDriver) { self.driver = driver }

        func timerFired(_ operation: OperationHandle, on reactor: Reactor) {
            if driver.pace() {
                reactor.setTimer(operation, afterNanos: max(1, driver.untilNextSend))
            } else {
                _ = reactor.finish(operation)
            }
        }

        func end(_ operation: OperationHandle, with ending: OperationEnding, on reactor: Reactor) {}
    }
}

extension LoadOutcome {
    /// The report's category for a DNSQuery error.
    init(_ error: DNSQueryError) {
        switch error {
        case .timeout: self = .timeout
        case .serverFailure(let rcode): self = LoadOutcome(rcode: rcode.rawValue, answers: 0)
        case .malformedReply: self = .malformed
        case .network, .connectionFailed: self = .networkError
        case .limitReached: self = .limitReached
        case .cancelled: self = .cancelled
        case .invalidName: self = .error
        }
    }
}

extension QueryFlags {
    /// Sets these flags on a query's options.
    func apply(to options: inout DNSQueryOptions) {
        options.dnssecOK = dnssecOK
        options.checkingDisabled = checkingDisabled
        options.randomizeCase = randomizeCase
        if let ednsSize { options.ednsPayloadSize = ednsSize }
        if noEDNS { options.ednsPayloadSize = nil }
    }
}
