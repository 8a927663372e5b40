/// Where an attempt waits for its reply: a UDP socket or a TCP connection to one server, with its
/// own transaction table. Loop-owned.
class QueryChannel {
    /// The server this channel talks to.
    unowned let server: ServerState
    /// id → waiting query, and the quarantine.
    let table: TransactionTable

    init(server: ServerState, table: TransactionTable) {
        self.server = server
        self.table = table
    }

    // The table calls on a query's path go through the channel: reached as `channel.table` from
    // outside, the table is retained and released around each call, while here it is borrowed.

    /// `table.allocate(owner:ids:nowMs:)`.
    final func allocateID(owner: UnsafeMutableRawPointer, ids: TransactionIDSource, nowMs: UInt32) -> UInt16? {
        table.allocate(owner: owner, ids: ids, nowMs: nowMs)
    }

    /// `table.release(_:untilMs:answered:)`.
    final func releaseID(_ id: UInt16, untilMs: UInt32, answered: Bool) {
        table.release(id, untilMs: untilMs, answered: answered)
    }

    /// `table.owner(of:)`.
    final func owner(of id: UInt16) -> UnsafeMutableRawPointer? {
        table.owner(of: id)
    }

    /// The transport this channel uses.
    var transport: DNSTransport { .udp }

    /// Called when an attempt on this channel released `id` (the channel may retire; a DoH
    /// connection resets the id's stream if it is still open).
    func didRelease(_ id: UInt16) {}
}

/// How a server is asked, and the transport an answer came over.
public enum DNSTransport: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// UDP (RFC 1035 §4.2.1), with TCP after a truncated reply.
    case udp
    /// TCP, with the two-byte length prefix (RFC 1035 §4.2.2): persistent connections, queries
    /// pipelined and answered in any order (RFC 7766).
    case tcp
    /// DNS over TLS (RFC 7858): TCP framing inside TLS 1.2 or 1.3, port 853 by convention.
    case tls
    /// DNS over HTTPS (RFC 8484): each query a request of its own on an HTTP/2 stream (POST, or GET
    /// with `?dns=`), many streams at once per connection, inside TLS with ALPN `h2`; port 443 by
    /// convention.
    case doh

    /// `UDP`, `TCP`, `TLS`, `DOH`.
    public var description: String { rawValue.uppercased() }

    /// The port a server given without one is asked on: 853 for DNS over TLS, 443 for DNS over
    /// HTTPS, else 53.
    public var defaultPort: UInt16 {
        switch self {
        case .udp, .tcp: 53
        case .tls: 853
        case .doh: 443
        }
    }

    /// Whether queries go over a stream connection (TCP, TLS, or HTTP/2 inside TLS).
    public var isStream: Bool { self != .udp }
}
