import CLibevent
import EventReactor

/// libevent's evdns holding many queries outstanding against a server that never answers: the
/// evdns side of `evq hold` (tools/rss-per-query.sh), for the RSS-per-outstanding-query figure.
public enum EvdnsHold {
    /// How many queries evdns keeps in flight at most: its transaction ids are unique among the
    /// queries in flight and it draws until it finds a free one, so it is kept below 65,536; the
    /// rest wait in evdns's own queue (fully built, so they count in memory the same).
    public static let maxInflight = 60_000

    /// Starts `outstanding` A queries (distinct names `h<i>.<suffix>`) on a fresh `event_base` on the
    /// calling thread, runs the loop for `settleSeconds` so they are sent, calls `measure` while they
    /// are all outstanding, then frees the evdns base (which fails every query once, from deferred
    /// callbacks the loop then runs).
    /// - Returns: how many callbacks ran (each query's exactly once: `outstanding`).
    public static func hold(server: String, outstanding: Int, suffix: String, settleSeconds: Double,
                            measure: () -> Void) throws(EvdnsLoad.SetupError) -> Int {
        guard let base = event_base_new() else {
            throw EvdnsLoad.SetupError(description: "evdns: event_base_new failed")
        }
        defer { event_base_free(base) }
        guard let dns = evdns_base_new(base, 0) else {
            throw EvdnsLoad.SetupError(description: "evdns: evdns_base_new failed")
        }
        guard evdns_base_nameserver_ip_add(dns, server) == 0 else {
            evdns_base_free(dns, 0)
            throw EvdnsLoad.SetupError(description: "evdns: bad server address \(server)")
        }
        _ = evdns_base_set_option(dns, "max-inflight:", String(min(outstanding, maxInflight)))
        _ = evdns_base_set_option(dns, "timeout:", "3600")
        _ = evdns_base_set_option(dns, "attempts:", "1")
        _ = evdns_base_set_option(dns, "randomize-case:", "0")
        let completed = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        completed.initialize(to: 0)
        defer { completed.deallocate() }
        for index in 0..<outstanding {
            let request = "h\(index).\(suffix)".withCString {
                evdns_base_resolve_ipv4(dns, $0, DNS_QUERY_NO_SEARCH, holdCallback, completed)
            }
            if request == nil { throw EvdnsLoad.SetupError(description: "evdns: query \(index) was refused") }
        }
        var settle = timeval(tv_sec: Int(settleSeconds), tv_usec: Int((settleSeconds * 1e6)) % 1_000_000)
        event_base_loopexit(base, &settle)
        event_base_dispatch(base)
        measure()
        evdns_base_free(dns, 1)
        // Freeing fails every query through deferred callbacks: run the loop until they all ran.
        for _ in 0..<1_000 where completed.pointee < outstanding {
            event_base_loop(base, EVLOOP_NONBLOCK)
        }
        return completed.pointee
    }
}

/// Counts a held query's one callback (`arg` points at the count).
private let holdCallback: @convention(c) (Int32, CChar, Int32, Int32, UnsafeMutableRawPointer?,
                                          UnsafeMutableRawPointer?) -> Void = { _, _, _, _, _, arg in
    arg?.assumingMemoryBound(to: Int.self).pointee += 1
}
