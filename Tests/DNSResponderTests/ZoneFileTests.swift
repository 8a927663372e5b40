import DNSMessage
import DNSResponder
import Foundation
import Testing

/// Zone files as a responder serves them: wildcard owners answer the names that do not exist below
/// their closest encloser (RFC 4592), and `$INCLUDE` reads files beside the including one; each
/// asked with a real query over UDP.
@Suite struct ZoneFileTests {
    static let wildcardZone = """
        $ORIGIN wild.test.
        $TTL 300
        @          IN SOA ns.wild.test. admin.wild.test. 1 3600 600 86400 60
        @          IN NS  ns
        ns         IN A   192.0.2.53
        *          IN A   192.0.2.99
        *          IN TXT "from the wildcard"
        host       IN A   192.0.2.1
        a.b        IN A   192.0.2.2
        *.cn       IN CNAME host
        *.sub      IN MX  10 host
        """

    private func names(_ records: [DNSResourceRecord]) -> [String] { records.map { "\($0.name)" } }

    @Test func aNameThatDoesNotExistIsAnsweredByTheWildcardAtItsClosestEncloserInTheQuestionsName() throws {
        try withResponder({ try $0.loadZone(text: Self.wildcardZone) }) { _, client in
            for name in ["anything.wild.test.", "Deep.Er.wild.test."] {
                let reply = try #require(try client.ask(name, .a))
                #expect(reply.rcode == .noError && reply.header.isAuthoritative)
                #expect(reply.answers.map(\.data) == [.a(DNSIPv4Address(192, 0, 2, 99))])
                #expect(reply.answers.first?.name.isIdentical(to: try DNSName(parsing: name)) == true, "\(name)")
            }
            let text = try #require(try client.ask("x.wild.test.", .txt))
            #expect(text.answers.map(\.data) == [.txt([Array("from the wildcard".utf8)])])
            let alias = try #require(try client.ask("q.cn.wild.test.", .a))
            #expect(names(alias.answers) == ["q.cn.wild.test."] && alias.answers.first?.type == .cname)
            let mail = try #require(try client.ask("m.sub.wild.test.", .mx))
            #expect(mail.answers.map(\.data) == [.mx(preference: 10, exchange: try DNSName(parsing: "host.wild.test."))])
        }
    }

    @Test func aWildcardWithoutTheAskedTypeGivesNoDataAndExistingNamesAreNeverWildcarded() throws {
        try withResponder({ try $0.loadZone(text: Self.wildcardZone) }) { _, client in
            // The wildcard owns A and TXT only.
            let noType = try #require(try client.ask("anything.wild.test.", .aaaa))
            #expect(noType.rcode == .noError && noType.answers.isEmpty && noType.authorities.first?.type == .soa)
            // host exists: its own A, and NODATA for TXT rather than the wildcard's answer.
            let host = try #require(try client.ask("host.wild.test.", .a))
            #expect(host.answers.map(\.data) == [.a(DNSIPv4Address(192, 0, 2, 1))])
            let hostTXT = try #require(try client.ask("host.wild.test.", .txt))
            #expect(hostTXT.rcode == .noError && hostTXT.answers.isEmpty)
            // b exists as an empty non-terminal (a.b owns records): NODATA, not the wildcard.
            let empty = try #require(try client.ask("b.wild.test.", .a))
            #expect(empty.rcode == .noError && empty.answers.isEmpty)
            // The asterisk asked literally is the wildcard's own name.
            let literal = try #require(try client.ask("*.wild.test.", .a))
            #expect(literal.answers.map(\.data) == [.a(DNSIPv4Address(192, 0, 2, 99))])
        }
    }

