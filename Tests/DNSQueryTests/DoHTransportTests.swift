import DNSMessage
import DNSQuery
import DNSResponder
import EventReactor
import EvqueryTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// DNS over HTTPS through the engine (RFC 8484): against the in-process responder's DoH port (HTTP/2
/// over TLS with ALPN h2, a certificate made here by openssl), POST and GET, many streams per
/// connection, a cancelled query's stream reset, the idle close with GOAWAY, and the failures a DoH
/// server can bring about, each in words.
@Suite struct DoHTransportTests {
    /// A responder serving DoH (and DoT) with `certificate`, configured further by `configure`.
    private static func responder(_ certificate: TestCertificate,
                                  _ configure: (inout DNSResponder.Configuration) -> Void = { _ in }) throws
        -> DNSResponder
    {
        var configuration = DNSResponder.Configuration()
        configuration.dotPort = 0
        configuration.dohPort = 0
        configuration.tlsCertificatePath = certificate.certificate
        configuration.tlsKeyPath = certificate.key
        configure(&configuration)
        let responder = try DNSResponder(configuration)
        try responder.start()
        return responder
    }

    /// Asking `port` over DoH, trusting `certificate`.
    private static func configuration(port: UInt16, _ certificate: TestCertificate) -> DNSQueryEngine.Configuration {
        var configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: port))
        configuration.transport = .doh
        configuration.tlsCAFile = certificate.certificate
        firstAttemptWaitsLong(&configuration)
        return configuration
    }

    @Test(arguments: [DNSTransport.tls, .doh])
    func anExpiredCertificateFailsVerificationInWordsEvenWithItsCA(transport: DNSTransport) throws {
        let certificate = try TestCertificate(expired: true)
        let responder = try Self.responder(certificate)
        defer { responder.stop() }
        var configuration = Self.configuration(
            port: transport == .doh ? responder.dohPort! : responder.dotPort!, certificate)
        configuration.transport = transport
        configuration.attempts = 1
        let (outcomes, counters) = try askAll(configuration, ["expired.load.evq.test."])
        let error = try #require(outcomes.first?.error)
        #expect("\(error)".contains("certificate verify failed"), "\(error)")
        #expect("\(error)".contains("expired"), "\(error)")
        #expect(counters.tlsFailures == 1, "\(counters)")
    }

    @Test(arguments: [DoHMethod.post, .get])
    func dohAnswersEveryQueryOnceOverConcurrentStreams(method: DoHMethod) throws {
        let certificate = try TestCertificate()
        let responder = try Self.responder(certificate)
        defer { responder.stop() }
        var configuration = Self.configuration(port: responder.dohPort!, certificate)
        configuration.dohMethod = method
        configuration.connectionsPerServer = 2
        let count = 600
        let (outcomes, counters) = try askAll(configuration, (0..<count).map { "d\($0).load.evq.test." })
        let results = outcomes.compactMap { $0.result }
        #expect(results.count == count)
        #expect(results.allSatisfy { $0.transport == .doh && $0.rcode == .noError && $0.answers.count == 1 })
        #expect(try results[7].name == DNSName(parsing: "d7.load.evq.test."))
        #expect(counters.tlsHandshakes == 2 && counters.connectionsFailed == 0 && counters.dohRefused == 0,
                "\(counters)")
        #expect(responder.counters().doh.answers == count)
    }

    @Test func cancelledDoHQueryResetsItsStreamAndTheOthersAreAnswered() throws {
        let certificate = try TestCertificate()
        // Every answer half a second late, so the cancel comes first.
        let responder = try Self.responder(certificate) {
            $0.faults.delayed = 1
            $0.faults.delay = .fixed(500_000_000)
        }
        defer { responder.stop() }
        let outcomes = Outcomes()
        var counters = DNSQueryCounters()
        try withEngine(Self.configuration(port: responder.dohPort!, certificate), operations: 3) { reactor, engine, ledger in
            var handles: [QueryHandle] = []
            for index in 0..<3 {
                handles.append(engine.start(try DNSQueryRequest("c\(index).load.evq.test.", type: .a),
                                            completion: recording(index, ledger, outcomes)))
            }
            // Once the three streams are open (the responder holds them), cancel the middle one.
            var waited = 0
            while responder.counters().doh.queries < 3, waited < 1000 {
                usleep(10_000)
                waited += 1
            }
            #expect(handles[1].cancel() == .cancelled)
            #expect(reactor.waitForDrain(timeoutNanos: 20_000_000_000))
            counters = engine.counters()
            return 3
        }
        #expect(outcomes[1]?.isCancelled == true)
        #expect(outcomes[0]?.result?.rcode == .noError && outcomes[2]?.result?.rcode == .noError)
        #expect(counters.streamResets == 1, "\(counters)")
        // The server saw the RST_STREAM.
        var waited = 0
        while responder.counters().doh.streamResets < 1, waited < 500 {
            usleep(10_000)
            waited += 1
        }
        #expect(responder.counters().doh.streamResets == 1)
    }

    @Test func idleDoHConnectionSendsGoawayClosesAndReconnects() throws {
        let certificate = try TestCertificate()
        let responder = try Self.responder(certificate)
        defer { responder.stop() }
        var configuration = Self.configuration(port: responder.dohPort!, certificate)
        configuration.tcpIdle = .milliseconds(20)
        let outcomes = Outcomes()
        var counters = DNSQueryCounters()
        try withEngine(configuration, operations: 3) { reactor, engine, ledger in
            for index in 0..<3 {
                engine.start(try DNSQueryRequest("i\(index).load.evq.test.", type: .a),
                             completion: recording(index, ledger, outcomes))
                #expect(reactor.waitForDrain(timeoutNanos: 10_000_000_000))
                var waited = 0
                while responder.counters().doh.closedByPeer < index + 1, waited < 500 {
                    usleep(10_000)
                    waited += 1
                }
            }
            counters = engine.counters()
            return 3
        }
        #expect((0..<3).allSatisfy { outcomes[$0]?.result?.transport == .doh })
        #expect(counters.connectionsOpened == 3 && counters.reconnects == 2 && counters.connectionsFailed == 0)
        // Closed by the client in good order: the responder read the GOAWAY.
        #expect(responder.counters().doh.closedByPeer == 3, "\(responder.counters().doh)")
    }

    @Test func wrongDoHPathFailsTheQueryNamingTheHTTPStatus() throws {
        let certificate = try TestCertificate()
        let responder = try Self.responder(certificate)
        defer { responder.stop() }
        var configuration = Self.configuration(port: responder.dohPort!, certificate)
        configuration.dohPath = "/not-dns"
        configuration.attempts = 1
        let (outcomes, counters) = try askAll(configuration, ["p0.load.evq.test.", "p1.load.evq.test."])
        #expect(outcomes.count == 2)
        for outcome in outcomes {
            #expect(outcome.error == .connectionFailed("the DoH server answered HTTP status 404"))
        }
        #expect(counters.dohRefused == 2 && counters.connectionsFailed == 0)
    }

    @Test func dohToAServerThatDoesNotChooseH2FailsInWords() throws {
        let certificate = try TestCertificate()
        let responder = try Self.responder(certificate)
        defer { responder.stop() }
        // The DoT port speaks TLS but offers no ALPN.
        var configuration = Self.configuration(port: responder.dotPort!, certificate)
        configuration.attempts = 1
        let error = try #require(try askAll(configuration, ["alpn.load.evq.test."]).outcomes.first?.error)
        #expect("\(error)".contains("did not agree to HTTP/2 by ALPN (chose none)"), "\(error)")
    }

    @Test func streamResetByTheServerFailsTheQueryInWordsAndTheOthersGoOn() throws {
        let certificate = try TestCertificate()
        let responder = try Self.responder(certificate) { $0.faults.reset = 0.5 }
        defer { responder.stop() }
        var configuration = Self.configuration(port: responder.dohPort!, certificate)
        configuration.attempts = 1
        let count = 200
        let (all, counters) = try askAll(configuration, (0..<count).map { "x\($0).load.evq.test." })
        let reset = all.filter { $0.error == .connectionFailed("the DoH server reset the stream (INTERNAL_ERROR)") }
        #expect(all.count == count)
        #expect(reset.count == counters.streamResets && reset.count == responder.counters().faultReset, "\(counters)")
        #expect(reset.count > 0 && all.filter { $0.result?.rcode == .noError }.count == count - reset.count)
    }

    @Test func cancelStormFromFourThreadsOverDoHEndsEachQueryOnce() throws {
        let certificate = try TestCertificate()
        let responder = try Self.responder(certificate)
        defer { responder.stop() }
        var configuration = Self.configuration(port: responder.dohPort!, certificate)
        configuration.connectionsPerServer = 3
        try cancelStorm(configuration, count: 3_000)
    }
}

