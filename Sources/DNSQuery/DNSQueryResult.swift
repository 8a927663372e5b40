import DNSMessage

/// What a query that got an answer delivers: the counterpart of Windows' `DNS_QUERY_RESULT`
/// (`QueryStatus`, `pQueryRecords`). NXDOMAIN and "no data" are answers, not errors.
public struct DNSQueryResult: Sendable {
    /// The whole reply, parsed.
    public var message: DNSMessage
    /// The name that was answered (with the search list, the candidate that got the answer).
    public var name: DNSName
    /// The server that answered.
    public var server: DNSServer
    /// UDP, or TCP after a truncated reply (or with `tcpOnly`).
    public var transport: DNSTransport
    /// Sends made for this answer (retransmissions, other servers, TCP and EDNS fallbacks included).
    public var attempts: Int
    /// From `start` to the reply, in nanoseconds (monotonic clock).
    public var elapsedNanos: UInt64

    /// The reply's response code (NOERROR, NXDOMAIN, …), extended bits included.
    public var rcode: DNSRcode { message.rcode }
    /// The answer section.
    public var answers: [DNSResourceRecord] { message.answers }
    /// The authority section.
    public var authorities: [DNSResourceRecord] { message.authorities }
    /// The additional section (without the OPT record; see `message.edns`).
    public var additionals: [DNSResourceRecord] { message.additionals }
    /// Whether the reply had TC set (only with `tcpFallback` off).
    public var isTruncated: Bool { message.header.isTruncated }

    /// Makes a result.
    public init(message: DNSMessage, name: DNSName, server: DNSServer, transport: DNSTransport, attempts: Int,
                elapsedNanos: UInt64) {
        self.message = message
        self.name = name
        self.server = server
        self.transport = transport
        self.attempts = attempts
        self.elapsedNanos = elapsedNanos
    }
}

/// The one outcome a query's completion receives, exactly once.
public typealias DNSQueryOutcome = Result<DNSQueryResult, DNSQueryError>
