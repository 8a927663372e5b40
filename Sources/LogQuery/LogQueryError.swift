import EventReactor

/// Why a `LogQuery` operation ended without a result. Each case keeps what a caller needs to act
/// on (the cancel facts, the errno of a failing call).
///
/// Corresponds to the Win32 errors of `EvtNext`/`EvtSeek`/`EvtSubscribe`: `ERROR_CANCELLED`,
/// `ERROR_NO_MORE_ITEMS`, `ERROR_TIMEOUT`, `ERROR_NOT_FOUND`, `ERROR_INVALID_HANDLE`.
public enum LogQueryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A cancel won: `cancel()`, `close()`, `reactor.cancelAll()`, shutdown or task cancellation
    /// (`ERROR_CANCELLED`).
    case cancelled(CancelInfo)
    /// The scan reached the end (the start, in reverse) with no matching record (`ERROR_NO_MORE_ITEMS`).
    case noMoreItems
    /// The timeout passed with no matching record (`ERROR_TIMEOUT`).
    case timeout
    /// A strict seek's target is gone: another file, a cut file, a position past the end, no such
    /// record (`ERROR_NOT_FOUND`).
    case notFound
    /// The query was closed before the operation could run (`ERROR_INVALID_HANDLE`).
    case closed
    /// A system call failed; carries its errno.
    case scan(LogScanError)
    /// The reactor refused to start the operation (limit reached, shut down).
    case rejected(ReactorError)

    /// The error for an operation the reactor ended (cancel or rejection).
    public init(_ ending: OperationEnding) {
        switch ending {
        case .cancelled(let info): self = .cancelled(info)
        case .rejected(let error): self = .rejected(error)
        }
    }

    /// A short text naming the case.
    public var description: String {
        switch self {
        case .cancelled(let info): "cancelled (\(info.reason))"
        case .noMoreItems: "no more items"
        case .timeout: "timed out"
        case .notFound: "not found"
        case .closed: "query closed"
        case .scan(let error): error.description
        case .rejected(let error): "rejected: \(error)"
        }
    }
}
