import DNSMessage

/// What a query that got an answer delivers: the counterpart of Windows' `DNS_QUERY_RESULT`
/// (`QueryStatus`, `pQueryRecords`). NXDOMAIN and "no data" are answers, not errors.
public struct DNSQueryResult: Sendable {
    /// The whole reply, parsed; nil when the request asked for `.summary` results.
    public var message: DNSMessage? {
        get { parsed?.message }
        set { parsed = newValue.map(ParsedReply.init) }
    }
    /// `message`, boxed: a result is copied and destroyed on its way to the completion, and a
    /// summary result (nil here) then moves a word instead of an optional of five arrays.
    private var parsed: ParsedReply?
    /// The reply's header, full rcode and section counts (always set, in either detail).
    public var summary: DNSReplySummary
    /// The name that was answered (with the search list, the candidate that got the answer).
    /// Built when read: a result that is never asked its name costs no allocation for it, and its
    /// query touches no name storage of the request's (nor counts a reference to it) to answer.
    public var name: DNSName {
        get { answeredName.name }
        set { answeredName = QueryName(newValue) }
    }
    var answeredName: QueryName
    /// The server that answered.
    public var server: DNSServer
    /// UDP; TCP after a truncated reply, with `tcpOnly`, or from a TCP server; TLS from a TLS server.
    public var transport: DNSTransport
    /// Sends made for this answer (retransmissions, other servers, TCP and EDNS fallbacks included).
    public var attempts: Int
    /// From `start` to the reply, in nanoseconds, on the loop's clock (`Reactor.loopTime`: a start
    /// and a reply handled on the loop are timed at the start of their loop callback, so the figure
    /// is exact to within one callback's run time; a load generator times with its own clock).
    public var elapsedNanos: UInt64

    /// The reply's response code (NOERROR, NXDOMAIN, …), extended bits included.
    public var rcode: DNSRcode { summary.rcode }
    /// The answer section (empty in `.summary` detail: see `summary.answerCount`).
    public var answers: [DNSResourceRecord] { message?.answers ?? [] }
    /// The authority section (empty in `.summary` detail).
    public var authorities: [DNSResourceRecord] { message?.authorities ?? [] }
    /// The additional section without the OPT record (see `message.edns`; empty in `.summary` detail).
    public var additionals: [DNSResourceRecord] { message?.additionals ?? [] }
    /// Whether the reply had TC set (only with `tcpFallback` off).
    public var isTruncated: Bool { summary.header.isTruncated }
}

// The initializers are in an extension, so that the memberwise one stays (docs/design.md, "Small
// shapes on the hot paths").
extension DNSQueryResult {
    /// Makes a result; `message` nil for a `.summary` result.
    public init(message: DNSMessage?, summary: DNSReplySummary, name: DNSName, server: DNSServer,
                transport: DNSTransport, attempts: Int, elapsedNanos: UInt64) {
        self.init(message: message, summary: summary, answeredName: .shared(name), server: server,
                  transport: transport, attempts: attempts, elapsedNanos: elapsedNanos)
    }

    init(message: DNSMessage?, summary: DNSReplySummary, answeredName: QueryName, server: DNSServer,
         transport: DNSTransport, attempts: Int, elapsedNanos: UInt64) {
        self.init(parsed: message.map(ParsedReply.init), summary: summary, answeredName: answeredName,
                  server: server, transport: transport, attempts: attempts, elapsedNanos: elapsedNanos)
    }
}

/// The one outcome a query's completion receives, exactly once.
public typealias DNSQueryOutcome = Result<DNSQueryResult, DNSQueryError>

/// A parsed reply in a box of its own (see `DNSQueryResult.message`); immutable, so results that
/// share one still behave as values.
private final class ParsedReply: Sendable {
    let message: DNSMessage

    init(_ message: DNSMessage) {
        self.message = message
    }
}