    @Test func belowAnExistingNameWithoutAWildcardOfItsOwnTheAnswerIsNXDOMAIN() throws {
        try withResponder({ try $0.loadZone(text: Self.wildcardZone) }) { responder, client in
            // Closest enclosers host, b and sub's wildcard-less child: no `*.` under them.
            for name in ["x.host.wild.test.", "x.b.wild.test.", "x.y.cn.wild.test.", "a.x.sub.wild.test."] {
                let reply = try #require(try client.ask(name, .a))
                #expect(reply.rcode == (name.hasPrefix("x.y.cn") || name.hasPrefix("a.x.sub") ? .noError : .nxDomain),
                        "\(name)")
            }
            #expect(responder.counters().nxdomain == 2)
        }
    }

    /// A scratch directory with `files` written into it, removed after `body`.
    private func withFiles(_ files: [String: String], _ body: (URL) throws -> Void) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("evq-zone-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("parts"),
                                                withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, text) in files {
            try text.write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        try body(directory)
    }

    @Test func includedFilesAreFoundBesideTheIncludingFileAndTakeTheOriginGiven() throws {
        let files = [
            "inc.test.zone": """
                $ORIGIN inc.test.
                $TTL 300
                @ IN SOA ns.inc.test. admin.inc.test. 1 3600 600 86400 60
                $INCLUDE parts/hosts.inc
                $INCLUDE parts/mail.inc mail.inc.test.
                after IN A 192.0.2.9
                """,
            "parts/hosts.inc": "www IN A 192.0.2.1\n$INCLUDE more.inc\n",
            "parts/more.inc": "api IN A 192.0.2.2\n",
            "parts/mail.inc": "@ IN MX 10 mx\nmx IN A 192.0.2.3\n",
        ]
        try withFiles(files) { directory in
            let path = directory.appendingPathComponent("inc.test.zone").path
            try withResponder({ try $0.loadZone(path: path) }) { _, client in
                let expected: [(String, DNSType, DNSRecordData)] = [
                    ("www.inc.test.", .a, .a(DNSIPv4Address(192, 0, 2, 1))),
                    ("api.inc.test.", .a, .a(DNSIPv4Address(192, 0, 2, 2))),
                    ("mail.inc.test.", .mx, .mx(preference: 10, exchange: try DNSName(parsing: "mx.mail.inc.test."))),
                    ("mx.mail.inc.test.", .a, .a(DNSIPv4Address(192, 0, 2, 3))),
                    // The origin is inc.test. again after the include that set another.
                    ("after.inc.test.", .a, .a(DNSIPv4Address(192, 0, 2, 9))),
                ]
                for (name, type, data) in expected {
                    let reply = try #require(try client.ask(name, type))
                    #expect(reply.answers.map(\.data) == [data], "\(name)")
                }
            }
        }
    }

    @Test func anIncludeLoopAMissingFileAndNestingTooDeepAreRefusedInWords() throws {
        var files = [
            "loop.zone": "$ORIGIN loop.test.\n$TTL 60\n@ IN SOA a. b. 1 1 1 1 1\n$INCLUDE parts/a.inc\n",
            "parts/a.inc": "x IN A 192.0.2.1\n$INCLUDE b.inc\n",
            "parts/b.inc": "$INCLUDE ../parts/a.inc\n",
            "missing.zone": "$ORIGIN m.test.\n$TTL 60\n$INCLUDE parts/nowhere.inc\n",
            "deep.zone": "$ORIGIN d.test.\n$TTL 60\n$INCLUDE parts/d1.inc\n",
        ]
        for level in 1...DNSZoneParser.maxIncludeDepth { files["parts/d\(level).inc"] = "$INCLUDE d\(level + 1).inc\n" }
        files["parts/d\(DNSZoneParser.maxIncludeDepth + 1).inc"] = "x IN A 192.0.2.1\n"
        try withFiles(files) { directory in
            func failure(_ name: String) -> String {
                var configuration = DNSResponder.Configuration()
                do {
                    try configuration.loadZone(path: directory.appendingPathComponent(name).path)
                    return "loaded"
                } catch {
                    return error.description
                }
            }
            let loop = failure("loop.zone")
            #expect(loop.contains("$INCLUDE loop:") && loop.contains("a.inc -> ") && loop.contains("b.inc -> "), "\(loop)")
            let missing = failure("missing.zone")
            #expect(missing.contains("line 3") && missing.contains("nowhere.inc: No such file or directory"),
                    "\(missing)")
            let deep = failure("deep.zone")
            #expect(deep.contains("deeper than \(DNSZoneParser.maxIncludeDepth)"), "\(deep)")
        }
    }

    @Test func zoneTextWithoutAFileRefusesInclude() {
        var configuration = DNSResponder.Configuration()
        #expect(throws: DNSResponderError.self) {
            try configuration.loadZone(text: "$ORIGIN t.\n$INCLUDE other.zone\n")
        }
    }
}
