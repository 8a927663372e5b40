import DNSMessage
import DNSQuery
import EventReactor
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// DNS over TCP, over TLS and over HTTPS against a real server: unbound on 127.0.0.1 (tools/unbound-server.sh)
/// with a self-signed certificate made at run time. The answers must be kdig's (`+tcp`, `+tls`, `+https`).
@Suite(.enabled(if: UnboundPeer.isInstalled, "unbound is not installed: tools/install-test-peers.d/unbound.sh"))
struct UnboundTransportTests {
    let ports: UnboundPeer.Ports

    init() throws {
        ports = try UnboundPeer.server.get()
    }

    /// A configuration asking unbound over `transport`, trusting its certificate.
    private func configuration(_ transport: DNSTransport) -> DNSQueryEngine.Configuration {
        let port = switch transport {
        case .tls: ports.tls
        case .doh: ports.https
        default: ports.dns
        }
        var configuration = testConfiguration(DNSServer(ipv4: 127, 0, 0, 1, port: port))
        configuration.transport = transport
        configuration.tlsCAFile = ports.certificate
        firstAttemptWaitsLong(&configuration)
        return configuration
    }

    /// Asks each request once over `configuration`; the outcomes in order, with the counters.
    private func ask(_ requests: [DNSQueryRequest], _ configuration: DNSQueryEngine.Configuration)
        throws -> ([DNSQueryOutcome], DNSQueryCounters)
    {
        let outcomes = Outcomes()
        var counters = DNSQueryCounters()
        try withEngine(configuration, operations: requests.count) { reactor, engine, ledger in
            for (index, request) in requests.enumerated() {
                engine.start(request, completion: recording(index, ledger, outcomes))
            }
            #expect(reactor.waitForDrain(timeoutNanos: 20_000_000_000))
            counters = engine.counters()
            return requests.count
        }
        return ((0..<requests.count).compactMap { outcomes[$0] }, counters)
    }

    /// `kdig +short` of `name type` over `flags` (`+tcp`, `+tls`) at `port`, one answer per line, sorted.
    private func kdig(_ name: String, _ type: String, port: UInt16, _ flags: [String]) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/kdig")
        process.arguments = ["-p", "\(port)", "@127.0.0.1", "+short", "+timeout=5"] + flags + [name, type]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).sorted()
    }

    @Test(arguments: [DNSTransport.tcp, .tls, .doh])
    func answersOverTheTransportAreKdigs(transport: DNSTransport) throws {
        let names = ["www.example.test.", "n7.example.test.", "n512.example.test."]
        var requests = try names.map { try DNSQueryRequest($0, type: .a) }
        requests.append(try DNSQueryRequest("www.example.test.", type: .aaaa))
        let (outcomes, counters) = try ask(requests, configuration(transport))
        #expect(outcomes.count == requests.count)
        let verified = ["+tls-ca=\(ports.certificate)", "+tls-hostname=dns.evq.test"]
        let (flags, port) = switch transport {
        case .tls: (verified, ports.tls)
        case .doh: (["+https"] + verified, ports.https)
        default: (["+tcp"], ports.dns)
        }
        for (index, outcome) in outcomes.enumerated() {
            let result = try #require(outcome.result, "\(outcome)")
            #expect(result.transport == transport)
            let ours = result.answers.map { record -> String in
                switch record.data {
                case .a(let address): "\(address)"
                case .aaaa(let address): "\(address)"
                default: "\(record.data)"
                }
            }.sorted()
            let type = index == 3 ? "AAAA" : "A"
            let name = index == 3 ? names[0] : names[index]
            #expect(ours == (try kdig(name, type, port: port, flags)), "\(name) \(type)")
        }
        if transport != .tcp { #expect(counters.tlsHandshakes == 1 && counters.tlsFailures == 0) }
        if transport == .doh { #expect(counters.dohRefused == 0 && counters.streamResets == 0, "\(counters)") }
    }

    @Test func tlsSessionIsResumedWhenTheConnectionReopens() throws {
        var configuration = configuration(.tls)
        configuration.tcpIdle = .milliseconds(20)
        let outcomes = Outcomes()
        var counters = DNSQueryCounters()
        try withEngine(configuration, operations: 3) { reactor, engine, ledger in
            for index in 0..<3 {
                engine.start(try DNSQueryRequest("www.example.test.", type: .a), completion: recording(index, ledger, outcomes))
                #expect(reactor.waitForDrain(timeoutNanos: 10_000_000_000))
                var waited = 0
                while engine.counters().connectionsClosed < index + 1, waited < 500 {
                    usleep(10_000)
                    waited += 1
                }
            }
            counters = engine.counters()
            return 3
        }
        #expect((0..<3).allSatisfy { outcomes[$0]?.result?.transport == .tls })
        #expect(counters.tlsHandshakes == 3 && counters.reconnects == 2)
        #expect(counters.tlsResumed >= 1, "\(counters)")
    }

    @Test func selfSignedCertificateWithoutItsCAFailsVerificationInWords() throws {
        var configuration = configuration(.tls)
        configuration.tlsCAFile = nil  // the system's store, which does not hold it
        configuration.attempts = 1
        let (outcomes, counters) = try ask([try DNSQueryRequest("www.example.test.", type: .a)], configuration)
        let error = try #require(outcomes.first?.error)
        #expect("\(error)".contains("certificate verify failed"), "\(error)")
        #expect("\(error)".contains("self-signed"), "\(error)")
        #expect(counters.tlsFailures == 1)
    }

    @Test func certificateForAnotherNameFailsVerificationInWords() throws {
        var configuration = configuration(.tls)
        configuration.tlsServerName = "other.evq.test"
        configuration.attempts = 1
        let (outcomes, counters) = try ask([try DNSQueryRequest("www.example.test.", type: .a)], configuration)
        let error = try #require(outcomes.first?.error)
        #expect("\(error)".contains("certificate verify failed"), "\(error)")
        #expect("\(error)".lowercased().contains("hostname mismatch"), "\(error)")
        #expect(counters.tlsFailures == 1)
    }

    @Test func insecureAcceptsTheSelfSignedCertificate() throws {
        var configuration = configuration(.tls)
        configuration.tlsCAFile = nil
        configuration.tlsVerifiesPeer = false
        let (outcomes, _) = try ask([try DNSQueryRequest("www.example.test.", type: .a)], configuration)
        #expect(outcomes.first?.result?.transport == .tls)
    }

    @Test func missingCAFileFailsTheQueryNamingTheFile() throws {
        var configuration = configuration(.tls)
        configuration.tlsCAFile = "/nonexistent/ca.pem"
        configuration.attempts = 1
        let (outcomes, _) = try ask([try DNSQueryRequest("www.example.test.", type: .a)], configuration)
        let error = try #require(outcomes.first?.error)
        #expect("\(error)".contains("/nonexistent/ca.pem: No such file or directory"), "\(error)")
    }

    @Test(arguments: [DNSTransport.tcp, .tls, .doh])
    func cancelStormFromFourThreadsAgainstUnboundEndsEachQueryOnce(transport: DNSTransport) throws {
        var configuration = configuration(transport)
        configuration.connectionsPerServer = 2
        try cancelStorm(configuration, count: 3_000, name: "www.example.test.")
    }
}
