import Atomics
import Dispatch
import EventReactor
import EvqueryTestSupport
import Foundation
import Testing

@Suite("The operation contract")
struct OperationContractTests {
    @Test func timerCompletesOnceOnTheReactorThreadNeverInsideStart() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        try withAudit(reactor, operations: 1) { reactor, ledger in
            let returned = ManagedAtomic<Bool>(false)
            let ranOnLoop = ManagedAtomic<Bool>(false)
            let sawStartReturned = ManagedAtomic<Bool>(false)
            reactor.execute {
                reactor.startTimer(afterNanos: 0) { outcome in
                    guard case .completed = outcome else { return }
                    ranOnLoop.store(reactor.inLoop, ordering: .relaxed)
                    sawStartReturned.store(returned.load(ordering: .relaxed), ordering: .relaxed)
                    ledger.record(0)
                }
                returned.store(true, ordering: .relaxed)
            }
            #expect(eventually { ledger.completions(of: 0) == 1 })
            let ranOnLoopValue = ranOnLoop.load(ordering: .relaxed)
            let sawStartReturnedValue = sawStartReturned.load(ordering: .relaxed)
            #expect(ranOnLoopValue)
            #expect(sawStartReturnedValue)
            return 1
        }
    }

    @Test func cancelBeforeTheTimerFiresCompletesWithCancelledOnce() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        try withAudit(reactor, operations: 1) { reactor, ledger in
            let reason = Locked<CancelInfo?>(nil)
            let handle = reactor.startTimer(afterNanos: 60_000_000_000) { outcome in
                if case .cancelled(let info) = outcome { reason.withLock { $0 = info } }
                ledger.record(0)
            }
            #expect(handle.cancel() == .cancelled)
            #expect(handle.cancel() == .alreadyCompleted)
            #expect(eventually { ledger.completions(of: 0) == 1 })
            let info = reason.withLock { $0 }
            #expect(info?.reason == .caller)
            #expect(info?.origin == .thread)
            return 1
        }
    }

    @Test func staleHandleIsInertAndNeverTouchesTheOperationReusingItsSlot() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        try withAudit(reactor, operations: 2) { reactor, ledger in
            let first = reactor.startTimer(afterNanos: 0) { _ in ledger.record(0) }
            #expect(eventually { ledger.completions(of: 0) == 1 })
            // Slots are freed on the loop, and a start on the loop reuses them first.
            let second = reactor.syncOnLoop {
                reactor.startTimer(afterNanos: 60_000_000_000) { outcome in
                    if case .cancelled = outcome { ledger.record(1) }
                }
            }
            #expect(second.slot == first.slot, "the freed slot is reused")
            #expect(second.generation != first.generation)
            #expect(first.cancel() == .alreadyCompleted)
            #expect(reactor.isPending(second))
            #expect(second.cancel() == .cancelled)
            #expect(eventually { ledger.completions(of: 1) == 1 })
            return 2
        }
    }

    @Test func handleFromAnotherReactorOrNeverIssuedIsUnknown() throws {
        let reactor = try Reactor()
        let other = try Reactor()
        defer {
            reactor.shutdown()
            other.shutdown()
        }
        let ledger = CompletionLedger(capacity: 1)
        let handle = reactor.startTimer(afterNanos: 60_000_000_000) { _ in ledger.record(0) }
        #expect(other.cancel(handle, reason: .caller) == .unknown)
        #expect(reactor.isPending(handle))
        #expect(handle.cancel() == .cancelled)
        #expect(eventually { ledger.completions(of: 0) == 1 })
    }

    @Test func cancelOnTheLoopThreadCompletesOnALaterTurnNotInline() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        try withAudit(reactor, operations: 2) { reactor, ledger in
            let cancelReturned = ManagedAtomic<Bool>(false)
            let completedAfterReturn = ManagedAtomic<Bool>(false)
            let origin = Locked<CancelOrigin?>(nil)
            let victim = reactor.startTimer(afterNanos: 60_000_000_000) { outcome in
                if case .cancelled(let info) = outcome { origin.withLock { $0 = info.origin } }
                completedAfterReturn.store(cancelReturned.load(ordering: .relaxed), ordering: .relaxed)
                ledger.record(1)
            }
            reactor.startTimer(afterNanos: 0) { _ in
                #expect(victim.cancel() == .cancelled)
                cancelReturned.store(true, ordering: .relaxed)
                ledger.record(0)
            }
            #expect(eventually { ledger.completions(of: 1) == 1 })
            let completedAfterReturnValue = completedAfterReturn.load(ordering: .relaxed)
            #expect(completedAfterReturnValue)
            #expect(origin.withLock { $0 } == .loop)
            return 2
        }
    }

    @Test func completionThatStartsAndCancelsOtherOperations() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let chain = 1000
        try withAudit(reactor, operations: chain * 2) { reactor, ledger in
            // Each completion starts the next link and a long timer it cancels at once.
            @Sendable func link(_ n: Int) {
                reactor.startTimer(afterNanos: 0) { _ in
                    ledger.record(2 * n)
                    let doomed = reactor.startTimer(afterNanos: 60_000_000_000) { outcome in
                        if case .cancelled = outcome { ledger.record(2 * n + 1) }
                    }
                    #expect(doomed.cancel() == .cancelled)
                    if n + 1 < chain { link(n + 1) }
                }
            }
            link(0)
            #expect(eventually { ledger.completions(of: 2 * chain - 1) == 1 })
            return chain * 2
        }
    }

    @Test func limitReachedIsAnErrorOutcomeOnTheLoopNotACrash() throws {
        var config = Reactor.Configuration()
        config.maxOperations = 8
        let reactor = try Reactor(configuration: config)
        defer { reactor.shutdown() }
        try withAudit(reactor, operations: 9) { reactor, ledger in
            let handles = (0..<8).map { index in
                reactor.startTimer(afterNanos: 60_000_000_000) { _ in ledger.record(index) }
            }
            let error = Locked<ReactorError?>(nil)
            let onLoop = ManagedAtomic<Bool>(false)
            let rejected = reactor.startTimer(afterNanos: 0) { outcome in
                if case .failed(let e) = outcome { error.withLock { $0 = e } }
                onLoop.store(reactor.inLoop, ordering: .relaxed)
                ledger.record(8)
            }
            #expect(rejected.cancel() == .alreadyCompleted)
            #expect(eventually { ledger.completions(of: 8) == 1 })
            #expect(error.withLock { $0?.code } == .limitReached)
            let onLoopValue = onLoop.load(ordering: .relaxed)
            #expect(onLoopValue)
            handles.forEach { $0.cancel() }
            return 9
        }
    }

    @Test func shutdownCompletesEveryPendingOperationWithCancelledShutdown() throws {
        let reactor = try Reactor()
        let count = 10_000
        let ledger = CompletionLedger(capacity: count + 1)
        let shutdowns = Counter()
        for index in 0..<count {
            reactor.startTimer(afterNanos: 60_000_000_000) { outcome in
                if case .cancelled(let info) = outcome, info.reason == .shutdown { shutdowns.add() }
                ledger.record(index)
            }
        }
        reactor.shutdown()
        #expect(shutdowns.count == count)
        #expect(ledger.missed(started: count) == 0)
        #expect(ledger.doubleCompletions == 0)
        // A start after shutdown still completes, once, with shutDown.
        let late = Locked<ReactorError?>(nil)
        reactor.startTimer(afterNanos: 0) { outcome in
            if case .failed(let error) = outcome { late.withLock { $0 = error } }
            ledger.record(count)
        }
        #expect(eventually { ledger.completions(of: count) == 1 })
        #expect(late.withLock { $0?.code } == .shutDown)
        #expect(reactor.counters.snapshot.inFlight == 0)
        reactor.shutdown()  // idempotent
    }

    @Test func cancelAllRacingCompletionsEndsEachOperationOnce() throws {
        let group = try ReactorGroup(count: 2)
        defer { group.shutdown() }
        let count = 20_000
        try withAudit(group, operations: count) { group, ledger in
            let cancelled = Counter()
            var rng = SplitMix64(seed: 7)
            for index in 0..<count {
                group.next().startTimer(afterNanos: UInt64.random(in: 0...2_000_000, using: &rng)) { outcome in
                    if case .cancelled(let info) = outcome, info.reason == .cancelAll { cancelled.add() }
                    ledger.record(index)
                }
                if index == count / 2 { group.cancelAll() }
            }
            group.cancelAll()
            #expect(eventually { ledger.missed(started: count) == 0 })
            #expect(cancelled.count > 0)
            return count
        }
    }

    @Test func eventsOwnedByOperationsLeaveTheLoopOnEveryPath() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let count = 300
        var pipes: [(Int32, Int32)] = []
        for _ in 0..<count {
            var fds: [Int32] = [0, 0]
            #expect(pipe(&fds) == 0)
            pipes.append((fds[0], fds[1]))
        }
        defer { pipes.forEach { close($0.0); close($0.1) } }
        try withAudit(reactor, operations: count) { reactor, ledger in
            let outcomes = Locked<[String: Int]>([:])
            var handles: [OperationHandle] = []
            for (index, fds) in pipes.enumerated() {
                // A third become readable, a third are cancelled, a third time out.
                handles.append(reactor.startReadinessWait(fd: fds.0, timeoutNanos: index % 3 == 2 ? 1_000_000 : nil) {
                    outcome in
                    let key: String
                    switch outcome {
                    case .completed: key = "ready"
                    case .cancelled: key = "cancelled"
                    case .failed(let error): key = error.code == .timedOut ? "timeout" : "error"
                    }
                    outcomes.withLock { $0[key, default: 0] += 1 }
                    ledger.record(index)
                })
            }
            for (index, fds) in pipes.enumerated() {
                if index % 3 == 0 { _ = write(fds.1, "x", 1) }
                if index % 3 == 1 { handles[index].cancel() }
            }
            #expect(eventually { ledger.missed(started: count) == 0 })
            #expect(outcomes.withLock { $0 } == ["ready": count / 3, "cancelled": count / 3, "timeout": count / 3])
            return count
        }
    }

    @Test func exactlyOnceUnderFourThreadsCancellingWhileTimersFire() throws {
        let group = try ReactorGroup(count: 2)
        defer { group.shutdown() }
        let perStarter = 50_000
        let starters = 2
        let total = perStarter * starters
        try withAudit(group, operations: total) { group, ledger in
            let handles = Locked<[OperationHandle?]>(Array(repeating: nil, count: total))
            let published = ManagedAtomic<Int>(0)
            let cancelledCount = Counter()
            ThreadTeam.run(starters + 4) { worker in
                var rng = SplitMix64(seed: UInt64(worker) &* 31 &+ 1)
                if worker < starters {
                    for n in 0..<perStarter {
                        let index = worker * perStarter + n
                        let handle = group.next().startTimer(afterNanos: UInt64.random(in: 0...1_000_000, using: &rng)) {
                            outcome in
                            if case .cancelled = outcome { cancelledCount.add() }
                            ledger.record(index)
                        }
                        handles.withLock { $0[index] = handle }
                        published.wrappingIncrement(ordering: .relaxed)
                    }
                } else {
                    while published.load(ordering: .relaxed) < total {
                        let index = Int.random(in: 0..<total, using: &rng)
                        if let handle = handles.withLock({ $0[index] }) { handle.cancel() }
                    }
                }
            }
            #expect(eventually(within: .seconds(30)) { ledger.missed(started: total) == 0 })
            #expect(cancelledCount.count > 0)
            return total
        }
    }

    @Test func asyncSleepReturnsAndTaskCancellationMapsOntoCancel() async throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        try await reactor.sleep(nanoseconds: 1_000_000)
        let task = Task { try await reactor.sleep(nanoseconds: 60_000_000_000) }
        try await Task.sleep(nanoseconds: 5_000_000)
        task.cancel()
        do {
            try await task.value
            Issue.record("a cancelled sleep must throw")
        } catch let error as OperationCancelled {
            #expect(error.info.reason == .task)
        }
        #expect(reactor.waitForDrain())
        #expect(reactor.footprint().timers == 0)
    }
}

