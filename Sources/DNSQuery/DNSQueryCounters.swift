/// What an engine did, summed over its shards: sends, replies, and every reply it refused and why.
/// A snapshot (`DNSQueryEngine.counters()`).
public struct DNSQueryCounters: Sendable, Equatable, CustomStringConvertible {
    /// UDP datagrams sent.
    public var sentUDP = 0
    /// Queries sent over streams (TCP, TLS, DoH).
    public var sentTCP = 0
    /// Sends the socket refused for now (`EAGAIN`): treated as lost, the retry timer covers them.
    public var sendsDeferred = 0
    /// Queued UDP queries not sent because their attempt ended (cancelled, timed out) before the
    /// batch went out.
    public var sendsSkipped = 0
    /// UDP queries that went out in segmented messages (UDP GSO: several equal-length queries to one
    /// socket in one message, cut into datagrams by the kernel); included in `sentUDP`.
    public var sentSegmented = 0
    /// Segmented sends the kernel refused (`EIO`, `EINVAL`: no segmentation on that device), or a
    /// kernel without UDP GSO found on the first socket; the shard then sends one message per query.
    public var segmentOffloadRefused = 0
    /// Sends that failed with an errno, and sockets or connections that could not be opened.
    public var sendErrors = 0
    /// Receive calls that failed with an errno (for instance `ECONNREFUSED` after an ICMP error).
    public var receiveErrors = 0
    /// ICMP errors (`ECONNREFUSED`, `EHOSTUNREACH`, …) read from a UDP socket: each failed the
    /// attempts waiting on that socket at once.
    public var unreachable = 0
    /// Replies read (UDP datagrams and TCP frames).
    public var replies = 0
    /// UDP replies that arrived several to a message, coalesced by the kernel (UDP GRO:
    /// `DNSQueryEngine.Configuration.receiveCoalescing`); included in `replies`.
    public var repliesCoalesced = 0
    /// Queries completed with an answer.
    public var answered = 0
    /// Replies dropped: no query outstanding or quarantined under that id on that socket.
    public var droppedWrongID = 0
    /// Replies dropped: the id was outstanding but the question differed (name, case with 0x20,
    /// type, class).
    public var droppedWrongQuestion = 0
    /// Replies dropped: the id and source were right but the opcode was not the query's (QUERY):
    /// a reply answers the operation it was asked, so another opcode is not this query's answer.
    public var droppedWrongOpcode = 0
    /// Replies accepted with bytes after their last record (`DNSReplySummary.trailingBytes`).
    public var repliesWithTrailingBytes = 0
    /// Replies dropped: not a parseable response (too short, QR clear, bad question, cut by the
    /// buffer, or records that do not parse).
    public var droppedMalformed = 0
    /// Replies dropped: the id was in quarantine after a cancel, a timeout or a retry that moved to
    /// another server or to TCP, or the query was already ending.
    public var droppedLate = 0
    /// Replies dropped: a second reply to an id that was just answered.
    public var droppedDuplicate = 0
    /// Truncated (TC) UDP replies.
    public var truncated = 0
    /// Queries moved to TCP after a truncated reply.
    public var tcpFallbacks = 0
    /// Queries asked again without EDNS after FORMERR.
    public var ednsFallbacks = 0
    /// Attempts that timed out and were retried.
    public var retransmits = 0
    /// Queries that ended with `.timeout`.
    public var timeouts = 0
    /// Queries that ended with `.limitReached`.
    public var limitReached = 0
    /// UDP sockets opened and closed (rotation closes old ones after their quarantine).
    public var socketsOpened = 0
    public var socketsClosed = 0
    /// Stream connections (TCP, TLS) opened and closed.
    public var connectionsOpened = 0
    public var connectionsClosed = 0
    /// Connections opened again in a slot whose earlier connection had closed (idle, or by the server).
    public var reconnects = 0
    /// Connections that ended with queries outstanding, mid-reply, or in a TLS failure, and
    /// connections that could not be opened.
    public var connectionsFailed = 0
    /// TLS handshakes completed, and how many of them resumed a kept session.
    public var tlsHandshakes = 0
    public var tlsResumed = 0
    /// TLS failures: a certificate or name that did not verify, a handshake or record error.
    public var tlsFailures = 0
    /// HTTP/2 streams reset: by the engine (a query cancelled or timed out before its DoH answer, an
    /// answer over 65,535 bytes) or by the server.
    public var streamResets = 0
    /// DoH answers refused: an HTTP status other than 200, a content-type other than
    /// `application/dns-message`, a body over 65,535 bytes. Each failed its query in words.
    public var dohRefused = 0
    /// GOAWAY frames DoH servers sent.
    public var goaways = 0
    /// Queries started with a tag on the loop that took the object of one that had ended there,
    /// instead of allocating one.
    public var queriesReused = 0

