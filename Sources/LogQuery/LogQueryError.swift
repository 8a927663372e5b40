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
    /// A value the caller passed is out of its range (`next(max: 0)`, a reverse query that
    /// follows); the sentence says which and why (`ERROR_INVALID_PARAMETER`).
    case invalidArgument(String)

    /// A `.scan` error that names no file names `path` (the scanner knows only its descriptor).
    func naming(_ path: String) -> LogQueryError {
        guard case .scan(var error) = self, error.path == nil else { return self }
        error.path = path
        return .scan(error)
    }

    /// The error for an operation the reactor ended (cancel or rejection).
    public init(_ ending: OperationEnding) {
        switch ending {
        case .cancelled(let info): self = .cancelled(info)
        case .rejected(let error): self = .rejected(error)
        }
    }

    /// One sentence: what ended the operation, and why.
    public var description: String {
        switch self {
        case .cancelled(let info): "cancelled (\(info.reason))"
        case .noMoreItems: "no more matching records"
        case .timeout: "no matching record before the timeout"
        case .notFound: "the seek target is gone (another file, a cut file, or past the end)"
        case .closed: "the query is closed"
        case .scan(let error): error.description
        case .rejected(let error): "the reactor refused the operation: \(error)"
        case .invalidArgument(let sentence): sentence
        }
    }
}
