import Atomics

/// N reactors, one thread each, with operations spread over them round-robin or by key.
/// No lock is shared between the reactors.
public final class ReactorGroup: Sendable {
    /// The reactors, in a fixed order.
    public let reactors: [Reactor]
    private let cursor = ManagedAtomic<Int>(0)

    /// Starts `count` reactors (one per core is the usual choice). Any thread.
    /// - Throws: the first `ReactorError` a reactor could not start with (the others are shut down);
    ///   `invalidArgument` for a `count` below 1.
    public init(count: Int, configuration: Reactor.Configuration = Reactor.Configuration()) throws(ReactorError) {
        guard count > 0 else { throw ReactorError(.invalidArgument, "a group needs at least one reactor, not \(count)") }
        var started: [Reactor] = []
        for index in 0..<count {
            var config = configuration
            config.name = "\(configuration.name)-\(index)"
            do {
                started.append(try Reactor(configuration: config))
            } catch {
                started.forEach { $0.shutdown() }
                throw error
            }
        }
        reactors = started
    }

    /// The next reactor, round-robin. Any thread.
    public func next() -> Reactor {
        reactors[cursor.loadThenWrappingIncrement(ordering: .relaxed) % reactors.count]
    }

    /// The reactor a key maps to, always the same for the same key. Any thread.
    public func reactor(forKey key: some Hashable) -> Reactor {
        reactors[Int(UInt(bitPattern: key.hashValue) % UInt(reactors.count))]
    }

    /// `cancelAll()` on every reactor. Any thread.
    public func cancelAll() { reactors.forEach { $0.cancelAll() } }

    /// `shutdown()` on every reactor; returns when all have stopped. Not from a reactor thread.
    public func shutdown() { reactors.forEach { $0.shutdown() } }
}

extension ReactorCounters.Snapshot {
    /// All counters zero.
    public static let zero = ReactorCounters.Snapshot(
        started: 0, completed: 0, cancelsWon: 0, cancelsLost: 0, rejected: 0, eventsRegistered: 0)
}
