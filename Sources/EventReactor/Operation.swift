/// A started operation: a (slot, generation) value naming one operation of one reactor.
///
/// Cheap to copy, `Sendable`, and safe to keep after the operation ended: once the operation has
/// completed its slot's generation moves on, so a stale handle's `cancel()` is inert
/// (`.alreadyCompleted`) and can never touch a later operation that reuses the slot.
/// Corresponds to the `DNS_QUERY_CANCEL` handle of `DnsQueryEx`/`DnsCancelQuery`, minus its
/// lifetime rule: this handle never dangles.
public struct OperationHandle: Hashable, Sendable, CustomStringConvertible {
    /// The reactor that owns the operation.
    public let reactor: Reactor
    /// The operation's slot in the reactor's operation table (`UInt32.max` for a start that was rejected).
    public let slot: UInt32
    /// The slot's generation when the operation started.
    public let generation: UInt32

    /// Rebuilds a handle from parts the reactor issued (an operation body that keeps only its
    /// `slot` and `generation`, to stay small, rebuilds its own handle). Within the package only:
    /// a handle made up from other numbers could name another operation's live slot.
    package init(reactor: Reactor, slot: UInt32, generation: UInt32) {
        self.reactor = reactor
        self.slot = slot
        self.generation = generation
    }

    /// Cancels the operation. Callable from any thread, any number of times, before or after
    /// completion; returns at once and never runs the completion inline.
    ///
    /// If the result is `.cancelled`, the completion runs exactly once, on the reactor thread,
    /// with a `cancelled` outcome, after every event the operation owned has left the loop.
    /// The corresponding Windows calls are `DnsCancelQuery` and `EvtCancel`.
    @discardableResult
    public func cancel() -> CancelResult { reactor.cancel(self, reason: .caller) }

    public static func == (a: OperationHandle, b: OperationHandle) -> Bool {
        a.reactor === b.reactor && a.slot == b.slot && a.generation == b.generation
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(reactor))
        hasher.combine(slot)
        hasher.combine(generation)
    }

    public var description: String { "op(\(slot)#\(generation))" }
}

/// What a call of `cancel()` did.
public enum CancelResult: Sendable, Equatable {
    /// The cancel took effect: the completion will run once with a `cancelled` outcome.
    case cancelled
    /// The operation had already completed, or another path (a result, a timeout, an earlier
    /// cancel) had already won its gate; this cancel did nothing.
    case alreadyCompleted
    /// The handle names no operation this reactor ever started.
    case unknown
}

/// Who asked for a cancellation.
public enum CancelReason: UInt8, Sendable, Equatable, CustomStringConvertible {
    /// `handle.cancel()` (Windows: `DnsCancelQuery`, `EvtCancel(handle)`).
    case caller
    /// `reactor.cancelAll()` (Windows: `EvtCancel(NULL)`).
    case cancelAll
    /// `reactor.shutdown()`.
    case shutdown
    /// Swift task cancellation of an `async` form.
    case task

    public var description: String {
        switch self {
        case .caller: "caller"
        case .cancelAll: "cancelAll"
        case .shutdown: "shutdown"
        case .task: "task"
        }
    }
}

/// Which thread a cancel came from: the measure "cancel latency" is reported per origin.
public enum CancelOrigin: UInt8, Sendable, Equatable {
    /// The reactor's own thread (for instance from inside another completion).
    case loop
    /// Any other thread.
    case thread
}

/// The facts of a cancellation, delivered with the `cancelled` outcome.
public struct CancelInfo: Sendable, Equatable {
    /// Who cancelled.
    public var reason: CancelReason
    /// Where `cancel()` was called.
    public var origin: CancelOrigin
    /// `MonotonicClock.now()` at the instant `cancel()` was called: the start of cancel latency.
    public var requestedAt: UInt64

    /// Makes a cancel record.
    public init(reason: CancelReason, origin: CancelOrigin, requestedAt: UInt64) {
        self.reason = reason
        self.origin = origin
        self.requestedAt = requestedAt
    }
}

/// How an operation ended when it did not finish by itself: the argument of `OperationBody.end`.
public enum OperationEnding: Sendable, Equatable {
    /// A cancel won the operation's gate. Windows: `ERROR_CANCELLED`.
    case cancelled(CancelInfo)
    /// The reactor refused to start the operation (limit reached, shut down).
    case rejected(ReactorError)
}

/// The one outcome an operation's completion receives, exactly once.
public enum OperationOutcome<Success: Sendable>: Sendable {
    /// The operation did its work.
    case completed(Success)
    /// The operation was cancelled (by the caller, `cancelAll`, shutdown or task cancellation).
    case cancelled(CancelInfo)
    /// The operation failed (timeout, limit reached, shut down, system call).
    case failed(ReactorError)

    /// The outcome of an operation that ended without finishing by itself.
    public init(_ ending: OperationEnding) {
        switch ending {
        case .cancelled(let info): self = .cancelled(info)
        case .rejected(let error): self = .failed(error)
        }
    }
}

/// The part of an operation that its layer supplies: what the operation does on the loop.
///
/// The reactor calls every method on its own thread. An operation ends in exactly one of two ways:
/// - the body calls `reactor.finish(handle)`; if that returns `true` the body won the gate and
///   runs its own completion (with a result or an error) after releasing its events;
/// - otherwise the reactor calls `end(_:with:on:)` exactly once, after a cancel won the gate
///   (or the start was rejected) and after removing the operation's timer; the body releases its
///   events (watchers, transaction ids, inotify watches) and then runs its completion.
public protocol OperationBody: AnyObject, Sendable {
    /// The operation is installed on the loop: create and arm the events it owns here.
    /// Not called if the operation was cancelled before the loop installed it.
    func attach(_ operation: OperationHandle, to reactor: Reactor)
    /// The operation's timer (`Reactor.setTimer`) expired; its gate is still open. Re-arm it, or
    /// end the operation with `reactor.finish(_:)`.
    func timerFired(_ operation: OperationHandle, on reactor: Reactor)
    /// The operation ended by cancellation or rejection: release what it owns, then complete.
    func end(_ operation: OperationHandle, with ending: OperationEnding, on reactor: Reactor)
}

extension OperationBody {
    /// By default an operation owns no event besides its timer.
    public func attach(_ operation: OperationHandle, to reactor: Reactor) {}
}