/// Starts one A query per name on a fresh engine, waits for them all, and returns the outcomes that
/// came (in order) and the counters, after the exactly-once audit.
func askAll(_ configuration: DNSQueryEngine.Configuration, _ names: [String],
            sourceLocation: SourceLocation = #_sourceLocation) throws -> (outcomes: [DNSQueryOutcome], counters: DNSQueryCounters)
{
    let outcomes = Outcomes()
    var counters = DNSQueryCounters()
    try withEngine(configuration, operations: names.count, { reactor, engine, ledger in
        for (index, name) in names.enumerated() {
            engine.start(try DNSQueryRequest(name, type: .a), completion: recording(index, ledger, outcomes))
        }
        #expect(reactor.waitForDrain(timeoutNanos: 30_000_000_000), sourceLocation: sourceLocation)
        counters = engine.counters()
        return names.count
    }, sourceLocation: sourceLocation)
    return (names.indices.compactMap { outcomes[$0] }, counters)
}

/// The bad input a DoH server can send, each from a server the test plays (`ScriptedDoHServer`): a
/// clear error for the queries it touches, counted, never a hang or a trap, and the other queries go on.
@Suite struct DoHBadInputTests {
    /// Asks `count` queries of `server` over DoH (one connection, `attempts` each); the outcomes in
    /// order and the counters, after the audit.
    private func ask(_ server: ScriptedDoHServer, _ certificate: TestCertificate, count: Int = 2, attempts: Int = 1,
                     _ configure: (inout DNSQueryEngine.Configuration) -> Void = { _ in }) throws
        -> ([DNSQueryOutcome], DNSQueryCounters)
    {
        var configuration = testConfiguration(server.address)
        configuration.transport = .doh
        configuration.tlsCAFile = certificate.certificate
        firstAttemptWaitsLong(&configuration)
        configuration.attempts = attempts
        configure(&configuration)
        let (outcomes, counters) = try askAll(configuration, (0..<count).map { "b\($0).example.test." })
        try #require(outcomes.count == count)
        return (outcomes, counters)
    }

    @Test func httpErrorStatusFailsItsQueryNamingTheStatusAndTheOtherIsAnswered() throws {
        let certificate = try TestCertificate()
        let server = ScriptedDoHServer([.status(503)], certificate: certificate)
        defer { server.stop() }
        let (outcomes, counters) = try ask(server, certificate)
        #expect(outcomes[0].error == .connectionFailed("the DoH server answered HTTP status 503"))
        #expect(outcomes[1].result?.rcode == .noError)
        #expect(counters.dohRefused == 1)
    }

    @Test func wrongContentTypeFailsItsQueryInWordsAndTheOtherIsAnswered() throws {
        let certificate = try TestCertificate()
        let server = ScriptedDoHServer([.contentType("text/html; charset=utf-8")], certificate: certificate)
        defer { server.stop() }
        let (outcomes, counters) = try ask(server, certificate)
        #expect(outcomes[0].error == .connectionFailed(
            "the DoH server answered with content-type text/html; charset=utf-8, not application/dns-message"))
        #expect(outcomes[1].result?.rcode == .noError)
        #expect(counters.dohRefused == 1)
    }

    @Test func answerLongerThan65535BytesResetsItsStreamAndFailsItsQueryInWords() throws {
        let certificate = try TestCertificate()
        let server = ScriptedDoHServer([.oversized], certificate: certificate)
        defer { server.stop() }
        let (outcomes, counters) = try ask(server, certificate)
        #expect(outcomes[0].error == .connectionFailed("the DoH server's answer is longer than 65,535 bytes"))
        #expect(outcomes[1].result?.rcode == .noError)
        #expect(counters.dohRefused == 1 && counters.droppedMalformed == 1)
    }

    @Test func goawayLetsItsLastStreamFinishAndTheStreamsAboveItAskOnANewConnection() throws {
        let certificate = try TestCertificate()
        let server = ScriptedDoHServer([.goawayAfterFirst, .answer], certificate: certificate)
        defer { server.stop() }
        // One attempt each: the refused streams are asked again without counting one.
        let (outcomes, counters) = try ask(server, certificate, count: 4)
        #expect(outcomes.allSatisfy { $0.result?.rcode == .noError }, "\(outcomes)")
        #expect(outcomes[0].result?.attempts == 1)
        #expect(counters.goaways == 1 && counters.connectionsOpened == 2 && counters.reconnects == 1, "\(counters)")
        #expect(server.connections == 2)
    }

    @Test func serverClosingMidStreamFailsTheQueryWaitingOnTheConnectionInWords() throws {
        let certificate = try TestCertificate()
        // The second stream is answered, then the first gets its headers and the connection closes.
        let server = ScriptedDoHServer([.closeMidStream], certificate: certificate)
        defer { server.stop() }
        let (outcomes, counters) = try ask(server, certificate)
        #expect(outcomes[0].error == .connectionFailed("the peer closed the connection"), "\(outcomes[0])")
        #expect(outcomes[1].result?.rcode == .noError)
        #expect(counters.connectionsFailed == 1 && counters.tlsFailures == 0)
    }

    @Test func serverClosingMidStreamIsRetriedOnANewConnectionWhileAttemptsRemain() throws {
        let certificate = try TestCertificate()
        let server = ScriptedDoHServer([.closeMidStream, .answer], certificate: certificate)
        defer { server.stop() }
        let (outcomes, counters) = try ask(server, certificate, attempts: 2)
        #expect(outcomes[0].result?.attempts == 2 && outcomes[1].result?.attempts == 1, "\(outcomes)")
        #expect(counters.connectionsFailed == 1 && counters.reconnects == 1)
    }

    @Test func serverThatNeverSendsSettingsFailsTheConnectionInWords() throws {
        let certificate = try TestCertificate()
        let server = ScriptedDoHServer([.noSettings], certificate: certificate)
        defer { server.stop() }
        let (outcomes, counters) = try ask(server, certificate) { $0.tcpTimeout = .seconds(2) }
        for outcome in outcomes {
            #expect(outcome.error == .connectionFailed("the DoH server sent no HTTP/2 SETTINGS within 1000 ms"))
        }
        #expect(counters.connectionsFailed == 1)
    }

    @Test func streamsBeyondTheServersConcurrencyLimitWaitTheirTurn() throws {
        let certificate = try TestCertificate()
        let server = ScriptedDoHServer([.answer], certificate: certificate, maxConcurrentStreams: 3)
        defer { server.stop() }
        let (outcomes, counters) = try ask(server, certificate, count: 40)
        #expect(outcomes.allSatisfy { $0.result?.rcode == .noError })
        #expect(server.maxOpenStreams <= 3 && server.maxOpenStreams > 0, "\(server.maxOpenStreams)")
        #expect(counters.connectionsOpened == 1 && counters.streamResets == 0)
    }
}

