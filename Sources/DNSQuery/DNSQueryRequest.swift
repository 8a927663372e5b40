import DNSMessage

/// One DNS question to ask, and how: the counterpart of Windows' `DNS_QUERY_REQUEST`
/// (`QueryName`, `QueryType`, `QueryOptions`, `pDnsServerList`).
public struct DNSQueryRequest: Sendable {
    /// The fields, shared by copies of the request until one of them changes a field (copy on
    /// write): starting a query takes one reference to them rather than a copy of each.
    private(set) var fields: Fields

    /// The name asked (absolute).
    public var name: DNSName {
        get { fields.name }
        set { update { $0.name = newValue } }
    }
    /// The type asked; any 16-bit value, known or not (`DNSType(65280)`).
    public var type: DNSType {
        get { fields.type }
        set { update { $0.type = newValue } }
    }
    /// The class asked (`IN` unless told).
    public var recordClass: DNSClass {
        get { fields.recordClass }
        set { update { $0.recordClass = newValue } }
    }
    /// Header and transport options.
    public var options: DNSQueryOptions {
        get { fields.options }
        set { update { $0.options = newValue } }
    }
    /// Servers to ask, in order; nil: the engine's (from its configuration or `/etc/resolv.conf`).
    public var servers: [DNSServer]? {
        get { fields.servers }
        set { update { $0.servers = newValue } }
    }
    /// The whole query's deadline, counted from `start`; nil: the engine's default.
    public var timeout: Duration? {
        get { fields.timeout }
        set { update { $0.timeout = newValue } }
    }
    /// How many sends at most (retransmissions and other servers included; a switch to TCP on a
    /// truncated reply and the EDNS fallback are not counted); nil: the engine's default.
    public var attempts: Int? {
        get { fields.attempts }
        set { update { $0.attempts = newValue } }
    }
    /// Set when the name was given relative (no trailing dot): with `options.useSearchList`, the
    /// resolv.conf search list is applied to it.
    public var isRelative: Bool {
        get { fields.isRelative }
        set { update { $0.isRelative = newValue } }
    }

    /// A request for `name` (absolute).
    public init(name: DNSName, type: DNSType, recordClass: DNSClass = .in, options: DNSQueryOptions = .init(),
                servers: [DNSServer]? = nil, timeout: Duration? = nil, attempts: Int? = nil) {
        fields = Fields(Fields.Given(name: name, type: type, recordClass: recordClass, options: options,
                                     servers: servers, timeout: timeout, attempts: attempts, isRelative: false))
    }

    /// A request for a name in presentation form (`"example.com"`, `"www.example.com."`); a name
    /// without a trailing dot is marked relative (see `isRelative`) and asked as if absolute unless
    /// the search list is on.
    ///
    /// The text is ASCII: a space, a control character or a byte outside ASCII is refused (write it
    /// as an RFC 1035 escape, `\032`, if the label really holds it); an internationalized name is
    /// asked by its IDNA A-label (`xn--…`), which the caller converts (e.g. with libidn2), since
    /// the engine does not guess a conversion.
    /// - Throws: `DNSQueryError.invalidName` with the parser's reason if the text is not a valid name.
    public init(_ name: String, type: DNSType, recordClass: DNSClass = .in, options: DNSQueryOptions = .init(),
                servers: [DNSServer]? = nil, timeout: Duration? = nil, attempts: Int? = nil) throws(DNSQueryError) {
        if let bad = name.unicodeScalars.first(where: { $0.value <= 0x20 || $0.value >= 0x7F }) {
            let what = bad.value >= 0x80
                ? "non-ASCII character \"\(bad)\": give an internationalized name as its IDNA A-label (xn--…)"
                : "character U+\(String(bad.value, radix: 16, uppercase: true).leftPadded4) is not allowed unescaped: "
                    + "write it as \\\(String(bad.value).leftPadded3)"
            throw DNSQueryError.invalidName(name, reason: what)
        }
        let parsed: DNSName
        do { parsed = try DNSName(parsing: name) } catch { throw DNSQueryError.invalidName(name, reason: error.message) }
        fields = Fields(Fields.Given(name: parsed, type: type, recordClass: recordClass, options: options,
                                     servers: servers, timeout: timeout, attempts: attempts,
                                     isRelative: !name.hasSuffix(".")))
    }

