@testable import DNSMessage
import Foundation
import Testing

@Suite("Real packets from knotd and dig")
struct FixtureTests {
    @Test("every reply parses to what dig printed, field by field", arguments: Fixture.all)
    func replyMatchesDig(fixture: Fixture) throws {
        let message = try DNSMessage(parsing: fixture.reply)
        let dig = try DigOutput(fixture.digText)
        #expect(message.header.id == dig.id)
        #expect(message.rcode.description == dig.status)
        #expect(dig.opcode == "QUERY" && message.header.opcode == .query)
        let flags: [(String, Bool)] = [
            ("qr", message.header.isResponse), ("aa", message.header.isAuthoritative),
            ("tc", message.header.isTruncated), ("rd", message.header.recursionDesired),
            ("ra", message.header.recursionAvailable), ("ad", message.header.authenticData),
            ("cd", message.header.checkingDisabled),
        ]
        for (name, isSet) in flags { #expect(dig.flags.contains(name) == isSet, "flag \(name)") }
        #expect(dig.counts["QUERY"] == message.questions.count)
        #expect(dig.counts["ANSWER"] == message.answers.count)
        #expect(dig.counts["AUTHORITY"] == message.authorities.count)
        #expect(dig.counts["ADDITIONAL"] == message.additionals.count + (message.edns == nil ? 0 : 1))
        #expect(message.edns?.version == dig.ednsVersion)
        #expect(message.edns?.udpPayloadSize == dig.udpSize)
        #expect((message.edns?.dnssecOK ?? false) == dig.ednsDO)
        #expect(message.answers == (dig.sections["ANSWER"] ?? []))
        #expect(message.authorities == (dig.sections["AUTHORITY"] ?? []))
        #expect(message.additionals == (dig.sections["ADDITIONAL"] ?? []))
        // Same case too (==) is case-insensitive: compare wire forms.
        for (ours, digs) in zip(message.answers, dig.sections["ANSWER"] ?? []) {
            #expect(ours.name.isIdentical(to: digs.name))
        }
        let question = try #require(message.questions.first)
        let digQuestion = dig.question.dropFirst().split(whereSeparator: { $0 == "\t" || $0 == " " })
        #expect(question.name.description == String(digQuestion[0]))
        #expect(question.class.description == String(digQuestion[1]))
        #expect(question.type.description == String(digQuestion[2]))
    }

    @Test("every reply printed by us reads back as the same records", arguments: Fixture.all)
    func presentationRoundTrip(fixture: Fixture) throws {
        let message = try DNSMessage(parsing: fixture.reply)
        for record in message.answers + message.authorities + message.additionals {
            #expect(try DNSResourceRecord(parsing: record.description) == record, "\(record)")
        }
    }

    @Test("every reply re-serialized parses back to the same message", arguments: Fixture.all)
    func serializeRoundTrip(fixture: Fixture) throws {
        let message = try DNSMessage(parsing: fixture.reply)
        let bytes = message.serialized()
        #expect(try DNSMessage(parsing: bytes) == message)
        #expect(bytes.count <= fixture.reply.count, "our compression is at least as good as knot's")
    }

    @Test("every dig query parses; its question is what dig asked and the reply's view matches it",
          arguments: Fixture.all)
    func queryAndReplyQuestionsMatch(fixture: Fixture) throws {
        let query = try DNSMessage(parsing: fixture.query)
        let reply = try DNSMessage(parsing: fixture.reply)
        #expect(query.header.id == reply.header.id)
        #expect(!query.header.isResponse && reply.header.isResponse)
        #expect(query.questions.count == 1)
        #expect(query.questions[0].name.isIdentical(to: reply.questions[0].name))
        try fixture.query.withUnsafeBytes { queryBytes in
            try fixture.reply.withUnsafeBytes { replyBytes in
                let view = try DNSMessageView(replyBytes)
                let queryView = try DNSMessageView(queryBytes)
                #expect(view.questionMatches(query: queryView, caseSensitive: true))
                #expect(view.questionMatches(name: query.questions[0].name, type: query.questions[0].type))
                #expect(!view.questionMatches(name: query.questions[0].name, type: DNSType(999)))
                var iterator = view.records()
                var viewed: [DNSResourceRecord] = []
                while let record = try iterator.next() {
                    if record.type != .opt { viewed.append(try record.decoded()) }
                }
                #expect(viewed == reply.answers + reply.authorities + reply.additionals)
            }
        }
    }

    @Test("dig's queries carry EDNS as dig set it: cookie option, DO bit, or no OPT")
    func queryEDNS() throws {
        let plain = try DNSMessage(parsing: Fixture.load("a").query)
        #expect(plain.edns?.options.first?.code == 10, "dig sends a COOKIE option by default")
        #expect(plain.edns?.options.first?.data.count == 8)
        #expect(try DNSMessage(parsing: Fixture.load("a-dnssec").query).edns?.dnssecOK == true)
        #expect(try DNSMessage(parsing: Fixture.load("a-noedns").query).edns == nil)
    }

    @Test("0x20: the reply keeps the mixed case; a case-sensitive match against a different case fails")
    func mixedCase() throws {
        let fixture = Fixture.load("a-0x20")
        try fixture.reply.withUnsafeBytes { bytes in
            let view = try DNSMessageView(bytes)
            #expect(view.questionMatches(name: "wWw.ExAmPlE.cOm.", type: .a, caseSensitive: true))
            #expect(!view.questionMatches(name: "www.example.com.", type: .a, caseSensitive: true))
            #expect(view.questionMatches(name: "www.example.com.", type: .a, caseSensitive: false))
        }
    }

    @Test("the zone knotd served loads, and holds every record knotd answered with")
    func zoneFileHoldsEveryAnswer() throws {
        let zone = Set(try DNSZoneParser.parse(Fixture.zoneText))
        #expect(zone.count == 40)
        for fixture in Fixture.all {
            let message = try DNSMessage(parsing: fixture.reply)
            for record in message.answers + message.authorities + message.additionals {
                #expect(zone.contains(record), "\(fixture): \(record)")
            }
        }
    }
}
