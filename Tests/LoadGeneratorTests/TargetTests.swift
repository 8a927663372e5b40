import DNSMessage
import DNSResponder
import Foundation
import LinuxSystem
import Testing

@testable import LoadGenerator

/// `evq load`'s targets as a real client mix reaches them: IPv6 servers on ::1 for every engine,
/// source addresses the sockets spread over (127.0.0.2–127.0.0.9 exist on loopback without
/// setup), the refusals in words, and the response codes the floor and evdns engines can tell.
/// Each run ends with the exactly-once audit; nothing asserts a speed.
@Suite("evq load targets: IPv6, source addresses, every engine's rcodes", .serialized)
struct TargetTests {
    private func configuration(_ servers: [String], _ change: (inout LoadConfiguration) -> Void = { _ in })
        -> LoadConfiguration
    {
        var configuration = LoadConfiguration()
        configuration.servers = servers
        configuration.duration = .seconds(5)
        configuration.outstanding = 20
        configuration.quiet = true
        configuration.cancelRate = 0
        configuration.timeout = .seconds(1)
        configuration.maxQueries = 600
        change(&configuration)
        return configuration
    }

    private func responder(address: String = "127.0.0.1", zone: String? = nil) throws -> DNSResponder {
        var configuration = DNSResponder.Configuration()
        configuration.address = address
        if let zone { try configuration.loadZone(text: zone, origin: try DNSName(parsing: "cap.test.")) }
        let responder = try DNSResponder(configuration)
        try responder.start()
        return responder
    }

    @Test(arguments: LoadEngineKind.allCases)
    func everyEngineLoadsAResponderOnIPv6Loopback(_ engine: LoadEngineKind) throws {
        let responder = try responder(address: "::1")
        defer { responder.stop() }
        let (report, _) = try LoadRun.run(configuration(["[::1]:\(responder.port)"]) { $0.engine = engine })
        #expect(report.audit.ok, "\(report.audit)")
        #expect(report.sent == 600)
        #expect(report.rcodes == ["NOERROR": 600], "\(engine): \(report.rcodes) \(report.outcomes)")
        #expect(report.server == "[::1]:\(responder.port)")
    }

    @Test(arguments: [LoadEngineKind.evquery, .floor])
    func queriesSpreadOverEverySourceAddressAndTheServerSeesEachOne(_ engine: LoadEngineKind) throws {
        let server = try EchoServer()
        defer { server.stop() }
        let sources = (2...9).map { "127.0.0.\($0)" }
        let (report, _) = try LoadRun.run(configuration(["127.0.0.1:\(server.port)"]) {
            $0.engine = engine
            $0.localAddresses = sources
            $0.maxQueries = 2000
        })
        #expect(report.audit.ok, "\(report.audit)")
        #expect(report.sent == 2000)
        let seen = server.sources
        #expect(Set(seen.keys).isSuperset(of: sources), "\(engine): \(seen)")
        // The probe query may come from the first source too; nothing else is a source.
        #expect(Set(seen.keys).isSubset(of: sources), "\(seen)")
    }

    @Test func evdnsRefusesASourceAddressInWords() throws {
        // libevent's bind-to: is not applied toward a loopback server: it would send from 127.0.0.1.
        let evdns = configuration(["127.0.0.1:53"]) {
            $0.engine = .evdns
            $0.localAddresses = ["127.0.0.5"]
        }
        let failure = try #require(throws: LoadRun.Failure.self) { try evdns.validate() }
        #expect(failure.description.hasPrefix("--engine evdns cannot send from a --local-address"), "\(failure)")
    }

