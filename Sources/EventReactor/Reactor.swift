import CLibevent
import CoreMetrics
import Dispatch
import LinuxSystem
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// One libevent `event_base` (epoll) driven by one thread, and the operations that live on it.
///
/// Thread affinity: every operation's state is touched only on the reactor's thread. Methods marked
/// "any thread" may be called from anywhere; all others must run on the reactor thread
/// (`preconditionInLoop()` checks it). Other threads reach the loop through the inbox: one lock-free
/// fast path when the loop is awake, and one `eventfd` write when it sleeps.
///
/// The operation contract (docs/design.md): every started operation ends with exactly one
/// call of its completion; completions run on this thread and never inside the call that started or
/// cancelled the operation; `cancel()` works from any thread; every event an operation owned is off
/// the loop before its completion runs; `shutdown()` completes everything pending.
public final class Reactor: @unchecked Sendable {
    /// How a reactor is set up.
    public struct Configuration: Sendable {
        /// The most operations in flight at once; a start beyond it completes with `.limitReached`.
        /// Memory for the table is reserved, not touched, up front (16 bytes a slot).
        public var maxOperations: Int = 1 << 21
        /// Spin this long (polling without blocking) before the loop sleeps in epoll; 0 turns it off.
        /// Buys cross-thread wake-up latency with CPU.
        public var busyPoll: Duration {
            get { .nanoseconds(Int64(clamping: busyPollNanos)) }
            set { busyPollNanos = newValue.clampedNanoseconds }
        }
        /// `busyPoll` in nanoseconds, as the loop reads it.
        package var busyPollNanos: UInt64 = 0
        /// Ask libevent for microsecond timers (`EVENT_BASE_FLAG_PRECISE_TIMER`, a timerfd) instead of
        /// epoll's millisecond timeout.
        public var preciseTimers: Bool = false
        /// The loop thread's name (for `top -H`, debuggers); also the `reactor` dimension of its metrics.
        public var name: String = "evq-reactor"
        /// Where the reactor, and the engines on it unless they name their own, log (swift-log).
        /// The default discards everything at the cost of one level check per event; nothing is
        /// logged per operation above `.trace`.
        public var logger = Logger(label: "evquery.reactor", factory: { _ in SwiftLogNoOpLogHandler() })
        /// The swift-metrics backend the reactor publishes to (operations started, completed,
        /// cancelled and rejected; in flight; events; timer lag; loop turns, callbacks and callbacks
        /// per turn; the longest stall and the deepest inbox since the last publish), every
        /// `metricsInterval`, from a queue of its own: the loop only counts, and takes a snapshot.
        /// nil (the default): no metrics, no timer.
        public var metricsFactory: (any MetricsFactory)?
        /// How often the loop hands its figures to the metrics backend (100 ms).
        public var metricsInterval: Duration {
            get { .nanoseconds(Int64(clamping: metricsIntervalNanos)) }
            set { metricsIntervalNanos = newValue.clampedNanoseconds }
        }
        /// `metricsInterval` in nanoseconds.
        package var metricsIntervalNanos: UInt64 = 100_000_000

        /// The defaults: 2 Mi operations, no busy-poll, millisecond timers.
        public init() {}
    }

    let base: EventBase
    let configuration: Configuration
    /// Live counters, readable from any thread.
    public let counters = ReactorCounters()
    /// Callbacks per turn, the longest stall, the deepest inbox: the loop's own figures. Loop-bound.
    let turns = LoopTurns()
    let table: OperationTable
    private let inbox: Inbox
    private let timers: TimerHeap
    private var timerEvent: LibeventEvent?
    private var wakeEvent: LibeventEvent?
    private var armedDeadline = UInt64.max
    private var deferred: [ReactorJob] = []
    private var deferredBatch: [ReactorJob] = []
    private var drained: [ReactorJob] = []
    private var stopping = false
    private var loopThread = pthread_t()
    private let lifecycle = LifecycleLatch()
    /// The metrics timer (nil without a metrics factory) and its publisher. Loop-bound.
    private var metricsTicker: LoopTicker?
    var metricsPublisher: (any Sendable)?