@Suite("Readiness on real sockets")
struct ReadinessSocketTests {
    @Test func readinessWaitCompletesWhenADatagramArrivesOnLoopback() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let receiver = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(receiver); close(sender) }
        let bound = Loopback.bind(receiver) == 0
            && Loopback.withAddress(port: Loopback.port(of: receiver)) { connect(sender, $0, $1) } == 0
        #expect(bound)
        try withAudit(reactor, operations: 1) { reactor, ledger in
            let ready = ManagedAtomic<Bool>(false)
            reactor.startReadinessWait(fd: receiver, timeoutNanos: 5_000_000_000) { outcome in
                if case .completed(let what) = outcome, what.contains(.read) { ready.store(true, ordering: .relaxed) }
                ledger.record(0)
            }
            var byte: UInt8 = 7
            #expect(send(sender, &byte, 1, 0) == 1)
            #expect(eventually { ledger.completions(of: 0) == 1 })
            let wasReady = ready.load(ordering: .relaxed)
            #expect(wasReady)
            return 1
        }
    }
}

/// A body that re-arms its timer `rearms` times before finishing: each re-arm leaves a stale heap entry.
private final class RearmingBody: OperationBody, @unchecked Sendable {
    private var rearmsLeft: Int
    private let rearmNanos: UInt64
    private let fired: Counter
    private let onFire: @Sendable (Reactor) -> Void
    private let completion: @Sendable () -> Void

