import EventReactor

extension LogQuery {
    /// The query's records as an `AsyncSequence` of batches of at most `max` records: each step is
    /// one `next(max:)`, so nothing is read before the consumer asks (the backpressure is the pull).
    /// The sequence ends at `.noMoreItems`; Swift task cancellation cancels the pending `next`
    /// (which then throws `.cancelled`). The corresponding Windows loop is `EvtNext` until
    /// `ERROR_NO_MORE_ITEMS`.
    public func batches(max: Int, timeout: Duration? = nil) -> LogRecordBatches {
        LogRecordBatches(query: self, max: max, timeout: timeout)
    }

    /// Follows `path` (as `subscribe`) and hands its events to the task as an `AsyncSequence`.
    ///
    /// Backpressure: at most `bufferLimit` events (each a batch of records or a rotation fact) wait
    /// for the consumer; when the buffer is full the subscription stops reading the file until the
    /// consumer has taken half of them, so a slow consumer holds records in the file, not in memory.
    /// Task cancellation of the consumer, or the last iterator going away, cancels the subscription.
    /// The sequence throws the error the subscription ended with (`.cancelled` once cancelled).
    public static func events(
        following path: String, start: LogSubscriptionStart = .future, filter: LogFilter = .all,
        format: LogFormat = .auto, options: LogParseOptions = LogParseOptions(), bufferLimit: Int = 64,
        on reactor: Reactor
    ) -> LogSubscriptionEvents {
        let buffer = SubscriptionBuffer(limit: Swift.max(bufferLimit, 1))
        let subscription = subscribe(
            path: path, start: start, filter: filter, format: format, options: options, on: reactor,
            deliver: { [buffer] event in buffer.push(event) },
            ended: { [buffer] error in buffer.finish(error) })
        buffer.attach(subscription)
        return LogSubscriptionEvents(buffer: buffer)
    }
}

/// `LogQuery.batches(max:timeout:)`: batches of records until the query has no more.
public struct LogRecordBatches: AsyncSequence, Sendable {
    public typealias Element = [LogRecord]
    let query: LogQuery
    let max: Int
    let timeout: Duration?

    /// Iterates by calling `next(max:timeout:)` once per step.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let query: LogQuery
        let max: Int
        let timeout: Duration?
        var finished = false

        /// The next batch; nil after `.noMoreItems`. Throws `LogQueryError` otherwise.
        public mutating func next() async throws -> [LogRecord]? {
            guard !finished else { return nil }
            do {
                return try await query.next(max: max, timeout: timeout)
            } catch .noMoreItems {
                finished = true
                return nil
            } catch {
                finished = true
                throw error
            }
        }
    }

    /// An iterator over the query's remaining records.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(query: query, max: max, timeout: timeout) }
}

/// `LogQuery.events(following:…)`: a subscription's events, with a bounded buffer.
public struct LogSubscriptionEvents: AsyncSequence, Sendable {
    public typealias Element = LogSubscriptionEvent
    let buffer: SubscriptionBuffer

    /// The subscription underneath (to cancel it, or for its counters).
    public var subscription: LogSubscription? { buffer.subscription }

    /// Takes the events in order; one iterator per subscription.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let owner: IteratorOwner

        /// The next event; suspends while the buffer is empty. Throws the subscription's ending
        /// error (`LogQueryError.cancelled` after a cancel, by the task or anyone).
        public mutating func next() async throws -> LogSubscriptionEvent? {
            try await owner.buffer.pop()
        }
    }

    /// The iterator; when it is dropped, the subscription is cancelled.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(owner: IteratorOwner(buffer)) }
}

/// Cancels the subscription when the consumer's iterator goes away.
final class IteratorOwner: Sendable {
    let buffer: SubscriptionBuffer
    init(_ buffer: SubscriptionBuffer) { self.buffer = buffer }
    deinit { buffer.subscription?.cancel() }
}

/// The bounded buffer between a subscription (the loop pushes) and one consuming task (it pops).
/// Thread-safe: every field is behind one lock.
final class SubscriptionBuffer: Sendable {
    private struct State {
        var events: [LogSubscriptionEvent] = []
        var head = 0
        var ending: LogQueryError?
        var waiter: CheckedContinuation<LogSubscriptionEvent?, Error>?
        var paused = false
        var subscription: LogSubscription?
        var count: Int { events.count - head }
    }

    private let state = Locked(State())
    let limit: Int

    init(limit: Int) { self.limit = limit }

    var subscription: LogSubscription? { state.withLock { $0.subscription } }

    func attach(_ subscription: LogSubscription) { state.withLock { $0.subscription = subscription } }

    /// On the loop: hands `event` to the waiting task, or queues it; pauses the reading when full.
    func push(_ event: LogSubscriptionEvent) {
        let (waiter, pause) = state.withLock { state -> (CheckedContinuation<LogSubscriptionEvent?, Error>?, LogSubscription?) in
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, nil)
            }
            state.events.append(event)
            guard state.count >= limit, !state.paused else { return (nil, nil) }
            state.paused = true
            return (nil, state.subscription)
        }
        waiter?.resume(returning: event)
        pause?.pauseReading()
    }

    /// On the loop, once: the subscription ended with `error`.
    func finish(_ error: LogQueryError) {
        let waiter = state.withLock { state in
            state.ending = error
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(throwing: error)
    }

    /// The next event, suspending while there is none; resumes a paused subscription once half of
    /// the buffer has been taken.
    func pop() async throws -> LogSubscriptionEvent? {
        let subscription = state.withLock { $0.subscription }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<LogSubscriptionEvent?, Error>) in
                enum Step { case event(LogSubscriptionEvent, resume: LogSubscription?), ended(LogQueryError), wait }
                let step = state.withLock { state -> Step in
                    if state.count > 0 {
                        let event = state.events[state.head]
                        state.head += 1
                        if state.head == state.events.count {
                            state.events.removeAll(keepingCapacity: true)
                            state.head = 0
                        }
                        var resume: LogSubscription?
                        if state.paused && state.count <= limit / 2 {
                            state.paused = false
                            resume = state.subscription
                        }
                        return .event(event, resume: resume)
                    }
                    if let ending = state.ending { return .ended(ending) }
                    state.waiter = continuation
                    return .wait
                }
                switch step {
                case .event(let event, let resume):
                    resume?.resumeReading()
                    continuation.resume(returning: event)
                case .ended(let error):
                    continuation.resume(throwing: error)
                case .wait:
                    break
                }
            }
        } onCancel: {
            subscription?.cancel()
        }
    }
}
