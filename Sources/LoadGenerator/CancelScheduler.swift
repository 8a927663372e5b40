import EventReactor
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// Cancels operations at chosen instants from a thread of its own, so that `evq load` measures
/// cancels made from outside the loop (`CancelOrigin.thread`). Any thread may schedule; the
/// scheduler's thread makes every `cancel()` call. Due cancels are made in deadline order.
final class CancelScheduler: Sendable {
    private let queue = Locked(DeadlineHeap<@Sendable () -> Void>())
    private let running = Locked(true)
    /// Whether the thread was started (on the first `schedule`: a run without thread cancels
    /// never wakes a thread of its own), and whether it has ended.
    private let state = Locked((started: false, finished: false))

    private func startThread() {
        ThreadTeam.detach { [self] in
            ProcessCalls.setCurrentThreadName("evq-canceller")
            var due: [@Sendable () -> Void] = []
            while running.withLock({ $0 }) {
                let now = MonotonicClock.now()
                let wait = queue.withLock { heap -> UInt64 in
                    while let earliest = heap.earliest, earliest <= now { due.append(heap.removeEarliest()) }
                    return heap.earliest.map { $0 - now } ?? 1_000_000
                }
                for cancel in due { cancel() }
                due.removeAll(keepingCapacity: true)
                // Sleep to the next deadline, in at most 1 ms steps so that stop() is prompt.
                if wait > 20_000 { usleep(UInt32(min(wait, 1_000_000) / 1000)) } else { sched_yield() }
            }
            state.withLock { $0.finished = true }
        }
    }

    /// Runs `cancel` on the scheduler's thread once `due` (monotonic nanoseconds) has passed.
    func schedule(at due: UInt64, _ cancel: @escaping @Sendable () -> Void) {
        queue.withLock { $0.insert(cancel, due: due) }
        let start = state.withLock { state in
            defer { state.started = true }
            return !state.started
        }
        if start { startThread() }
    }

    /// Stops the thread, if it was started (cancels not yet due are dropped), and waits for it.
    func stop() {
        running.withLock { $0 = false }
        while state.withLock({ $0.started && !$0.finished }) { usleep(500) }
    }
}