    /// Starts a reactor and its thread. Any thread.
    /// - Throws: `ReactorError` if libevent cannot give an epoll base, the eventfd fails, or the
    ///   operation table (`maxOperations` slots) cannot be reserved (`systemCall`, ENOMEM).
    public init(configuration: Configuration = Configuration()) throws(ReactorError) {
        self.configuration = configuration
        base = try EventBase(preciseTimers: configuration.preciseTimers)
        inbox = try Inbox()
        table = try OperationTable(capacity: configuration.maxOperations)
        timers = TimerHeap(slots: table.slots)
        startThread()
    }

    // MARK: Thread affinity

    /// Whether the caller runs on this reactor's thread. Any thread.
    @inline(__always)
    public var inLoop: Bool { pthread_equal(pthread_self(), loopThread) != 0 }

    /// The loop's clock (`MonotonicClock` ns), read as each libevent callback starts, when timers
    /// fire, and before the loop runs its inbox and deferred jobs between turns: work on the loop
    /// that needs "now" for deadlines, timers and quarantines reads it instead of the clock
    /// (libevent's cached time, `event_base_gettimeofday_cached`). It lags the clock by at most
    /// the run time of the work in progress. Reactor thread only.
    @inlinable
    public var loopTime: UInt64 {
        assertInLoop()
        return loopClock.pointee
    }
    /// Where `loopTime` lives: a word of its own, so that reading it from the modules above is an
    /// inlined load, not a call or a dynamically checked access to a class property.
    @usableFromInline let loopClock: UnsafeMutablePointer<UInt64> = {
        let word = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)
        word.initialize(to: MonotonicClock.now())
        return word
    }()

    /// Reads the clock into `loopTime`: the trampoline calls it before each callback, and an engine
    /// may call it where a callback moves on to new input (DNSQuery, after each batch it reads).
    /// Reactor thread only.
    @inline(__always)
    package func refreshLoopTime() {
        assertInLoop()
        loopClock.pointee = MonotonicClock.now()
    }

    /// A libevent callback starts: reads the clock into `loopTime`, and the first callback of a loop
    /// turn opens the turn (`LoopTurns`). The trampoline calls it. Reactor thread only.
    @inline(__always)
    func callbackStarting() {
        assertInLoop()
        let now = MonotonicClock.now()
        loopClock.pointee = now
        turns.callbackStarted(at: now)
    }

    /// `loopTime` on the reactor thread, the clock on any other.
    @inlinable
    public var now: UInt64 { inLoop ? loopTime : MonotonicClock.now() }

    /// Whether the loop has stopped for good (after `shutdown()`). Any thread.
    public var hasStopped: Bool { lifecycle.isStopped }

    /// Traps unless called on the reactor's thread.
    public func preconditionInLoop(file: StaticString = #fileID, line: UInt = #line) {
        precondition(inLoop, "must be called on the reactor thread", file: file, line: line)
    }

    /// Traps in debug builds unless called on the reactor's thread.
    @inline(__always)
    public func assertInLoop(file: StaticString = #fileID, line: UInt = #line) {
        assert(inLoop, "must be called on the reactor thread", file: file, line: line)
    }

    // MARK: Operations

    /// Starts an operation. Any thread; returns at once.
    ///
    /// The operation is installed on the loop (its timer armed, `body.attach` called) directly when
    /// called on the reactor thread, else through the inbox. A start beyond `maxOperations` or after
    /// shutdown still returns a handle, and its completion runs once with `.rejected(…)`, on the loop
    /// (after shutdown, on a global queue, since the loop is gone).
    /// - Parameters:
    ///   - body: what the operation does on the loop.
    ///   - timeout: arms the operation's timer that long from now.
    /// - Returns: the handle to cancel it with.
    @discardableResult
    public func start(_ body: any OperationBody, timeout: Duration? = nil) -> OperationHandle {
        start(body, timeoutNanos: timeout?.clampedNanoseconds, onLoop: inLoop)
    }

    /// `start(_:timeout:)` with the timeout in nanoseconds.
    @discardableResult
    package func start(_ body: any OperationBody, timeoutNanos: UInt64?) -> OperationHandle {
        start(body, timeoutNanos: timeoutNanos, onLoop: inLoop)
    }

    /// `start` by a caller that knows it runs on the loop thread (the thread check is its). Loop only.
    package func startOnLoop(_ body: any OperationBody, timeoutNanos: UInt64? = nil) -> OperationHandle {
        assertInLoop()
        return start(body, timeoutNanos: timeoutNanos, onLoop: true)
    }

    private func start(_ body: any OperationBody, timeoutNanos: UInt64?, onLoop: Bool) -> OperationHandle {
        counters.started.wrappingIncrement(ordering: .relaxed)
        guard let (slot, generation) = table.allocate(body: body, onLoop: onLoop) else {
            return reject(body, table.isClosed ? ReactorError(.shutDown) :
                ReactorError(.limitReached, "maxOperations \(configuration.maxOperations)"))
        }
        let handle = OperationHandle(reactor: self, slot: slot, generation: generation)
        // On the loop, at least 1 ns past `loopTime`: a timer started inside `timersExpired` (where
        // now == loopTime) then waits for the next turn instead of firing in the same pass.
        let deadline = timeoutNanos.map { onLoop ? loopTime &+ max($0, 1) : MonotonicClock.now() &+ $0 } ?? 0
        if onLoop {
            // Just allocated on this thread: the gate is pending and the slot holds `body`.
            install(body, handle, deadline: deadline)
        } else {
            post(.install(slot: slot, generation: generation, deadline: deadline))
        }
        return handle
    }

    private func reject(_ body: any OperationBody, _ error: ReactorError) -> OperationHandle {
        counters.rejected.wrappingIncrement(ordering: .relaxed)
        let handle = OperationHandle(reactor: self, slot: .max, generation: 0)
        let job = ReactorJob.reject(body: body, handle: handle, ending: .rejected(error))
        if inLoop && !table.isClosed { deferred.append(job) } else { post(job) }
        return handle
    }

    /// Arms the operation's timer (a `deadline` of 0: none) and attaches its body; its gate is pending.
    private func install(_ body: any OperationBody, _ operation: OperationHandle, deadline: UInt64) {
        if deadline != 0 { schedule(slot: operation.slot, generation: operation.generation, deadline: deadline) }
        body.attach(operation, to: self)
    }

    /// Closes the operation's gate for a normal ending (a result or an error found by its body).
    /// Reactor thread only.
    ///
    /// Returns true for the one path that wins: the operation's timer is removed, its slot freed, and
    /// the caller must now release its own events and run the completion. Returns false when a
    /// cancel (or an earlier finish) already won; the caller must then do nothing.
    public func finish(_ operation: OperationHandle) -> Bool {
        finish(slot: operation.slot, generation: operation.generation) != nil
    }

    /// `finish` by the handle's parts, for a body that keeps only its slot and generation (no
    /// handle, so no reference to the reactor, is made per call). Reactor thread only.
    ///
    /// Returns the body the slot held when this path wins (nil when it lost): the reactor's
    /// reference moves to the caller, so a body called through an unretained reference stays alive
    /// while it completes and is freed when the caller drops the returned value.
    package func finish(slot: UInt32, generation: UInt32) -> (any OperationBody)? {
        assertInLoop()
        guard slot != .max, table.close(slot, generation: generation, to: .finishing) else { return nil }
        unschedule(slot: slot)
        let body = table.release(slot, generation: generation)
        counters.completed.wrappingIncrement(ordering: .relaxed)
        return body
    }

    /// Whether the operation is still open (no path has won its gate yet). Any thread.
    public func isPending(_ operation: OperationHandle) -> Bool {
        isPending(slot: operation.slot, generation: operation.generation)
    }

    /// `isPending` by the handle's parts. Any thread.
    package func isPending(slot: UInt32, generation: UInt32) -> Bool {
        slot != .max && table.gateWord(slot) == OperationTable.word(generation, .pending)
    }

    /// Cancels one operation. Any thread; returns at once; see `OperationHandle.cancel()`.
    @discardableResult
    public func cancel(_ operation: OperationHandle, reason: CancelReason) -> CancelResult {
        let requestedAt = MonotonicClock.now()
        guard operation.reactor === self, operation.slot != .max, Int(operation.slot) < table.capacity else {
            return operation.slot == .max ? .alreadyCompleted : .unknown
        }
        guard table.close(operation.slot, generation: operation.generation, to: .cancelling) else {
            counters.cancelsLost.wrappingIncrement(ordering: .relaxed)
            return table.classify(operation.slot, generation: operation.generation)
        }
        counters.cancelsWon.wrappingIncrement(ordering: .relaxed)
        let here = inLoop
        let info = CancelInfo(reason: reason, origin: here ? .loop : .thread, requestedAt: requestedAt)
        let job = ReactorJob.end(slot: operation.slot, generation: operation.generation, info: info)
        if here { deferred.append(job) } else { post(job) }
        return .cancelled
    }

    /// Cancels every operation pending now, like `EvtCancel(NULL)`. Any thread; returns at once.
    /// Each operation it catches completes once with `cancelled(cancelAll)`.
    public func cancelAll() {
        let info = CancelInfo(reason: .cancelAll, origin: inLoop ? .loop : .thread, requestedAt: MonotonicClock.now())
        if inLoop { deferred.append(.cancelAll(info)) } else { post(.cancelAll(info)) }
    }

    /// Runs `work` on the reactor thread on a later loop turn. Any thread.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        if inLoop && !stopping { deferred.append(.run(work)) } else { post(.run(work)) }
    }

    /// Posts a job to the loop; once the loop has exited, runs it on a global queue instead, so that
    /// a rejection or a closure posted during shutdown still runs exactly once.
    private func post(_ job: ReactorJob) {
        guard !inbox.post(job) else { return }
        let box = UncheckedSendableBox(job)
        DispatchQueue.global().async { self.performAfterExit(box.value) }
    }

    private func performAfterExit(_ job: ReactorJob) {
        switch job {
        case .reject(let body, let handle, let ending):
            counters.completed.wrappingIncrement(ordering: .relaxed)
            body.end(handle, with: ending, on: self)
        case .run(let work):
            work()
        case .install, .end, .cancelAll, .shutdown:
            break  // every slot was swept before the loop exited: nothing is pending.
        }
    }

    // MARK: Timers

    /// Arms (or moves) the timer of an open operation to fire `delay` from now. Reactor thread.
    /// When it fires, the reactor calls the body's `timerFired`.
    public func setTimer(_ operation: OperationHandle, after delay: Duration) {
        setTimer(operation, afterNanos: delay.clampedNanoseconds)
    }

    /// `setTimer(_:after:)` in nanoseconds.
    package func setTimer(_ operation: OperationHandle, afterNanos nanos: UInt64) {
        setTimer(slot: operation.slot, generation: operation.generation, afterNanos: nanos)
    }

    /// `setTimer` by the handle's parts. Reactor thread only.
    package func setTimer(slot: UInt32, generation: UInt32, afterNanos nanos: UInt64) {
        assertInLoop()
        guard isPending(slot: slot, generation: generation) else { return }
        // At least 1 ns past `loopTime`, so that a timer re-armed with 0 from its own `timerFired`
        // fires on the next loop turn, not again in the same `timersExpired` pass.
        schedule(slot: slot, generation: generation, deadline: loopTime &+ max(nanos, 1))
    }

    /// Removes the timer of an operation, if armed. Reactor thread.
    public func clearTimer(_ operation: OperationHandle) {
        assertInLoop()
        guard isPending(operation) else { return }
        unschedule(slot: operation.slot)
    }

    /// How many operation timers are armed. Reactor thread.
    public var timerCount: Int {
        assertInLoop()
        return timers.count
    }

    private func schedule(slot: UInt32, generation: UInt32, deadline: UInt64) {
        timers.schedule(slot: slot, generation: generation, deadline: deadline)
        if deadline < armedDeadline { armTimerEvent(for: deadline) }
    }

    /// Removes a slot's timer; when none is left, takes the shared timer event off the loop too.
    private func unschedule(slot: UInt32) {
        timers.remove(slot: slot)
        if timers.count == 0 && armedDeadline != .max {
            timerEvent?.disarm()
            armedDeadline = .max
        }
    }

    private func armTimerEvent(for deadline: UInt64) {
        let now = MonotonicClock.now()
        armedDeadline = deadline
        timerEvent?.arm(timeoutNanos: deadline > now ? deadline - now : 0)
    }

    private func timersExpired() {
        armedDeadline = .max
        refreshLoopTime()
        let now = loopTime
        let table = table
        while let (slot, generation) = timers.popExpired(now: now, generationOf: {
            OperationTable.generation(of: table.gateWord($0))
        }) {
            guard table.gateWord(slot) == OperationTable.word(generation, .pending),
                let body = table.slots[Int(slot)].body
            else { continue }
            body.timerFired(OperationHandle(reactor: self, slot: slot, generation: generation), on: self)
        }
        if timers.count == 0 {
            armedDeadline = .max
        } else if let next = timers.earliest, next < armedDeadline {
            armTimerEvent(for: next)
        }
    }

    // MARK: Ending operations

    private func endCancelled(slot: UInt32, generation: UInt32, info: CancelInfo) {
        guard table.gateWord(slot) == OperationTable.word(generation, .cancelling) else { return }
        unschedule(slot: slot)
        let body = table.release(slot, generation: generation)
        counters.completed.wrappingIncrement(ordering: .relaxed)
        body?.end(OperationHandle(reactor: self, slot: slot, generation: generation), with: .cancelled(info), on: self)
    }

    /// Cancels every pending operation (loop thread), each through its gate.
    private func sweep(_ info: CancelInfo) {
        let highWater = table.highWater
        var caught: [(UInt32, UInt32)] = []
        for slot in 0..<highWater {
            let word = table.gateWord(slot)
            guard table.state(of: word) == .pending else { continue }
            let generation = OperationTable.generation(of: word)
            if table.close(slot, generation: generation, to: .cancelling) {
                counters.cancelsWon.wrappingIncrement(ordering: .relaxed)
                caught.append((slot, generation))
            }
        }
        for (slot, generation) in caught { endCancelled(slot: slot, generation: generation, info: info) }
    }

    private func perform(_ job: ReactorJob) {
        switch job {
        case .install(let slot, let generation, let deadline):
            // Started from another thread: a cancel may have closed the gate since.
            guard table.gateWord(slot) == OperationTable.word(generation, .pending),
                let body = table.slots[Int(slot)].body
            else { return }
            install(body, OperationHandle(reactor: self, slot: slot, generation: generation), deadline: deadline)
        case .end(let slot, let generation, let info):
            endCancelled(slot: slot, generation: generation, info: info)
        case .reject(let body, let handle, let ending):
            counters.completed.wrappingIncrement(ordering: .relaxed)
            body.end(handle, with: ending, on: self)
        case .cancelAll(let info):
            sweep(info)
        case .run(let work):
            work()
        case .shutdown(let info):
            table.closeForever()
            let pending = counters.snapshot.inFlight
            if pending > 0 {
                configuration.logger.info("reactor shutting down: cancelling pending operations", metadata: [
                    "reactor": "\(configuration.name)", "operations": "\(pending)",
                ])
            }
            sweep(info)
            stopping = true
        }
    }

    // MARK: The loop

    /// Runs the jobs other threads posted; false when there were none.
    @discardableResult
    private func drainInbox() -> Bool {
        inbox.take(into: &drained)
        guard !drained.isEmpty else { return false }
        turns.inboxTaken(drained.count)
        for job in drained { perform(job) }
        drained.removeAll(keepingCapacity: true)
        return true
    }

    /// Runs between two libevent callbacks of one loop turn: cross-thread jobs (a cancel from
    /// another thread) and jobs deferred on the loop (starts made by completions) run now rather
    /// than after the whole turn, so a busy turn — sockets draining hundreds of replies — does not
    /// hold them back. One atomic load and one count check when there is nothing to do.
    func afterCallback() {
        if inbox.hasJobs { drainInbox() }
        if !deferred.isEmpty { runDeferred() }
    }

    /// Runs the jobs deferred on the loop, and those they defer; false when there were none.
    @discardableResult
    private func runDeferred() -> Bool {
        guard !deferred.isEmpty else { return false }
        while !deferred.isEmpty {
            swap(&deferred, &deferredBatch)
            for job in deferredBatch { perform(job) }
            deferredBatch.removeAll(keepingCapacity: true)
        }
        return true
    }

    private func runLoop() {
        loopThread = pthread_self()
        // Edge-triggered: every eventfd write is a new edge, so the loop never reads the counter
        // back (one system call less per wake-up); it would take 2^64 writes to fill it.
        let wake = LibeventEvent(
            reactor: self, fd: inbox.eventFD, interest: [.read, .edgeTriggered], persistent: true
        ) { [unowned self] _, _ in
            drainInbox()
        }
        wake.arm()
        wakeEvent = wake
        timerEvent = LibeventEvent(reactor: self, fd: -1, interest: [], persistent: false) { [unowned self] _, _ in
            timersExpired()
        }
        metricsTicker = startMetrics()
        lifecycle.signalStarted()
        let busyPoll = configuration.busyPollNanos
        while true {
            refreshLoopTime()  // the jobs below run outside any libevent callback
            let turnEnd = loopClock.pointee
            turns.turnEnded(at: turnEnd)
            // Jobs found here ran outside a callback (those that came during a turn ran after its
            // callbacks): rare, so the clock read that times them is too.
            let tookJobs = drainInbox()
            if runDeferred() || tookJobs { turns.stall(MonotonicClock.now() &- turnEnd) }
            if stopping { break }
            if busyPoll > 0 && spin(for: busyPoll) { continue }
            if inbox.prepareToSleep() {
                event_base_loop(base.pointer, EVLOOP_ONCE)
                inbox.didWake()
            }
        }
        // Shutdown: nothing can start any more; finish what raced in, then free our events.
        inbox.close(into: &drained)
        for job in drained { perform(job) }
        drained.removeAll()
        runDeferred()
        timerEvent?.free()
        wakeEvent?.free()
        metricsTicker?.free()
        timerEvent = nil
        wakeEvent = nil
        metricsTicker = nil
        publishFinalMetrics()
    }

    /// Polls without blocking for up to `nanos`; true if work arrived.
    private func spin(for nanos: UInt64) -> Bool {
        let until = MonotonicClock.now() &+ nanos
        var now: UInt64
        repeat {
            event_base_loop(base.pointer, EVLOOP_NONBLOCK)
            now = MonotonicClock.now()
            turns.turnEnded(at: now)
            if inbox.hasJobs || !deferred.isEmpty { return true }
        } while now < until
        return false
    }

    private func startThread() {
        let box = Unmanaged.passRetained(self).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { arg in
            let reactor = Unmanaged<Reactor>.fromOpaque(arg!).takeRetainedValue()
            ProcessCalls.setCurrentThreadName(reactor.configuration.name)
            reactor.runLoop()
            reactor.lifecycle.signalStopped()
            return nil
        }, box)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        lifecycle.waitStarted()
        loopThreadForJoin.withLock { $0 = thread }
    }

    /// The loop thread until it is joined or detached, behind a lock: `shutdown()` and
    /// `shutdown() async` may race to reap it.
    private let loopThreadForJoin = Locked<pthread_t?>(nil)

    /// Joins the loop thread once it has stopped (only the first caller joins).
    private func joinLoopThread() {
        loopThreadForJoin.withLock { thread in
            if let joined = thread {
                pthread_join(joined, nil)
                thread = nil
            }
        }
    }

    /// Completes every pending operation with `cancelled(shutdown)`, exactly once, then stops the
    /// loop, joins its thread and frees its events. Idempotent. Call it from any thread but the
    /// reactor's own (from the loop it only requests the stop; the thread then exits by itself).
    public func shutdown() {
        let info = CancelInfo(reason: .shutdown, origin: inLoop ? .loop : .thread, requestedAt: MonotonicClock.now())
        guard lifecycle.beginShutdown() else {
            if !inLoop { lifecycle.waitStopped() }
            return
        }
        if inLoop {
            deferred.append(.shutdown(info))
            return
        }
        _ = inbox.post(.shutdown(info))
        lifecycle.waitStopped()
        joinLoopThread()
    }

    /// `shutdown()` for a task: completes every pending operation with `cancelled(shutdown)`, stops
    /// the loop and returns once its thread has exited, suspending the task rather than blocking a
    /// thread of the cooperative pool. Idempotent, and safe beside `shutdown()` in another thread.
    public func shutdown() async {
        let info = CancelInfo(reason: .shutdown, origin: inLoop ? .loop : .thread, requestedAt: MonotonicClock.now())
        if lifecycle.beginShutdown() {
            if inLoop {
                deferred.append(.shutdown(info))
                return
            }
            _ = inbox.post(.shutdown(info))
        } else if inLoop {
            return
        }
        await lifecycle.stoppedAsync()
        // The thread has signalled its stop and only returns from its start routine now.
        joinLoopThread()
    }

    /// Runs `work` on the loop and waits for its result. Not from the reactor thread.
    public func syncOnLoop<T: Sendable>(_ work: @escaping @Sendable () -> T) -> T {
        precondition(!inLoop, "syncOnLoop from the loop would deadlock")
        let result = ResultBox<T>()
        execute { result.set(work()) }
        return result.wait()
    }

    /// libevent's own count of events added to the base (ours plus its internal ones). Reactor thread.
    public var libeventEventCount: Int {
        assertInLoop()
        return base.addedEventCount
    }

    deinit {
        loopThreadForJoin.withLock { thread in if let detached = thread { pthread_detach(detached) } }
        loopClock.deallocate()
    }
}
