import DNSQuery
import EventReactor
import ServiceLifecycle

// swift-service-lifecycle's `Service` for the reactors and the engines. Each `run()` waits for the
// service group's graceful shutdown (or the task's cancellation), then shuts its part down with the
// `async` form: every operation still pending completes exactly once with `cancelled(shutdown)`,
// and `run()` returns once those completions have run. List the reactors before the engines on
// them in a `ServiceGroup`: a group shuts its services down in reverse order, engines first.

extension Reactor: Service {
    /// Runs until graceful shutdown or task cancellation, then `shutdown() async`: every pending
    /// operation completes once with `cancelled(shutdown)`, and the loop thread has exited when
    /// this returns.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}

extension ReactorGroup: Service {
    /// `Reactor.run()` for every reactor of the group: returns when all have stopped.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}

extension DNSQueryEngine: Service {
    /// Runs until graceful shutdown or task cancellation, then `shutdown() async`: every outstanding
    /// query completes once with `cancelled(shutdown)` and the sockets are closed when this returns.
    /// The reactors keep running (they are services of their own).
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }
}
