import DNSQuery
import DNSResponder
import EventReactor
import Testing

/// README.md's embedding example, compiled and run: the text between the two marker lines is the
/// README's code block, line for line (`tools/check-docs.sh` compares them).
@Suite struct EmbeddingExampleTests {
    @Test func readmeExampleStartsAQueryCancelsItAndGetsCancelledExactlyOnce() throws {
        // BEGIN README EXAMPLE
        // A responder on 127.0.0.1 that answers every name under load.evq.test., each reply
        // a second late, so the cancel below surely comes first.
        var server = DNSResponder.Configuration()
        server.faults.delayed = 1
        server.faults.delay = .fixed(1_000_000_000)
        let responder = try DNSResponder(server)
        try responder.start()

        let reactor = try Reactor()  // one libevent loop on epoll, on a thread of its own
        let baseline = reactor.auditBaseline()
        var configuration = DNSQueryEngine.Configuration()
        configuration.servers = [DNSServer(ipv4: 127, 0, 0, 1, port: responder.port)]
        let engine = DNSQueryEngine(reactor: reactor, configuration: configuration)

        let ledger = CompletionLedger(capacity: 1)
        let outcomes = Locked<[DNSQueryOutcome]>([])
        let request = try DNSQueryRequest("www.load.evq.test.", type: .a)
        let handle = engine.start(request) { outcome in
            // On the reactor's thread, exactly once, never inside start() or cancel().
            ledger.record(0)
            outcomes.withLock { $0.append(outcome) }
        }
        let verdict = handle.cancel()  // any thread; returns at once: .cancelled

        reactor.waitForDrain()
        engine.shutdown()  // closes the engine's sockets and frees their events
        let audit = reactor.audit(since: baseline, ledger: ledger, started: 1)
        print(verdict, outcomes.withLock { $0 }, audit)
        // cancelled [….failure(cancelled (caller))] started=1 completed=1 double=0 missed=0 … OK
        reactor.shutdown()
        responder.stop()
        // END README EXAMPLE

        #expect(verdict == .cancelled)
        let ended = outcomes.withLock { $0 }
        #expect(ended.count == 1)
        #expect(ended.first?.isCancelled == true)
        #expect(ledger.completions(of: 0) == 1)
        #expect(audit.ok, "\(audit)")
        #expect(audit.started == 1 && audit.completed == 1)
    }
}