/// The stream code TCP and DNS over TLS share, over TLS: a server that closes mid-stream, and a
/// length prefix longer than its data, from a TLS server the test plays.
@Suite struct DoTBadInputTests {
    private func ask(_ behaviour: ScriptedDoHServer.Behaviour) throws -> (DNSQueryOutcome?, DNSQueryCounters) {
        let certificate = try TestCertificate()
        let server = ScriptedDoHServer([behaviour], certificate: certificate)
        defer { server.stop() }
        var configuration = testConfiguration(server.address)
        configuration.transport = .tls
        configuration.tlsCAFile = certificate.certificate
        firstAttemptWaitsLong(&configuration)
        configuration.attempts = 1
        let (outcomes, counters) = try askAll(configuration, ["t.example.test."])
        return (outcomes.first, counters)
    }

    @Test func dotServerClosingMidStreamFailsTheQueryInWords() throws {
        let (outcome, counters) = try ask(.dotCloseAfterQuery)
        #expect(outcome?.error == .connectionFailed("the peer closed the connection"), "\(String(describing: outcome))")
        #expect(counters.connectionsFailed == 1 && counters.tlsHandshakes == 1 && counters.tlsFailures == 0)
    }

    @Test func dotLengthPrefixLongerThanItsDataThenCloseFailsTheQueryInWords() throws {
        let (outcome, counters) = try ask(.dotShortFrame)
        #expect(outcome?.error == .connectionFailed("the server closed the connection inside a reply"), "\(String(describing: outcome))")
        #expect(counters.connectionsFailed == 1 && counters.droppedMalformed == 1)
    }
}
