import DNSMessage
import EventReactor

/// Why a query ended without an answer. Each case keeps what a caller needs to act on (the rcode,
/// the errno, the cancel's facts) and names its Windows counterpart.
public enum DNSQueryError: Error, Sendable, Equatable, CustomStringConvertible {
    /// No acceptable reply before the deadline. Windows: `ERROR_TIMEOUT` / `DNS_ERROR_RCODE_*` none.
    case timeout
    /// Every server asked answered SERVFAIL, REFUSED, NOTIMP or FORMERR (the last such rcode).
    /// Windows: `DNS_ERROR_RCODE_SERVER_FAILURE` and its siblings.
    case serverFailure(rcode: DNSRcode)
    /// A reply matched the query (source, id, question) but could not be parsed, on every attempt.
    /// Windows: `DNS_ERROR_BAD_PACKET`.
    case malformedReply
    /// A socket call failed (`errno`): no route, connection refused or reset, no server to ask
    /// (`EDESTADDRREQ`). Windows: `WSAE*` codes.
    case network(errno: Int32)
    /// The engine's `maxOutstanding` (or a socket pool's capacity, or the reactor's table) was full.
    /// Windows: `ERROR_NOT_ENOUGH_QUOTA`.
    case limitReached
    /// The query was cancelled: by `QueryHandle.cancel()`, `cancelAll`, the engine's or the
    /// reactor's shutdown, or Swift task cancellation (see `CancelInfo.reason`).
    /// Windows: `ERROR_CANCELLED` from `DnsCancelQuery`.
    case cancelled(CancelInfo)
    /// The name given as text is not a valid DNS name. Windows: `DNS_ERROR_INVALID_NAME`.
    case invalidName(String)

    public var description: String {
        switch self {
        case .timeout: "timed out"
        case .serverFailure(let rcode): "server failure (\(rcode))"
        case .malformedReply: "malformed reply"
        case .network(let errno): "network error (errno \(errno))"
        case .limitReached: "limit reached"
        case .cancelled(let info): "cancelled (\(info.reason))"
        case .invalidName(let name): "invalid name \"\(name)\""
        }
    }
}
