@testable import DNSMessage
import Testing

@Suite("Query builder and message view")
struct QueryBuilderTests {
    @Test("a built query is byte-for-byte what dig sent for the same question (no cookie)")
    func builtQueryEqualsDigs() throws {
        let fixture = Fixture.load("a-dnssec")
        let digQuery = try DNSMessage(parsing: fixture.query)
        var buffer = [UInt8](repeating: 0xEE, count: 512)
        let count = buffer.withUnsafeMutableBytes { out in
            DNSQueryBuilder.write(into: out, id: digQuery.header.id, name: "www.example.com.", type: .a,
                                  flags: digQuery.header.flags,
                                  edns: .init(udpPayloadSize: digQuery.edns!.udpPayloadSize, dnssecOK: true))
        }
        #expect(Array(buffer.prefix(try #require(count))) == fixture.query)
    }

    @Test("a built query parses back with every field, with and without EDNS")
    func builtQueryParses() throws {
        var buffer = [UInt8](repeating: 0, count: 512)
        for edns in [nil, DNSQueryBuilder.EDNS(udpPayloadSize: 4096, dnssecOK: true)] {
            let count = buffer.withUnsafeMutableBytes { out in
                DNSQueryBuilder.write(into: out, id: 0xCAFE, name: "MiXeD.example.org.", type: .aaaa, edns: edns)
            }
            let message = try DNSMessage(parsing: Array(buffer.prefix(try #require(count))))
            #expect(message.header.id == 0xCAFE && message.header.recursionDesired && !message.header.isResponse)
            #expect(message.questions == [DNSQuestion(name: "mixed.example.org.", type: .aaaa)])
            #expect(message.questions[0].name.isIdentical(to: "MiXeD.example.org."))
            #expect(message.edns?.udpPayloadSize == edns?.udpPayloadSize)
            #expect(message.edns?.dnssecOK == edns?.dnssecOK)
        }
    }

    @Test("a buffer too small gets nil, for every size below the need")
    func smallBuffer() {
        let name: DNSName = "www.example.com."
        let need = DNSQueryBuilder.size(nameWireCount: name.wire.count, edns: .init())
        for size in 0..<need {
            var buffer = [UInt8](repeating: 0, count: size)
            #expect(buffer.withUnsafeMutableBytes {
                DNSQueryBuilder.write(into: $0, id: 1, name: name, type: .a, edns: .init())
            } == nil)
        }
    }

    @Test("the view reads header fields and A addresses without a full parse")
    func viewReadsAnswers() throws {
        let fixture = Fixture.load("many")
        try fixture.reply.withUnsafeBytes { bytes in
            let view = try DNSMessageView(bytes)
            #expect(view.isResponse && !view.isTruncated && view.rcodeLow == 0)
            #expect(view.answerCount == 20 && view.questionCount == 1)
            var records = view.records()
            var addresses: [String] = []
            while let record = try records.next() {
                if record.section == .answer { addresses.append(try #require(record.ipv4Address).description) }
            }
            #expect(addresses == (101...120).map { "192.0.2.\($0)" })
        }
    }

    @Test("the question check's byte-for-byte shortcut agrees with the label walk")
    func questionMatchShortcutAgreesWithTheLabelWalk() throws {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = try #require(buffer.withUnsafeMutableBytes {
            DNSQueryBuilder.write(into: $0, id: 9, name: "Mixed.Example.", type: .a)
        })
        func matches(_ wire: [UInt8], caseSensitive: Bool) -> Bool {
            buffer.withUnsafeBytes { raw in
                guard let view = try? DNSMessageView(UnsafeRawBufferPointer(rebasing: raw[..<count])) else { return false }
                return wire.withUnsafeBytes {
                    view.questionMatches(name: $0, type: .a, class: .in, caseSensitive: caseSensitive)
                }
            }
        }
        let exact = Array(buffer[12..<(count - 4)])
        #expect(matches(exact, caseSensitive: true) && matches(exact, caseSensitive: false))
        let lower = try DNSName(parsing: "mixed.example.").wire
        #expect(!matches(lower, caseSensitive: true) && matches(lower, caseSensitive: false))
        // Bytes that equal the reply's but are not a plain wire name never match: one cut short of
        // its root label, and one whose last label length says more than is there.
        #expect(!matches(Array(exact.dropLast()), caseSensitive: false))
        var overlong = exact
        overlong[6] = 64
        #expect(!matches(overlong, caseSensitive: false))
    }

    @Test("the question check fails on another type, class, name, or more than one question")
    func questionMismatch() throws {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = try #require(buffer.withUnsafeMutableBytes {
            DNSQueryBuilder.write(into: $0, id: 9, name: "a.example.", type: .a)
        })
        try buffer.withUnsafeBytes { raw in
            let view = try DNSMessageView(UnsafeRawBufferPointer(rebasing: raw[..<count]))
            #expect(view.questionMatches(name: "a.example.", type: .a))
            #expect(!view.questionMatches(name: "a.example.", type: .aaaa))
            #expect(!view.questionMatches(name: "a.example.", type: .a, class: .ch))
            #expect(!view.questionMatches(name: "b.example.", type: .a))
            #expect(!view.questionMatches(name: "a.example.org.", type: .a))
            #expect(!view.questionMatches(name: "example.", type: .a))
            #expect(!view.questionMatches(name: .root, type: .a))
        }
        buffer[5] = 2
        buffer.withUnsafeBytes { raw in
            let view = try? DNSMessageView(UnsafeRawBufferPointer(rebasing: raw[..<count]))
            #expect(view?.questionMatches(name: "a.example.", type: .a) != true)
        }
    }
}

@Suite("Message view: EDNS")
struct MessageViewEDNSTests {
    @Test("the view finds the OPT record and the full rcode without a full parse")
    func viewEDNS() throws {
        var message = DNSMessage(header: DNSHeader(id: 3, flags: 0x8000),
                                 questions: [DNSQuestion(name: "a.example.", type: .a)],
                                 additionals: [DNSResourceRecord(name: "b.example.", ttl: 1, data: .ns("c.example."))])
        message.edns = DNSEDNS(udpPayloadSize: 4096, dnssecOK: true)
        message.rcode = .badVers
        let bytes = message.serialized()
        try bytes.withUnsafeBytes { raw in
            let view = try DNSMessageView(raw)
            #expect(try view.rcode() == .badVers)
            let opt = try #require(try view.optRecord()?.ednsHeader)
            #expect(opt.udpPayloadSize == 4096 && opt.dnssecOK && opt.version == 0 && opt.extendedRcode == 1)
        }
        let noEDNS = Fixture.load("a-noedns").reply
        try noEDNS.withUnsafeBytes { raw in
            let view = try DNSMessageView(raw)
            let opt = try view.optRecord()
            #expect(opt == nil)
            #expect(try view.rcode() == .noError)
        }
    }
}