    init(rearms: Int, after rearmNanos: UInt64 = 100_000, fired: Counter,
         onFire: @escaping @Sendable (Reactor) -> Void = { _ in }, completion: @escaping @Sendable () -> Void) {
        rearmsLeft = rearms
        self.rearmNanos = rearmNanos
        self.fired = fired
        self.onFire = onFire
        self.completion = completion
    }

    func attach(_ operation: OperationHandle, to reactor: Reactor) {
        // Move the deadline earlier and later before it ever fires: both leave stale entries.
        reactor.setTimer(operation, afterNanos: 50_000_000)
        reactor.setTimer(operation, afterNanos: 1_000_000)
    }

    func timerFired(_ operation: OperationHandle, on reactor: Reactor) {
        fired.add()
        onFire(reactor)
        if rearmsLeft > 0 {
            rearmsLeft -= 1
            reactor.setTimer(operation, afterNanos: rearmNanos)
        } else if reactor.finish(operation) {
            completion()
        }
    }

    func end(_ operation: OperationHandle, with ending: OperationEnding, on reactor: Reactor) { completion() }
}

@Suite("Operation timers")
struct OperationTimerTests {
    @Test func rearmedTimersFireOnceForEachArmingAndStaleEntriesNeverFire() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let count = 2_000
        let fired = Counter()
        try withAudit(reactor, operations: count) { reactor, ledger in
            for index in 0..<count {
                reactor.start(RearmingBody(rearms: 3, fired: fired) { ledger.record(index) }, timeoutNanos: 10_000_000)
            }
            #expect(eventually { ledger.missed(started: count) == 0 })
            return count
        }
        #expect(fired.count == count * 4)
    }

    @Test func aTimerRearmedWithZeroFiresOnTheNextTurnNotAgainInTheSamePass() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let fired = Counter()
        let jobsRun = Counter()
        let sameTurn = Counter()
        try withAudit(reactor, operations: 1) { reactor, ledger in
            // Each firing posts a loop job; it runs after the timer callback. If a zero re-arm
            // fired again inside the same pass, that job would not have run yet.
            let body = RearmingBody(rearms: 20, after: 0, fired: fired, onFire: { reactor in
                if jobsRun.count != fired.count - 1 { sameTurn.add() }
                reactor.execute { jobsRun.add() }
            }) { ledger.record(0) }
            reactor.start(body, timeoutNanos: 0)
            #expect(eventually { ledger.missed(started: 1) == 0 })
            return 1
        }
        #expect(fired.count == 21 && sameTurn.count == 0)
    }

    @Test func manyCancelledLongTimersLeaveNoTimerBehindAndShortOnesStillFire() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let count = 50_000
        try withAudit(reactor, operations: count + 100) { reactor, ledger in
            let handles = (0..<count).map { index in
                reactor.startTimer(afterNanos: 3_600_000_000_000) { _ in ledger.record(index) }
            }
            handles.forEach { $0.cancel() }
            let fired = Counter()
            for index in 0..<100 {
                reactor.startTimer(afterNanos: 1_000_000) { outcome in
                    if case .completed = outcome { fired.add() }
                    ledger.record(count + index)
                }
            }
            #expect(eventually { ledger.missed(started: count + 100) == 0 })
            #expect(fired.count == 100)
            return count + 100
        }
    }

    @Test func timersFireAtOrAfterTheirDeadlineOnTheLoopClockWhichNeverRunsAheadOfTheClock() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let count = 200
        // Per timer: the clock when it was started, then the loop clock and the clock when it fired.
        let readings = Locked([(started: UInt64, loop: UInt64, clock: UInt64)](
            repeating: (0, 0, 0), count: count))
        try withAudit(reactor, operations: count) { reactor, ledger in
            for index in 0..<count {
                let started = MonotonicClock.now()
                let delay = UInt64(index % 20) * 100_000
                reactor.startTimer(afterNanos: delay) { outcome in
                    if case .completed = outcome {
                        let loop = reactor.loopTime
                        let clock = MonotonicClock.now()
                        readings.withLock { $0[index] = (started &+ delay, loop, clock) }
                    }
                    ledger.record(index)
                }
            }
            #expect(eventually { ledger.missed(started: count) == 0 })
            return count
        }
        for (index, reading) in readings.withLock({ $0 }).enumerated() {
            #expect(reading.loop >= reading.started, "timer \(index) fired before its deadline")
            #expect(reading.loop <= reading.clock, "timer \(index): the loop clock ran ahead")
        }
    }
}
