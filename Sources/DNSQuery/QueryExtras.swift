import DNSMessage

/// The parts of a query that only some queries use — servers given in the request, the 0x20 case
/// mask, the search-list candidates — kept out of `QueryOperation` so the common query's object is
/// smaller (one more allocation for a query that uses them). Loop-bound like its query: written by
/// the starting thread before the reactor publishes the query, then only on the reactor thread.
final class QueryExtras {
    /// The request's servers (nil: the engine's).
    let servers: [DNSServer]?
    /// The 0x20 case mask of the current attempt (bit i%64 set: letter i of the name upper-cased).
    var caseSeed: UInt64 = 0
    /// The servers the query asks, once `attach` resolved them (`QueryOperation.list`).
    var list: ServerList?
    /// The search-list names to try in turn (nil: only the name asked).
    var candidates: [DNSName]?

    init(servers: [DNSServer]?) {
        self.servers = servers
    }
}
