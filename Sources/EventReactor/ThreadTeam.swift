#if canImport(Glibc)
import Glibc
#endif

/// Runs a body on N threads of their own, all at once, and waits for all of them: what stress runs
/// and tests need (`DispatchQueue.concurrentPerform` runs only as many bodies at once as there are
/// cores, so on a 2-core machine "racing" threads would run one after another).
public enum ThreadTeam {
    /// Starts `count` threads, calls `body(index)` on each, and returns when every one has returned.
    public static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        let threads = (0..<count).map { index in spawn { body(index) } }
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Starts one detached thread running `body`; the caller arranges for it to end.
    public static func detach(_ body: @escaping @Sendable () -> Void) {
        pthread_detach(spawn(body))
    }

    /// Starts one thread running `body`; the caller arranges for it to end and joins it.
    public static func start(_ body: @escaping @Sendable () -> Void) -> JoinableThread {
        JoinableThread(thread: spawn(body))
    }

    private static func spawn(_ body: @escaping () -> Void) -> pthread_t {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { arg in
            Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue().run()
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        return thread
    }
}

/// A started thread that must be joined once (`ThreadTeam.start`).
public struct JoinableThread: Sendable {
    let thread: pthread_t

    /// Waits for the thread to return. Call it exactly once, never from the thread itself.
    public func join() { pthread_join(thread, nil) }
}

private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
