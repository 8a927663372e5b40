import DNSMessage
import DNSQuery
import DNSResponder
import EventReactor
import EvqueryTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What a caller meets when the input is wrong or the server is not there: errors that say what
/// failed, on what and why, in words, with the exact text pinned.
@Suite struct BadInputMessageTests {
    @Test(arguments: [
        ("localhost:53", 0, #""localhost" is not a numeric IPv4 or IPv6 address (host names are not resolved)"#),
        ("not-an-ip", 0, #""not-an-ip" is not a numeric IPv4 or IPv6 address (host names are not resolved)"#),
        ("127.0.0.1:99999", 10, "port 99999 is out of range (1…65535)"),
        ("127.0.0.1:x", 10, #"expected a port number after ':', not "x""#),
        ("1.2.3", 0, #""1.2.3" is not a valid IPv4 or IPv6 address"#),
        ("[::1", 4, "expected ']' after the IPv6 address"),
        ("[::1]x", 5, "expected ':PORT' after ']'"),
        ("", 0, "expected an address, HOST[:PORT] or [IPv6]:PORT"),
    ])
    func aServerTextThatIsNotANumericAddressSaysWhereAndWhatWasExpected(
        _ text: String, _ position: Int, _ reason: String
    ) {
        #expect(throws: DNSServerParseError(text: text, position: position, reason: reason)) {
            try DNSServer(parsing: text)
        }
        #expect(DNSServerParseError(text: text, position: position, reason: reason).description
                == "server \"\(text)\": \(reason)")
        #expect(DNSServer(text) == nil)
    }

    @Test func anIPv6ServerInBracketsWithAPortIsAccepted() throws {
        let server = try DNSServer(parsing: "[::1]:5353")
        #expect(server.isIPv6 && server.port == 5353 && server.description == "[::1]:5353")
    }

    @Test(arguments: [
        (String(repeating: "a", count: 64) + ".com",
         "label longer than 63 bytes: \"\(String(repeating: "a", count: 64))…\""),
        ("www..example.com", "empty label (two dots in a row, or a leading dot)"),
        ("foo bar.com", "character U+0020 is not allowed unescaped: write it as \\032"),
        ("tab\there.com", "character U+0009 is not allowed unescaped: write it as \\009"),
        ("bücher.de", "non-ASCII character \"ü\": give an internationalized name as its IDNA A-label (xn--…)"),
    ])
    func anInvalidNameKeepsTheParsersReason(_ name: String, _ reason: String) {
        #expect(throws: DNSQueryError.invalidName(name, reason: reason)) {
            try DNSQueryRequest(name, type: .a)
        }
        #expect(DNSQueryError.invalidName(name, reason: reason).description == "invalid name \"\(name)\": \(reason)")
    }

    @Test func aSpaceWrittenAsAnEscapeAndAnALabelAreAsked() throws {
        let escaped = try DNSQueryRequest(#"foo\032bar.com"#, type: .a)
        #expect(escaped.name.labels.first == Array("foo bar".utf8)[...])
        let aLabel = try DNSQueryRequest("xn--bcher-kva.de", type: .a)
        #expect(aLabel.name.description == "xn--bcher-kva.de.")
    }

    @Test func networkErrorsPrintTheErrnoTextWithItsNumber() {
        #expect(DNSQueryError.network(errno: ECONNREFUSED).description == "no reply: Connection refused (errno 111)")
        #expect(DNSQueryError.network(errno: EDESTADDRREQ).description == "no server to ask: the server list is empty")
        #expect(DNSQueryError.timeout.description == "no reply before the deadline")
        #expect(DNSQueryError.serverFailure(rcode: .servFail).description == "the server answered SERVFAIL")
    }

    @Test func aQueryToAPortWhereNothingListensEndsWithConnectionRefusedInWords() throws {
        let closed = DNSServer(ipv4: 127, 0, 0, 1, port: Loopback.freeUDPPort())
        let outcomes = Outcomes()
        try withEngine(testConfiguration(closed, timeout: .seconds(60)), operations: 1) { reactor, engine, ledger in
            engine.start(try DNSQueryRequest("refused.example.test", type: .a), completion: recording(0, ledger, outcomes))
            #expect(reactor.waitForDrain(timeoutNanos: 20_000_000_000))
            return 1
        }
        #expect(outcomes[0]?.error?.description == "no reply: Connection refused (errno 111)")
    }

    @Test func anEngineWithNoServerSaysTheListIsEmpty() throws {
        var configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1))
        configuration.servers = []
        let outcomes = Outcomes()
        try withEngine(configuration, operations: 1) { _, engine, ledger in
            engine.start(try DNSQueryRequest("nowhere.example.test", type: .a), completion: recording(0, ledger, outcomes))
            return 1
        }
        #expect(outcomes[0]?.error?.description == "no server to ask: the server list is empty")
    }

    @Test func anAlreadyCancelledTaskThrowsCancelledAndSendsNothing() async throws {
        let responder = try DNSResponder(DNSResponder.Configuration())
        try responder.start()
        defer { responder.stop() }
        let configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: responder.port))
        try await withEngine(configuration, operations: 1) { _, engine, ledger in
            let request = try DNSQueryRequest("first.load.evq.test.", type: .a)
            let cancelledTask = Task { () async -> DNSQueryError? in
                withUnsafeCurrentTask { $0?.cancel() }
                do {
                    _ = try await engine.query(request)
                    return nil
                } catch let error as DNSQueryError {
                    return error
                } catch {
                    return nil
                }
            }
            let error = await cancelledTask.value
            guard case .cancelled(let info)? = error else {
                Issue.record("expected cancelled, got \(String(describing: error))")
                return 0
            }
            #expect(info.reason == .task)
            // A query after it goes out on the same socket: had the first one been sent, the responder
            // would count it before this one.
            let answer = try await engine.query(try DNSQueryRequest("second.load.evq.test.", type: .a))
            ledger.record(0)
            #expect(answer.rcode == .noError)
            #expect(responder.counters().received == 1)
            return 1
        }
    }
}
