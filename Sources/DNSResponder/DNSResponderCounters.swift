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
    /// TCP connections accepted.
    public var tcpConnections = 0
    /// TCP connections refused because `maxTCPConnections` were open.
    public var tcpRefused = 0
    /// Queries received over TCP.
    public var tcpQueries = 0
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
        sum.tcpConnections += b.tcpConnections
        sum.tcpRefused += b.tcpRefused
        sum.tcpQueries += b.tcpQueries
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
            ("tcp_connections", tcpConnections),
            ("tcp_refused", tcpRefused), ("tcp_queries", tcpQueries), ("send_errors", sendErrors),
            ("received_coalesced", receivedCoalesced), ("sent_segmented", sentSegmented),
            ("segment_offload_refused", segmentOffloadRefused),
        ]
        return fields.filter { $0.1 != 0 || $0.0 == "received" }.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }
}