    @Test func eachServerTakesTheSourcesOfItsOwnFamily() throws {
        let v4 = try EchoServer()
        defer { v4.stop() }
        let v6 = try EchoServer(host: "::1")
        defer { v6.stop() }
        let (report, _) = try LoadRun.run(configuration(["127.0.0.1:\(v4.port)", "[::1]:\(v6.port)"]) {
            $0.localAddresses = ["::1", "127.0.0.3"]
        })
        #expect(report.audit.ok, "\(report.audit)")
        #expect(v4.sources.keys.sorted() == ["127.0.0.3"] && v6.sources.keys.sorted() == ["::1"],
                "\(v4.sources) \(v6.sources)")
        #expect(report.servers?.map(\.server) == ["127.0.0.1:\(v4.port)", "[::1]:\(v6.port)"])
    }

    /// Why `validate` refuses a load of `servers` from `sources`, in its words.
    private func refusal(_ servers: [String], sources: [String]) throws -> String {
        let load = configuration(servers) { $0.localAddresses = sources }
        return try #require(throws: LoadRun.Failure.self) { try load.validate() }.description
    }

    @Test func aSourceAddressThisHostLacksIsRefusedInWordsBeforeAnyQuery() throws {
        // 198.18.0.0/15 is the benchmarking range: no interface here has it, so bind fails.
        #expect(try refusal(["127.0.0.1:53"], sources: ["198.18.0.1"])
                == "--local-address 198.18.0.1: bind: Cannot assign requested address (errno 99)")
        let portFailure = try refusal(["127.0.0.1:53"], sources: ["127.0.0.2:53"])
        #expect(portFailure.contains("a source address takes no port"), "\(portFailure)")
    }

    @Test func aServerWithNoSourceOfItsFamilyIsRefused() throws {
        #expect(try refusal(["127.0.0.1:53"], sources: ["::1"])
                == "--server 127.0.0.1:53 is IPv4, but no --local-address is IPv4")
        #expect(try refusal(["[::1]:53"], sources: ["127.0.0.2"])
                == "--server [::1]:53 is IPv6, but no --local-address is IPv6")
    }

    @Test(arguments: ["::1:53", "[::1", "localhost"])
    func anAmbiguousOrMalformedServerIsRefusedInWords(_ text: String) throws {
        let bad = configuration([text])
        let failure = try #require(throws: LoadRun.Failure.self) { try bad.validate() }
        #expect(failure.description.hasPrefix("--server \"\(text)\": "), "\(failure)")
    }

    static let zone = """
        $TTL 300
        @ IN SOA ns.cap.test. admin.cap.test. 1 3600 600 86400 300
        @ IN NS ns.cap.test.
        ns IN A 127.0.0.1
        www IN A 192.0.2.1
        """

    /// A run of `engine` over `queries`, one at a time (one socket: the workload's order holds), each
    /// asked 100 times of a responder serving `Self.zone`.
    private func rcodeRun(_ engine: LoadEngineKind, _ queries: [WorkloadQuery]) throws -> LoadReport {
        let responder = try responder(zone: Self.zone)
        defer { responder.stop() }
        return try LoadRun.run(configuration(["127.0.0.1:\(responder.port)"]) {
            $0.engine = engine
            $0.reactors = 1
            $0.outstanding = 1
            $0.queries = queries
            $0.maxQueries = 100 * queries.count
        }).0
    }

    @Test func theFloorCountsEveryHeaderRcodeAndNodataApartFromAnswers() throws {
        let report = try rcodeRun(.floor, [
            WorkloadQuery(name: "www.cap.test", type: "A"),       // NOERROR with an answer
            WorkloadQuery(name: "www.cap.test", type: "MX"),      // NOERROR, no answer: NODATA
            WorkloadQuery(name: "none.cap.test", type: "A"),      // NXDOMAIN
            WorkloadQuery(name: "elsewhere.example", type: "A"),  // REFUSED
        ])
        #expect(report.audit.ok, "\(report.audit)")
        #expect(report.rcodes == ["NOERROR": 200, "NXDOMAIN": 100, "REFUSED": 100], "\(report.rcodes)")
        #expect(report.nodata == 100 && report.outcomes["answered"] == 100 && report.outcomes["nodata"] == 100)
        #expect(report.rcodesNote?.contains("4-bit") == true)
        #expect(report.text.contains("rcodes          NOERROR=200 NXDOMAIN=100 REFUSED=100   (nodata=100)"))
    }

    @Test func evdnsCountsTheRcodesLibeventTellsAndSaysWhichItCannot() throws {
        let report = try rcodeRun(.evdns, [
            WorkloadQuery(name: "www.cap.test", type: "A"),     // NOERROR with an answer
            WorkloadQuery(name: "www.cap.test", type: "AAAA"),  // NOERROR, no answer: NODATA
            WorkloadQuery(name: "none.cap.test", type: "A"),    // NXDOMAIN
        ])
        #expect(report.audit.ok, "\(report.audit)")
        #expect(report.rcodes == ["NOERROR": 200, "NXDOMAIN": 100], "\(report.rcodes) \(report.outcomes)")
        #expect(report.nodata == 100 && report.outcomes["answered"] == 100)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect((root["rcodes_note"] as? String)?.contains("DNS_ERR_UNKNOWN") == true)
    }

    @Test func aLinesNoEDNSDropsTheRunsDOForThatQueryAndALinesDOBringsEDNSBack() throws {
        var run = QueryFlags()
        run.dnssecOK = true
        var line = QueryFlags()
        line.noEDNS = true
        let combined = run.adding(line)
        #expect(combined.noEDNS && !combined.dnssecOK && run.isNarrowed(by: line))
        var noEDNSRun = QueryFlags()
        noEDNSRun.noEDNS = true
        var doLine = QueryFlags()
        doLine.dnssecOK = true
        let back = noEDNSRun.adding(doLine)
        #expect(back.dnssecOK && !back.noEDNS && !noEDNSRun.isNarrowed(by: doLine))
        #expect(throws: Datafile.ParseError(line: 2, reason: "no-edns with dnssec-ok or edns-size: DO and the size "
                + "travel in the EDNS OPT record that no-edns leaves out")) {
            try Datafile.parse("a.cap.test A\nb.cap.test A dnssec-ok no-edns\n")
        }

        // On the wire: a run without EDNS, a line asking DO gets an OPT record with DO set.
        let server = try EchoServer()
        defer { server.stop() }
        let parsed = try Datafile.parse("plain.cap.test A\nsigned.cap.test A dnssec-ok\n")
        let (report, _) = try LoadRun.run(configuration(["127.0.0.1:\(server.port)"]) {
            $0.queries = parsed.queries
            $0.flags.noEDNS = true
            $0.maxQueries = 100
        })
        #expect(report.audit.ok, "\(report.audit)")
        for query in server.queries where query.count > 13 {
            let signed = query[13] == UInt8(ascii: "s")
            let additional = Int(query[10]) << 8 | Int(query[11])
            #expect(additional == (signed ? 1 : 0))
            if signed { #expect(query.suffix(11).dropFirst(7).first! & 0x80 != 0, "DO set") }
        }
    }
}
