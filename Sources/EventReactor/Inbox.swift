import Atomics
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// Work posted to a reactor from any thread.
enum ReactorJob {
    /// Install the operation in `slot` (arm its timer, call `attach`).
    case install(slot: UInt32, generation: UInt32, deadline: UInt64)
    /// A cancel won the gate of this operation: end it.
    case end(slot: UInt32, generation: UInt32, info: CancelInfo)
    /// Complete a rejected start with `ending` (rare: boxed, so it does not widen every job).
    indirect case reject(body: any OperationBody, handle: OperationHandle, ending: OperationEnding)
    /// Cancel every pending operation.
    case cancelAll(CancelInfo)
    /// Run a closure on the loop.
    case run(@Sendable () -> Void)
    /// Stop: complete everything with `cancelled(shutdown)` and leave the loop.
    case shutdown(CancelInfo)
}

/// The cross-thread inbox: a locked swap buffer plus one `eventfd` wake-up.
///
/// A producer appends under the lock and writes the eventfd only if it is the first to flip
/// `awake` from false to true; while the loop is running (not blocked in epoll) `awake` stays true,
/// so producers make no system call at all. Before it blocks, the loop clears `awake` and looks at
/// the queue once more (sequentially consistent on both sides, so no wake-up is lost).
final class Inbox: @unchecked Sendable {
    private let queue = Locked<(jobs: [ReactorJob], closed: Bool)>(([], false))
    private let queued = ManagedAtomic<Int>(0)
    private let awake = ManagedAtomic<Bool>(true)
    let eventFD: Int32

    init() throws(ReactorError) {
        do {
            eventFD = try ProcessCalls.eventFD()
        } catch {
            throw ReactorError(.systemCall, errno: error.errno, "eventfd")
        }
    }

    deinit { Glibc.close(eventFD) }

    /// Appends a job and wakes the loop if it may be asleep. Callable from any thread.
    /// Returns false (and keeps nothing) once the inbox is closed.
    func post(_ job: ReactorJob) -> Bool {
        let open = queue.withLock { state in
            if state.closed { return false }
            state.jobs.append(job)
            return true
        }
        guard open else { return false }
        queued.wrappingIncrement(ordering: .sequentiallyConsistent)
        if !awake.exchange(true, ordering: .sequentiallyConsistent) {
            var one: UInt64 = 1
            _ = write(eventFD, &one, 8)
        }
        return true
    }

    /// Whether jobs are waiting (a racy hint; `take` is the truth).
    var hasJobs: Bool { queued.load(ordering: .sequentiallyConsistent) > 0 }

    /// Takes every queued job, oldest first (loop thread).
    func take(into buffer: inout [ReactorJob]) {
        queue.withLock { swap(&$0.jobs, &buffer) }
        if !buffer.isEmpty { queued.wrappingDecrement(by: buffer.count, ordering: .sequentiallyConsistent) }
    }

    /// Closes the inbox for good and takes what was left in it (loop thread, at exit).
    func close(into buffer: inout [ReactorJob]) {
        queue.withLock { state in
            state.closed = true
            swap(&state.jobs, &buffer)
        }
    }

    /// The loop is about to block: returns false if a job arrived meanwhile (then it must not block).
    func prepareToSleep() -> Bool {
        awake.store(false, ordering: .sequentiallyConsistent)
        if queued.load(ordering: .sequentiallyConsistent) > 0 {
            awake.store(true, ordering: .sequentiallyConsistent)
            return false
        }
        return true
    }

    /// The loop woke up: producers need not write the eventfd until it sleeps again.
    func didWake() { awake.store(true, ordering: .sequentiallyConsistent) }
}
