#if canImport(Glibc)
import Glibc
#endif

/// Runs a body on N threads of their own, all at once, and waits for all of them: what stress runs
/// and tests need (`DispatchQueue.concurrentPerform` runs only as many bodies at once as there are
/// cores, so on a 2-core machine "racing" threads would run one after another).
public enum ThreadTeam {
    /// Starts `count` threads, calls `body(index)` on each, and returns when every one has returned.
    public static func run(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
        var threads: [pthread_t] = []
        for index in 0..<count {
            let context = Unmanaged.passRetained(ThreadBody { body(index) }).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { arg in
                Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue().run()
                return nil
            }, context)
            precondition(rc == 0, "pthread_create failed: \(rc)")
            threads.append(thread)
        }
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Starts one detached thread running `body`; the caller arranges for it to end.
    public static func detach(_ body: @escaping @Sendable () -> Void) {
        let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { arg in
            Unmanaged<ThreadBody>.fromOpaque(arg!).takeRetainedValue().run()
            return nil
        }, context)
        precondition(rc == 0, "pthread_create failed: \(rc)")
        pthread_detach(thread)
    }
}

private final class ThreadBody {
    let run: () -> Void
    init(_ run: @escaping () -> Void) { self.run = run }
}
