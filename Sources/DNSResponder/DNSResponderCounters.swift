/// Everything the responder did, summed over its threads: what tests that start a responder read
/// back to check that each fault did what it says.
public struct DNSResponderCounters: Sendable, Equatable, CustomStringConvertible {
    /// Datagrams and TCP messages received.
    public var received = 0
    /// Answers with NOERROR (with records, or none for a name without that type).
    public var answered = 0
    /// Answers with NXDOMAIN (a name under a zone we serve that does not exist).
    public var nxdomain = 0
    /// Answers with REFUSED (a name outside every zone and the synthesis suffix, or a class we do not serve).
    public var refused = 0
    /// Answers with FORMERR (a query that does not parse, or does not hold exactly one question).
    public var formerr = 0
    /// Answers with NOTIMP (an opcode other than QUERY).
    public var notimp = 0
    /// Answers cut to the header and question with TC set because they did not fit the client's buffer.
    public var truncatedBySize = 0
    /// Datagrams dropped because they cannot be a query: shorter than a header, or a response (QR set).
    public var droppedNotAQuery = 0
    /// Faults: queries dropped on purpose.
    public var faultDropped = 0
    /// Faults: answers delayed.
    public var faultDelayed = 0
    /// Delayed answers dropped because the delay queue was full.
    public var delayQueueFull = 0
    /// Faults: TC answers with no records.
    public var faultTruncated = 0
    /// Faults: SERVFAIL answers.
    public var faultServfail = 0
    /// Faults: malformed answers.
    public var faultMalformed = 0
    /// Faults: answers with a wrong transaction id.
    public var faultWrongID = 0
    /// Faults: answers to another question.
    public var faultWrongQuestion = 0
    /// Faults: answers sent twice.
    public var faultDuplicated = 0
    /// Faults: answers sent from another port.
    public var faultWrongSourcePort = 0
    /// Faults: UDP queries dropped over the `maxQPS` limit.
    public var faultRateLimited = 0
    /// Faults: stream connections reset in the middle of an answer.
    public var faultReset = 0
    /// Faults: stream answers split across two writes.
    public var faultSplit = 0
    /// DNS over TCP (RFC 7766).
    public var tcp = DNSStreamCounters()
    /// DNS over TLS (RFC 7858).
    public var dot = DNSStreamCounters()
    /// DNS over HTTPS (RFC 8484, HTTP/2).
    public var doh = DNSStreamCounters()
    /// TCP connections accepted (`tcp.connections`).
    public var tcpConnections: Int {
        get { tcp.connections }
        set { tcp.connections = newValue }
    }
    /// TCP connections refused because `maxTCPConnections` were open (`tcp.refused`).
    public var tcpRefused: Int {
        get { tcp.refused }
        set { tcp.refused = newValue }
    }
    /// Queries received over TCP (`tcp.queries`).
    public var tcpQueries: Int {
        get { tcp.queries }
        set { tcp.queries = newValue }
    }
    /// Send calls that failed (the answer is lost; errno not kept per packet).
    public var sendErrors = 0
    /// UDP queries that arrived several to a message, coalesced by the kernel (UDP GRO:
    /// `DNSResponder.Configuration.receiveCoalescing`); included in `received`.
    public var receivedCoalesced = 0
    /// UDP answers that left in segmented messages (UDP GSO: equal-length answers to one client in
    /// one message, cut into datagrams by the kernel: `DNSResponder.Configuration.segmentOffload`).
    public var sentSegmented = 0
    /// Segmented sends the kernel refused (or a kernel without UDP GSO): the thread then sends one
    /// message per answer.
    public var segmentOffloadRefused = 0

    /// All zero.
    public init() {}

    /// Field-by-field sum.
    public static func + (a: Self, b: Self) -> Self {
        var sum = a
        sum.received += b.received
        sum.answered += b.answered
        sum.nxdomain += b.nxdomain
        sum.refused += b.refused
        sum.formerr += b.formerr
        sum.notimp += b.notimp
        sum.truncatedBySize += b.truncatedBySize
        sum.droppedNotAQuery += b.droppedNotAQuery
        sum.faultDropped += b.faultDropped
        sum.faultDelayed += b.faultDelayed
        sum.delayQueueFull += b.delayQueueFull
        sum.faultTruncated += b.faultTruncated
        sum.faultServfail += b.faultServfail
        sum.faultMalformed += b.faultMalformed
        sum.faultWrongID += b.faultWrongID
        sum.faultWrongQuestion += b.faultWrongQuestion
        sum.faultDuplicated += b.faultDuplicated
        sum.faultWrongSourcePort += b.faultWrongSourcePort
        sum.faultRateLimited += b.faultRateLimited
        sum.faultReset += b.faultReset
        sum.faultSplit += b.faultSplit
        sum.tcp = a.tcp + b.tcp
        sum.dot = a.dot + b.dot
        sum.doh = a.doh + b.doh
        sum.sendErrors += b.sendErrors
        sum.receivedCoalesced += b.receivedCoalesced
        sum.sentSegmented += b.sentSegmented
        sum.segmentOffloadRefused += b.segmentOffloadRefused
        return sum
    }

