import DNSMessage

/// One DNS question to ask, and how: the counterpart of Windows' `DNS_QUERY_REQUEST`
/// (`QueryName`, `QueryType`, `QueryOptions`, `pDnsServerList`).
public struct DNSQueryRequest: Sendable {
    /// The name asked (absolute).
    public var name: DNSName
    /// The type asked; any 16-bit value, known or not (`DNSType(65280)`).
    public var type: DNSType
    /// The class asked (`IN` unless told).
    public var recordClass: DNSClass
    /// Header and transport options.
    public var options: DNSQueryOptions
    /// Servers to ask, in order; nil: the engine's (from its configuration or `/etc/resolv.conf`).
    public var servers: [DNSServer]?
    /// The whole query's deadline, counted from `start`; nil: the engine's default.
    public var timeout: Duration? {
        didSet { timeoutNanos = timeout.map(Self.nanos) }
    }
    /// `timeout` in nanoseconds (negative: 0), converted once when set rather than per query.
    private(set) var timeoutNanos: UInt64?
    /// How many sends at most (retransmissions and other servers included; a switch to TCP on a
    /// truncated reply and the EDNS fallback are not counted); nil: the engine's default.
    public var attempts: Int?
    /// Set when the name was given relative (no trailing dot): with `options.useSearchList`, the
    /// resolv.conf search list is applied to it.
    public var isRelative: Bool

    /// A request for `name` (absolute).
    public init(name: DNSName, type: DNSType, recordClass: DNSClass = .in, options: DNSQueryOptions = .init(),
                servers: [DNSServer]? = nil, timeout: Duration? = nil, attempts: Int? = nil) {
        self.name = name
        self.type = type
        self.recordClass = recordClass
        self.options = options
        self.servers = servers
        self.timeout = timeout
        timeoutNanos = timeout.map(Self.nanos)
        self.attempts = attempts
        isRelative = false
    }

    private static func nanos(_ duration: Duration) -> UInt64 {
        let (seconds, attoseconds) = duration.components
        guard seconds >= 0 else { return 0 }
        guard seconds < 18_000_000_000 else { return .max }  // 570 years: never
        return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
    }

    /// A request for a name in presentation form (`"example.com"`, `"www.example.com."`); a name
    /// without a trailing dot is marked relative (see `isRelative`) and asked as if absolute unless
    /// the search list is on.
    /// - Throws: `DNSQueryError.invalidName` if the text is not a valid name.
    public init(_ name: String, type: DNSType, recordClass: DNSClass = .in, options: DNSQueryOptions = .init(),
                servers: [DNSServer]? = nil, timeout: Duration? = nil, attempts: Int? = nil) throws(DNSQueryError) {
        guard let parsed = try? DNSName(parsing: name) else { throw DNSQueryError.invalidName(name) }
        self.init(name: parsed, type: type, recordClass: recordClass, options: options, servers: servers,
                  timeout: timeout, attempts: attempts)
        isRelative = !name.hasSuffix(".")
    }
}

/// Header and transport options of a query (Windows: the `DNS_QUERY_*` option flags).
public struct DNSQueryOptions: Sendable, Equatable {
    /// RD: ask the server to recurse (on by default; `DNS_QUERY_NO_RECURSION` turns it off).
    public var recursionDesired = true
    /// The EDNS(0) UDP payload size to advertise (RFC 6891; 1232 by default, the DNS flag day
    /// value); nil sends no OPT record. A server answering FORMERR to an OPT record is asked again
    /// without one.
    public var ednsPayloadSize: UInt16? = 1232
    /// DO: ask for DNSSEC records (needs EDNS).
    public var dnssecOK = false
    /// Ask over TCP from the start (`DNS_QUERY_USE_TCP_ONLY`).
    public var tcpOnly = false
    /// On a truncated (TC) UDP reply, ask again over TCP (on by default;
    /// `DNS_QUERY_ACCEPT_TRUNCATED_RESPONSE` turns it off and delivers the truncated reply).
    public var tcpFallback = true
    /// 0x20: randomise the case of the name's letters on every attempt and accept only a reply
    /// whose question repeats them exactly (draft-vixie-dnsext-dns0x20).
    public var randomizeCase = false
    /// Apply resolv.conf's search list and `ndots` to a relative name (`isRelative`), trying each
    /// candidate in turn while the answer is NXDOMAIN.
    public var useSearchList = false
    /// How much of the reply the result carries: `.full` (default) parses every record into
    /// `DNSQueryResult.message`; `.summary` keeps only `DNSQueryResult.summary` (header, rcode,
    /// counts) — the load generator's hot path, with no allocation for the reply.
    public var resultDetail = DNSResultDetail.full

    /// The defaults: RD on, EDNS 1232, UDP with TCP fallback.
    public init() {}
}
