import DNSMessage
import DNSQuery
import DNSResponder
import EventReactor

/// The DNS kind of `evq race`: one engine over the run's reactors asking an in-process responder
/// on 127.0.0.1 that plays faults. Retransmits are short (5 ms) so that a dropped query is asked
/// again within the race, and a truncated reply sends it on to TCP, so cancels land before the
/// send, while a reply waits in the socket buffer, between attempts and during TCP fallback.
final class RaceDNS: Sendable {
    let responder: DNSResponder
    let engine: DNSQueryEngine
    private let requests: [DNSQueryRequest]

    /// - Throws: `DNSResponderError` if the responder cannot start.
    init(group: ReactorGroup, faults: DNSFaults, seed: UInt64) throws {
        var responderConfiguration = DNSResponder.Configuration()
        responderConfiguration.faults = faults
        responderConfiguration.seed = seed
        responderConfiguration.threadName = "evq-race-resp"
        responder = try DNSResponder(responderConfiguration)
        try responder.start()
        var configuration = DNSQueryEngine.Configuration()
        configuration.servers = [DNSServer("127.0.0.1:\(responder.port)")!]
        configuration.retransmitInterval = .milliseconds(5)
        configuration.maxRetransmitInterval = .milliseconds(20)
        configuration.timeout = .milliseconds(500)
        configuration.tcpTimeout = .milliseconds(200)
        // Cancelled ids wait out a short quarantine: a race cancels thousands a second.
        configuration.quarantine = .milliseconds(200)
        configuration.serverPenalty = .zero
        engine = DNSQueryEngine(group: group, configuration: configuration)
        var options = DNSQueryOptions()
        options.resultDetail = .summary
        requests = try (0..<64).map { try DNSQueryRequest("r\($0).load.evq.test.", type: .a, options: options) }
    }

    /// Starts query `index`; `completion` runs once on its loop.
    func start(_ index: Int, completion: @escaping @Sendable (DNSQueryOutcome) -> Void)
        -> OperationHandle
    {
        engine.start(requests[index % requests.count], completion: completion).operation
    }

    /// Closes the engine's sockets (every query has ended by then) and returns its counters.
    func shutDownEngine() -> DNSQueryCounters {
        let counters = engine.counters()
        engine.shutdown()
        return counters
    }

    func stop() {
        engine.shutdown()
        responder.stop()
    }

    /// The engine paths the race went through.
    static func paths(_ counters: DNSQueryCounters) -> [String: Int] {
        ["sent_udp": counters.sentUDP, "sent_tcp": counters.sentTCP, "retransmits": counters.retransmits,
         "truncated": counters.truncated, "tcp_fallbacks": counters.tcpFallbacks,
         "dropped_late": counters.droppedLate, "dropped_duplicate": counters.droppedDuplicate,
         "timeouts": counters.timeouts]
    }
}
