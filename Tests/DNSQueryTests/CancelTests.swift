import DNSMessage
import DNSQuery
import DNSResponder
import EventReactor
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Cancellation against replies in flight, and replies for ids whose query is gone.
@Suite struct CancelTests {
    /// Handles shared with the cancelling threads.
    final class Handles: Sendable {
        private let store: Locked<[QueryHandle?]>
        private let results: Locked<[CancelResult?]>
        init(_ count: Int) {
            store = Locked([QueryHandle?](repeating: nil, count: count))
            results = Locked([CancelResult?](repeating: nil, count: count))
        }
        func set(_ index: Int, _ handle: QueryHandle) { store.withLock { $0[index] = handle } }
        func handle(_ index: Int) -> QueryHandle? { store.withLock { $0[index] } }
        func setResult(_ index: Int, _ result: CancelResult) { results.withLock { $0[index] = result } }
        func result(_ index: Int) -> CancelResult? { results.withLock { $0[index] } }
    }

    @Test func cancelStormFromFourThreadsAgainstArrivingRepliesEndsEachQueryOnceWithTheCancelsVerdict() throws {
        let responder = try DNSResponder(DNSResponder.Configuration())
        try responder.start()
        defer { responder.stop() }
        let count = 20_000
        let configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: responder.port))
        let (cancelled, answered, counters) = try cancelStorm(configuration, count: count)
        #expect(cancelled + answered == count)
        #expect(counters.answered == answered)
        #expect(counters.droppedWrongID == 0 && counters.droppedWrongQuestion == 0)
        // Every reply read was either accepted or dropped and counted (late: its query was cancelled).
        #expect(counters.replies == counters.answered + counters.dropped)
        #expect(counters.replies <= responder.counters().answered)
    }

    /// A reply for the id of a cancelled or timed-out query arrives after new queries could have
    /// reused the id: the ids are in quarantine (no new query gets one), the stale replies are
    /// dropped and counted as late, and every new query gets its own answer. (evdns reuses the id
    /// at once, and the stale reply fails the new query.)
    @Test(arguments: [false, true])
    func staleReplyForAGoneQueryIsDroppedAndNeverFailsTheQueryThatCameAfter(timedOut: Bool) throws {
        let server = ScriptedServer()
        var bufferBytes: Int32 = 4 << 20  // 2,000 queries at once overflow the 208 KiB default.
        _ = setsockopt(server.fd, SOL_SOCKET, SO_RCVBUF, &bufferBytes, socklen_t(MemoryLayout<Int32>.size))
        var configuration = testConfiguration(server.address)
        configuration.socketsPerServer = 1
        configuration.maxSocketsPerServer = 1
        configuration.attempts = 1
        // The fresh queries wait for their replies however slow the machine (the old ones that
        // time out carry their own 100 ms).
        firstAttemptWaitsLong(&configuration)
        let gone = 2_000
        let fresh = 2_000
        let outcomes = Outcomes()
        var counters = DNSQueryCounters()
        try withEngine(configuration, operations: gone + fresh) { reactor, engine, ledger in
            // The first queries: read by the server, never answered, then cancelled or timed out.
            var old: [ScriptedServer.Query] = []
            var handles: [QueryHandle] = []
            for index in 0..<gone {
                var request = try DNSQueryRequest("old\(index).example.test.", type: .a)
                if timedOut { request.timeout = .milliseconds(100) }
                handles.append(engine.start(request, completion: recording(index, ledger, outcomes)))
            }
            while old.count < gone, let query = server.receive() { old.append(query) }
            #expect(old.count == gone)
            if !timedOut { for handle in handles { #expect(handle.cancel() == .cancelled) } }
            #expect(reactor.waitForDrain(timeoutNanos: 10_000_000_000))
            // The next queries on the same socket.
            for index in gone..<(gone + fresh) {
                let request = try DNSQueryRequest("new\(index).example.test.", type: .a)
                engine.start(request, completion: recording(index, ledger, outcomes))
            }
            var new: [ScriptedServer.Query] = []
            while new.count < fresh, let query = server.receive() { new.append(query) }
            #expect(new.count == fresh)
            let oldIDs = Set(old.map(\.id))
            #expect(new.allSatisfy { !oldIDs.contains($0.id) }, "a quarantined id was handed out again")
            // The stale replies first, then the right ones.
            let spoof = DNSIPv4Address(198, 51, 100, 66)
            for query in old { server.send(ScriptedServer.answer(query, address: spoof), to: query) }
            for query in new { server.send(ScriptedServer.answer(query), to: query) }
            #expect(reactor.waitForDrain(timeoutNanos: 10_000_000_000))
            counters = engine.counters()
            return gone + fresh
        }
        for index in 0..<gone {
            let outcome = try #require(outcomes[index])
            #expect(timedOut ? outcome.error == .timeout : outcome.isCancelled)
        }
        for index in gone..<(gone + fresh) {
            let result = try #require(outcomes[index]?.result)
            #expect(result.answers.map(\.data) == [.a(DNSIPv4Address(192, 0, 2, 1))])
        }
        #expect(counters.droppedLate == gone)
        #expect(counters.answered == fresh)
    }

    @Test(arguments: [false, true])
    func aSlowReplyToTheFirstCopyAnswersAQueryRetransmittedToTheSameServer(randomizeCase: Bool) throws {
        var request = try DNSQueryRequest("slow.example.test.", type: .a)
        request.options.randomizeCase = randomizeCase
        let (outcome, counters) = try scriptedQuery(request, configure: {
            $0.timeout = .seconds(5)
            $0.retransmitInterval = .milliseconds(100)
            $0.attempts = 3
        }) { server in
            // Two copies, 100 ms apart: the same transaction (socket, id and question case).
            let first = try #require(server.receive())
            let second = try #require(server.receive())
            #expect(second.id == first.id && second.from.sin_port == first.from.sin_port)
            #expect(second.message.questions[0].name.isIdentical(to: first.message.questions[0].name))
            // Byte for byte: the first copy came from the request's wire form, the second was written
            // from the query's own copies (the query no longer holds its request).
            #expect(second.bytes == first.bytes)
            // The server answers the first copy late, then the second: one answer, one duplicate.
            server.send(ScriptedServer.answer(first), to: first)
            server.send(ScriptedServer.answer(second), to: second)
        }
        let result = try #require(outcome?.result)
        #expect(result.attempts >= 2 && result.answers.count == 1)
        #expect(counters.answered == 1 && counters.droppedLate == 0 && counters.retransmits >= 1)
    }
}

/// Starts `count` queries from one thread while four others cancel them in step, then checks each
/// ended once with the cancel's verdict (the exactly-once audit runs in `withEngine`): how many
/// were cancelled, how many answered, and the engine's counters at the end.
@discardableResult
func cancelStorm(_ configuration: DNSQueryEngine.Configuration, count: Int,
                 name: String = "storm.load.evq.test.", sourceLocation: SourceLocation = #_sourceLocation)
    throws -> (cancelled: Int, answered: Int, counters: DNSQueryCounters)
{
    let outcomes = Outcomes()
    var counters = DNSQueryCounters()
    let handles = CancelTests.Handles(count)
    try withEngine(configuration, operations: count, { reactor, engine, ledger in
        let request = try DNSQueryRequest(name, type: .a)
        let started = Locked(0)
        ThreadTeam.run(5) { thread in
            if thread == 0 {
                for index in 0..<count {
                    handles.set(index, engine.start(request, completion: recording(index, ledger, outcomes)))
                    started.withLock { $0 = index + 1 }
                }
                return
            }
            var index = thread - 1
            while index < count {
                if started.withLock({ $0 }) <= index {
                    sched_yield()
                    continue
                }
                if let handle = handles.handle(index) { handles.setResult(index, handle.cancel()) }
                index += 4
            }
        }
        #expect(reactor.waitForDrain(timeout: .seconds(30)), sourceLocation: sourceLocation)
        counters = engine.counters()
        return count
    }, sourceLocation: sourceLocation)
    var cancelled = 0
    var answered = 0
    for index in 0..<count {
        let outcome = try #require(outcomes[index], sourceLocation: sourceLocation)
        switch handles.result(index) {
        case .cancelled?:
            #expect(outcome.isCancelled, sourceLocation: sourceLocation)
            cancelled += 1
        case .alreadyCompleted?:
            #expect(!outcome.isCancelled, "\(outcome)", sourceLocation: sourceLocation)
            if outcome.result != nil { answered += 1 }
        default:
            Issue.record("query \(index): cancel returned \(String(describing: handles.result(index)))",
                         sourceLocation: sourceLocation)
        }
    }
    #expect(cancelled > 0, sourceLocation: sourceLocation)
    return (cancelled, answered, counters)
}