    /// All zero.
    public init() {}

    /// Every reply that was read but not accepted.
    public var dropped: Int {
        droppedWrongID + droppedWrongQuestion + droppedWrongOpcode + droppedMalformed + droppedLate + droppedDuplicate
    }

    static func + (a: Self, b: Self) -> Self {
        var sum = a
        sum.sentUDP += b.sentUDP
        sum.sentTCP += b.sentTCP
        sum.sendsDeferred += b.sendsDeferred
        sum.sendsSkipped += b.sendsSkipped
        sum.sentSegmented += b.sentSegmented
        sum.segmentOffloadRefused += b.segmentOffloadRefused
        sum.sendErrors += b.sendErrors
        sum.receiveErrors += b.receiveErrors
        sum.unreachable += b.unreachable
        sum.replies += b.replies
        sum.repliesCoalesced += b.repliesCoalesced
        sum.answered += b.answered
        sum.droppedWrongID += b.droppedWrongID
        sum.droppedWrongQuestion += b.droppedWrongQuestion
        sum.droppedWrongOpcode += b.droppedWrongOpcode
        sum.repliesWithTrailingBytes += b.repliesWithTrailingBytes
        sum.droppedMalformed += b.droppedMalformed
        sum.droppedLate += b.droppedLate
        sum.droppedDuplicate += b.droppedDuplicate
        sum.truncated += b.truncated
        sum.tcpFallbacks += b.tcpFallbacks
        sum.ednsFallbacks += b.ednsFallbacks
        sum.retransmits += b.retransmits
        sum.timeouts += b.timeouts
        sum.limitReached += b.limitReached
        sum.socketsOpened += b.socketsOpened
        sum.socketsClosed += b.socketsClosed
        sum.queriesReused += b.queriesReused
        sum.connectionsOpened += b.connectionsOpened
        sum.connectionsClosed += b.connectionsClosed
        sum.reconnects += b.reconnects
        sum.connectionsFailed += b.connectionsFailed
        sum.tlsHandshakes += b.tlsHandshakes
        sum.tlsResumed += b.tlsResumed
        sum.tlsFailures += b.tlsFailures
        sum.streamResets += b.streamResets
        sum.dohRefused += b.dohRefused
        sum.goaways += b.goaways
        return sum
    }

    public var description: String {
        "sent udp=\(sentUDP) (segmented \(sentSegmented)) tcp=\(sentTCP) replies=\(replies) (coalesced \(repliesCoalesced)) answered=\(answered) dropped: "
            + "wrong_id=\(droppedWrongID) wrong_question=\(droppedWrongQuestion) "
            + "wrong_opcode=\(droppedWrongOpcode) malformed=\(droppedMalformed) "
            + "late=\(droppedLate) duplicate=\(droppedDuplicate); trailing_bytes=\(repliesWithTrailingBytes) "
            + "truncated=\(truncated) "
            + "tcp_fallbacks=\(tcpFallbacks) edns_fallbacks=\(ednsFallbacks) retransmits=\(retransmits) "
            + "timeouts=\(timeouts) limit=\(limitReached) unreachable=\(unreachable) "
            + "sockets=\(socketsOpened)/\(socketsClosed) reused=\(queriesReused) "
            + "connections=\(connectionsOpened)/\(connectionsClosed) reconnects=\(reconnects) "
            + "connection_failures=\(connectionsFailed) tls_handshakes=\(tlsHandshakes) (resumed \(tlsResumed)) "
            + "tls_failures=\(tlsFailures) stream_resets=\(streamResets) doh_refused=\(dohRefused) goaways=\(goaways)"
    }
}