    /// `name=value` for every non-zero counter (and `received`), one line, for `evq serve`'s exit report.
    public var description: String {
        let fields: [(String, Int)] = [
            ("received", received), ("answered", answered), ("nxdomain", nxdomain), ("refused", refused),
            ("formerr", formerr), ("notimp", notimp), ("truncated_by_size", truncatedBySize),
            ("dropped_not_a_query", droppedNotAQuery), ("fault_dropped", faultDropped),
            ("fault_delayed", faultDelayed), ("delay_queue_full", delayQueueFull),
            ("fault_truncated", faultTruncated), ("fault_servfail", faultServfail),
            ("fault_malformed", faultMalformed), ("fault_wrong_id", faultWrongID),
            ("fault_wrong_question", faultWrongQuestion), ("fault_duplicated", faultDuplicated),
            ("fault_wrong_source_port", faultWrongSourcePort), ("fault_rate_limited", faultRateLimited),
            ("fault_reset", faultReset), ("fault_split", faultSplit), ("send_errors", sendErrors),
            ("received_coalesced", receivedCoalesced), ("sent_segmented", sentSegmented),
            ("segment_offload_refused", segmentOffloadRefused),
        ] + tcp.fields("tcp") + dot.fields("dot") + doh.fields("doh")
        return fields.filter { $0.1 != 0 || $0.0 == "received" }.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }
}

/// What the responder did on one stream transport (TCP, TLS or HTTPS), summed over its threads.
/// Every connection accepted ends in exactly one of `closedByPeer`, `resets`, `idleClosed` or
/// `closedAtStop`, so after `stop` they add up to `connections`.
public struct DNSStreamCounters: Sendable, Equatable {
    /// Connections accepted (and kept: not counting `refused`).
    public var connections = 0
    /// Connections closed at once because `maxTCPConnections` were open.
    public var refused = 0
    /// TLS handshakes completed (DoT, DoH).
    public var handshakes = 0
    /// TLS handshakes that resumed a session (a ticket), among `handshakes`.
    public var resumed = 0
    /// TLS handshakes that failed (not TLS, no shared version or cipher, for DoH no ALPN `h2`).
    public var handshakeFailures = 0
    /// Queries received (DNS messages; for DoH, requests for `/dns-query`, good or bad).
    public var queries = 0
    /// Answers sent (a duplicated answer counts twice; for DoH, `200` responses).
    public var answers = 0
    /// DoH requests answered with a 4xx status (wrong method, path, content type or body).
    public var badRequests = 0
    /// HTTP/2 streams reset (by the client, or by the reset fault).
    public var streamResets = 0
    /// Connections the client closed cleanly.
    public var closedByPeer = 0
    /// Connections closed on an error: a reset, a failed handshake, a protocol error, the reset fault.
    public var resets = 0
    /// Connections closed after the idle timeout (RFC 7766), a half-sent query among them.
    public var idleClosed = 0
    /// Connections open when the responder stopped.
    public var closedAtStop = 0

    /// All zero.
    public init() {}

    /// Field-by-field sum.
    public static func + (a: Self, b: Self) -> Self {
        var sum = a
        sum.connections += b.connections
        sum.refused += b.refused
        sum.handshakes += b.handshakes
        sum.resumed += b.resumed
        sum.handshakeFailures += b.handshakeFailures
        sum.queries += b.queries
        sum.answers += b.answers
        sum.badRequests += b.badRequests
        sum.streamResets += b.streamResets
        sum.closedByPeer += b.closedByPeer
        sum.resets += b.resets
        sum.idleClosed += b.idleClosed
        sum.closedAtStop += b.closedAtStop
        return sum
    }

    /// Connections that ended, one way or another.
    public var closed: Int { closedByPeer + resets + idleClosed + closedAtStop }

    func fields(_ prefix: String) -> [(String, Int)] {
        [("connections", connections), ("refused", refused), ("handshakes", handshakes), ("resumed", resumed),
         ("handshake_failures", handshakeFailures), ("queries", queries), ("answers", answers),
         ("bad_requests", badRequests), ("stream_resets", streamResets), ("closed_by_peer", closedByPeer),
         ("resets", resets), ("idle_closed", idleClosed), ("closed_at_stop", closedAtStop)]
            .map { ("\(prefix)_\($0.0)", $0.1) }
    }
}
