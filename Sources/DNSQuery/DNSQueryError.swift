import DNSMessage
import EventReactor

#if canImport(Glibc)
import Glibc
#endif

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
    /// A TCP or TLS connection failed or closed under the query, on every attempt, for a reason that is
    /// not a system call's errno (those are `.network`), in words (`certificate verify failed:
    /// self-signed certificate`, `the server closed the connection inside a reply`).
    /// Windows: `WSAECONNRESET` and the `SEC_E_*` codes.
    case connectionFailed(String)
    /// The engine's `maxOutstanding` (or a socket pool's capacity, or the reactor's table) was full.
    /// Windows: `ERROR_NOT_ENOUGH_QUOTA`.
    case limitReached
    /// The query was cancelled: by `QueryHandle.cancel()`, `cancelAll`, the engine's or the
    /// reactor's shutdown, or Swift task cancellation (see `CancelInfo.reason`).
    /// Windows: `ERROR_CANCELLED` from `DnsCancelQuery`.
    case cancelled(CancelInfo)
    /// The name given as text is not a valid DNS name, and why (`label longer than 63 bytes: "…"`).
    /// Windows: `DNS_ERROR_INVALID_NAME`.
    case invalidName(String, reason: String)

    /// One sentence: what failed and why, an errno as its text with the number kept
    /// (`no reply: Connection refused (errno 111)`).
    public var description: String {
        switch self {
        case .timeout: "no reply before the deadline"
        case .serverFailure(let rcode): "the server answered \(rcode)"
        case .malformedReply: "the reply could not be parsed"
        case .network(EDESTADDRREQ): "no server to ask: the server list is empty"
        case .network(let errno): "no reply: \(errnoText(errno))"
        case .connectionFailed(let reason): "no reply: \(reason)"
        case .limitReached: "too many queries outstanding (the engine's limit)"
        case .cancelled(let info): "cancelled (\(info.reason))"
        case .invalidName(let name, let reason): "invalid name \"\(name)\": \(reason)"
        }
    }
}
