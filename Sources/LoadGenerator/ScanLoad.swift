import Atomics
import EventReactor
import LogQuery

/// The log-scan jobs of a mixed load (`--scan-jobs N --scan-file F`): each job is a `LogQuery` on
/// one of the run's reactors that fetches `next` batches to the end of the file, seeks back to the
/// first record and goes on, until the DNS part of the run is over. Cancels are injected into its
/// pending operations like into the queries, so cancel latency is measured per kind under a mixed
/// load. Every `next` and `seek` is numbered in a ledger of its own for the audit.
final class ScanLoadPlan: Sendable {
    let configuration: LoadConfiguration
    let filter: LogFilter
    let canceller: CancelScheduler
    /// Counts each scan operation's completions by its number.
    let ledger = CompletionLedger(capacity: maxOperations)
    /// Jobs that stopped and closed their query.
    let finishedJobs = ManagedAtomic<Int>(0)
    let records = ManagedAtomic<Int>(0)
    let batches = ManagedAtomic<Int>(0)
    let passes = ManagedAtomic<Int>(0)
    let cancelled = ManagedAtomic<Int>(0)
    let errors = ManagedAtomic<Int>(0)
    private let over = ManagedAtomic<Bool>(false)
    private let nextNumber = ManagedAtomic<Int>(0)

    /// The most scan operations one run numbers.
    static let maxOperations = 1 << 24

    /// - Throws: `LoadRun.Failure` for a filter that does not compile (with its position).
    init(configuration: LoadConfiguration, canceller: CancelScheduler) throws(LoadRun.Failure) {
        self.configuration = configuration
        self.canceller = canceller
        do {
            filter = try configuration.scanFilter.map { try LogFilter($0) } ?? .all
        } catch { throw LoadRun.Failure("--scan-filter: \(error)") }
    }

    /// The next operation's number, or nil once the run is over (or the ledger is full).
    func claim() -> Int? {
        guard !over.load(ordering: .relaxed) else { return nil }
        let number = nextNumber.loadThenWrappingIncrement(ordering: .relaxed)
        return number < Self.maxOperations ? number : nil
    }

    /// Tells every job to stop after its pending operation.
    func stop() { over.store(true, ordering: .relaxed) }

    /// How many scan operations were started.
    var started: Int { min(nextNumber.load(ordering: .relaxed), Self.maxOperations) }

    /// The report's scan outcomes.
    var outcomes: [String: Int] {
        ["scan_records": records.load(ordering: .relaxed), "scan_batches": batches.load(ordering: .relaxed),
         "scan_passes": passes.load(ordering: .relaxed), "scan_cancelled": cancelled.load(ordering: .relaxed),
         "scan_errors": errors.load(ordering: .relaxed)]
    }
}

/// One scan job. Loop-bound: every member is used only on its query's reactor thread
/// (`@unchecked Sendable` so that completions can carry it there).
final class ScanJob: @unchecked Sendable {
    /// Records asked for in one `next`.
    static let batch = 512

    private let plan: ScanLoadPlan
    private let query: LogQuery
    private let shard: LoadRecorder.Shard
    private var rng: SplitMix64
    private let cancelDraw: CancelDraw?
    /// The loop-side cancel timer aimed at the pending operation, and how many timers are still
    /// to complete (a cancelled timer still completes once).
    private var cancelTimer: OperationHandle?
    private var timersPending = 0
    private var closed = false
    private var reportedDone = false

    /// Opens the job's query on `reactor`.
    /// - Throws: `LoadRun.Failure` if the file cannot be opened.
    init(plan: ScanLoadPlan, reactor: Reactor, shard: LoadRecorder.Shard, index: Int) throws(LoadRun.Failure) {
        self.plan = plan
        self.shard = shard
        rng = SplitMix64(seed: plan.configuration.seed ^ 0x5CA4_0000 &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        cancelDraw = plan.configuration.cancelDraw
        let path = plan.configuration.scanFile ?? ""
        do {
            query = try LogQuery.open(path: path, filter: plan.filter, on: reactor)
        } catch { throw LoadRun.Failure("--scan-file \(path): \(error)") }
    }

    /// Starts the job (any thread: its operations complete on the query's reactor).
    func begin() { query.reactor.execute { [self] in step(rewind: false) } }

    private func step(rewind: Bool) {
        guard let number = plan.claim() else { return finish() }
        let handle: OperationHandle
        if rewind {
            handle = query.seek(to: .first) { [self] result in
                ended(number, result.map { _ in 0 }, rewound: true)
            }
        } else {
            handle = query.next(max: Self.batch) { [self] result in ended(number, result.map(\.count), rewound: false) }
        }
        guard let (delay, fromLoop) = cancelDraw?.next(using: &rng) else { return }
        if fromLoop {
            timersPending += 1
            cancelTimer = query.reactor.startTimer(afterNanos: delay) { [self] outcome in
                timersPending -= 1
                if case .completed = outcome { handle.cancel() }
                if closed { finish() }
            }
        } else {
            plan.canceller.schedule(at: MonotonicClock.now() &+ delay) { handle.cancel() }
        }
    }

    private func ended(_ number: Int, _ result: Result<Int, LogQueryError>, rewound: Bool) {
        let now = MonotonicClock.now()
        plan.ledger.record(number)
        cancelTimer?.cancel()
        cancelTimer = nil
        var rewind = false
        switch result {
        case .success(let count):
            if rewound {
                plan.passes.wrappingIncrement(ordering: .relaxed)
            } else {
                plan.records.wrappingIncrement(by: count, ordering: .relaxed)
                plan.batches.wrappingIncrement(ordering: .relaxed)
            }
        case .failure(.noMoreItems):
            rewind = true
        case .failure(.cancelled(let info)):
            plan.cancelled.wrappingIncrement(ordering: .relaxed)
            if info.reason == .caller {
                shard.recordCancel(latencyNanos: now &- info.requestedAt, origin: info.origin, kind: .scan)
            }
            // A cancelled seek is asked again; a cancelled next just goes on.
            rewind = rewound
        case .failure:
            plan.errors.wrappingIncrement(ordering: .relaxed)
            rewind = true
        }
        step(rewind: rewind)
    }

    /// Closes the query, and counts the job finished once no cancel timer of it is left.
    private func finish() {
        if !closed {
            closed = true
            query.close()
        }
        guard timersPending == 0, !reportedDone else { return }
        reportedDone = true
        plan.finishedJobs.wrappingIncrement(ordering: .releasing)
    }
}
