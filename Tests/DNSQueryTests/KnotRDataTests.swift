import DNSMessage
import DNSQuery
import EvqueryTestSupport
import Foundation
import Testing

/// RDATA of many types as knotd serves it (names in MINFO compressed, as knotd does) and as the
/// engine then prints it, the way `evq resolve` does: the same text kdig prints for the same
/// answer. (Where kdig's text departs from dig's — LOC's spacing, SVCB's unquoted alpn, EUI and
/// ILNP case and padding — DNSMessageTests holds the bytes to dig's text.)
@Suite struct KnotRDataTests {
    /// Records added to the zone of `KnotPeer` (origin example.test.).
    static let records: [(owner: String, type: String, rdata: String)] = [
        ("minfo", "MINFO", "rmail.example.test. email.example.test."),
        ("minfo2", "MINFO", "example.test. minfo.example.test."),
        ("rp", "RP", "admin.example.test. txt.example.test."),
        ("afsdb", "AFSDB", "1 afs.example.test."),
        ("rt", "RT", "10 relay.example.test."),
        ("kx", "KX", "10 kx.example.test."),
        ("naptr", "NAPTR", #"100 10 "U" "E2U+sip" "!^.*$!sip:info@example.test!" ."#),
        ("naptr2", "NAPTR", #"100 10 "S" "SIP+D2U" "" _sip._udp.example.test."#),
        ("dname", "DNAME", "target.example.test."),
        ("hinfo", "HINFO", #""x86-64" "Linux""#),
        ("ds", "DS", "12345 13 2 BE74359954660069D5C63D200C39F5603827D7DD02B56F120EE9F3A86764247C"),
        ("dnskey", "DNSKEY", "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="),
        ("tlsa", "TLSA", "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"),
        ("sshfp", "SSHFP", "4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789"),
        ("nsec", "NSEC", "next.example.test. A NS SOA RRSIG NSEC DNSKEY TYPE65000"),
        ("nsec3param", "NSEC3PARAM", "1 0 10 AABBCCDD"),
        ("uri", "URI", #"10 1 "https://www.example.test/""#),
        ("caa", "CAA", #"0 issue "ca.example.net""#),
        ("cds", "CDS", "12345 13 2 BE74359954660069D5C63D200C39F5603827D7DD02B56F120EE9F3A86764247C"),
        ("openpgpkey", "OPENPGPKEY", "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq"),
        ("https", "HTTPS", "0 alias.example.test."),
        ("csync", "CSYNC", "66 3 A NS AAAA"),
        ("zonemd", "ZONEMD", "2018031500 1 1 FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE"),
        ("lp", "LP", "10 l64.example.test."),
        ("spf", "SPF", #""v=spf1 -all""#),
        ("rrsig", "RRSIG", "A 13 3 300 20260101000000 20251201000000 12345 example.test. mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="),
        ("unknown", "TYPE65534", ##"\# 3 ABCDEF"##),
    ]

    static let zoneLines = records.map { "\($0.owner) IN \($0.type) \($0.rdata)" }.joined(separator: "\n")

    /// What `kdig +short` prints for the question, its words joined by one space (kdig pads some
    /// fields), or nil when kdig cannot be run.
    private func kdig(_ server: DNSServer, _ name: String, _ type: String) throws -> String? {
        let run = try ChildProcess.run(
            "/usr/bin/kdig", ["@127.0.0.1", "-p", "\(server.port)", "+short", "+time=5", "+retry=3", name, type],
            timeout: .seconds(60))
        guard run.exited && run.status == 0 else { return nil }
        return run.output.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    @Test func everyTypeKnotServesPrintsAsKdigPrintsIt() throws {
        let server = try KnotPeer.server.get()
        let requests = try Self.records.map { try DNSQueryRequest("\($0.owner).example.test.", type: DNSType(mnemonic: $0.type)!) }
        let outcomes = Outcomes()
        var configuration = testConfiguration(server, timeout: .seconds(10))
        configuration.attempts = 5
        try withEngine(configuration, operations: requests.count) { _, engine, ledger in
            for (index, request) in requests.enumerated() {
                engine.start(request, completion: recording(index, ledger, outcomes))
            }
            return requests.count
        }
        for (index, record) in Self.records.enumerated() {
            let name = "\(record.owner).example.test."
            let result = try #require(outcomes[index]?.result, "\(name)")
            let answer = try #require(result.answers.first, "\(name)")
            let printed = answer.data.presentation(for: answer.type)
            #expect(printed == record.rdata, "\(name)")
            #expect(try kdig(server, name, record.type) == printed, "\(name)")
        }
    }
}