    /// Changes a field: on a copy of the fields first if another request shares them.
    private mutating func update(_ change: (inout Fields.Given) -> Void) {
        var given = fields.given
        change(&given)
        fields = Fields(given)
    }
}

extension DNSQueryRequest {
    /// A request's fields and what a query derives from them once (the flags, the name as a query
    /// keeps it): immutable, shared by the request's copies; a query copies what it needs when it
    /// starts and keeps no reference.
    final class Fields: Sendable {
        /// The fields as given.
        struct Given {
            var name: DNSName
            var type: DNSType
            var recordClass: DNSClass
            var options: DNSQueryOptions
            var servers: [DNSServer]?
            var timeout: Duration?
            var attempts: Int?
            var isRelative: Bool
        }

        // What a query reads when it starts comes first, in the object's first two cache lines (a
        // class's stored properties are laid out in declaration order): at many queries outstanding
        // a request's fields are out of cache by the time it is asked again.

        /// The name as a query keeps it (inline when short: see `QueryName`).
        let queryName: QueryName
        let flags: QueryOperation.Flags
        let type: DNSType
        let recordClass: DNSClass
        /// The EDNS payload size a query advertises (at least 512).
        let ednsSize: UInt16
        /// Whether the request sets its own timeout, attempts or servers: a query reads the three
        /// below only then, so the common one reads no more than the first 60 bytes.
        let hasOwnLimits: Bool
        /// `timeout` in nanoseconds (negative: 0).
        let timeoutNanos: UInt64?
        let attempts: Int?
        let servers: [DNSServer]?
        // The rest of the fields as given.
        let name: DNSName
        let options: DNSQueryOptions
        let timeout: Duration?
        let isRelative: Bool

        /// The fields as given (`DNSQueryRequest.update` changes one on a copy).
        var given: Given {
            Given(name: name, type: type, recordClass: recordClass, options: options, servers: servers,
                  timeout: timeout, attempts: attempts, isRelative: isRelative)
        }

        init(_ given: Given) {
            name = given.name
            options = given.options
            timeout = given.timeout
            isRelative = given.isRelative
            type = given.type
            recordClass = given.recordClass
            attempts = given.attempts
            servers = given.servers
            hasOwnLimits = given.timeout != nil || given.attempts != nil || given.servers != nil
            timeoutNanos = given.timeout.map(Self.nanos)
            queryName = QueryName(given.name)
            let options = given.options
            var flags = QueryOperation.Flags()
            if options.recursionDesired { flags.insert(.recursionDesired) }
            if options.dnssecOK { flags.insert(.dnssecOK) }
            if options.checkingDisabled { flags.insert(.checkingDisabled) }
            if options.tcpOnly { flags.insert(.tcpOnly) }
            if options.tcpFallback { flags.insert(.tcpFallback) }
            if options.randomizeCase { flags.insert(.randomizeCase) }
            if options.ednsPayloadSize != nil { flags.insert(.edns) }
            if options.useSearchList { flags.insert(.searchList) }
            if given.isRelative { flags.insert(.relative) }
            if options.resultDetail == .summary { flags.insert(.summaryOnly) }
            self.flags = flags
            ednsSize = max(options.ednsPayloadSize ?? 512, 512)
        }

        private static func nanos(_ duration: Duration) -> UInt64 {
            guard duration > .zero else { return 0 }  // also a negative one under a second
            let (seconds, attoseconds) = duration.components
            guard seconds < 18_000_000_000 else { return .max }  // 570 years: never
            return UInt64(seconds) &* 1_000_000_000 &+ UInt64(attoseconds / 1_000_000_000)
        }
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
    /// CD: ask a validating resolver to answer without checking DNSSEC (RFC 4035).
    public var checkingDisabled = false
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

extension String {
    fileprivate var leftPadded4: String { String(repeating: "0", count: Swift.max(0, 4 - count)) + self }
    fileprivate var leftPadded3: String { String(repeating: "0", count: Swift.max(0, 3 - count)) + self }
}
