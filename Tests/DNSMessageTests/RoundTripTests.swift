@testable import DNSMessage
import Testing

/// One record of every type the module decodes, plus raw ones.
let everyTypeRecords: [DNSResourceRecord] = [
    DNSResourceRecord(name: "example.com.", ttl: 300, data: .a(DNSIPv4Address(192, 0, 2, 1))),
    DNSResourceRecord(name: "example.com.", ttl: 300, data: .aaaa(DNSIPv6Address("2001:db8::1")!)),
    DNSResourceRecord(name: "Alias.Example.com.", ttl: 60, data: .cname("www.example.com.")),
    DNSResourceRecord(name: "example.com.", ttl: 86400, data: .ns("ns1.example.com.")),
    DNSResourceRecord(name: "1.2.0.192.in-addr.arpa.", ttl: 300, data: .ptr("www.example.com.")),
    DNSResourceRecord(name: "example.com.", ttl: 300, data: .mx(preference: 10, exchange: "mail.example.com.")),
    DNSResourceRecord(name: "example.com.", ttl: 300, data: .txt([Array("v=spf1 -all".utf8), [], [0, 34, 92, 255]])),
    DNSResourceRecord(name: "_sip._udp.example.com.", ttl: 300,
                      data: .srv(priority: 10, weight: 60, port: 5060, target: "sip.example.com.")),
    DNSResourceRecord(name: "example.com.", ttl: 300, data: .soa(DNSSOA(
        mname: "ns1.example.com.", rname: "hostmaster.example.com.", serial: 2026112301, refresh: 3600,
        retry: 900, expire: 604800, minimum: 300))),
    DNSResourceRecord(name: "example.com.", ttl: 300,
                      data: .caa(flags: 128, tag: Array("issue".utf8), value: Array("ca.example; a=\"b\"".utf8))),
    DNSResourceRecord(name: "x.example.com.", type: DNSType(65280), ttl: 60, data: .unknown([0xAB, 0xCD, 0xEF])),
    DNSResourceRecord(name: "x.example.com.", type: DNSType(99), class: DNSClass(3), ttl: 0, data: .unknown([])),
]

@Suite("Round trips")
struct RoundTripTests {
    @Test("every type survives serialize → parse", arguments: everyTypeRecords)
    func wireRoundTrip(record: DNSResourceRecord) throws {
        let message = DNSMessage(header: DNSHeader(id: 7), answers: [record], authorities: [record],
                                 additionals: [record])
        let parsed = try DNSMessage(parsing: message.serialized())
        #expect(parsed == message)
        #expect(parsed.answers[0].name.isIdentical(to: record.name))
    }

    @Test("every type survives print → zone parse", arguments: everyTypeRecords)
    func presentationRoundTrip(record: DNSResourceRecord) throws {
        #expect(try DNSResourceRecord(parsing: record.description) == record, "\(record)")
    }

    @Test("presentation format is the master-file line")
    func presentationText() {
        #expect(everyTypeRecords[0].description == "example.com. 300 IN A 192.0.2.1")
        #expect(everyTypeRecords[10].description == "x.example.com. 60 IN TYPE65280 \\# 3 ABCDEF")
        #expect(everyTypeRecords[6].description == #"example.com. 300 IN TXT "v=spf1 -all" "" "\000\"\\\255""#)
        #expect(everyTypeRecords[9].description == #"example.com. 300 IN CAA 128 issue "ca.example; a=\"b\"""#)
        #expect(everyTypeRecords[11].description == "x.example.com. 0 CH SPF \\# 0")
    }

    @Test("header: every flag, opcode and the 12-bit rcode survive a round trip")
    func headerRoundTrip() throws {
        for bit in 0..<16 {
            var message = DNSMessage(header: DNSHeader(id: 0xBEEF, flags: UInt16(1) << bit))
            message.edns = DNSEDNS(udpPayloadSize: 4096, dnssecOK: true, version: 1,
                                   options: [DNSEDNSOption(code: 10, data: [1, 2, 3, 4, 5, 6, 7, 8])])
            message.rcode = DNSRcode(rawValue: 0xABC)
            let parsed = try DNSMessage(parsing: message.serialized())
            #expect(parsed == message)
            #expect(parsed.header.flags & ~0x000F == UInt16(1) << bit & ~0x000F)
            #expect(parsed.rcode == DNSRcode(rawValue: 0xABC))
            #expect(parsed.edns?.extendedRcode == 0xAB)
        }
    }

    @Test("serialize compresses repeated suffixes with backward pointers, matched case-insensitively")
    func serializeCompresses() throws {
        let answers = (1...20).map { index in
            DNSResourceRecord(name: "MANY.example.com.", ttl: 300, data: .a(DNSIPv4Address(192, 0, 2, UInt8(index))))
        }
        let question = DNSQuestion(name: "many.example.com.", type: .a)
        let message = DNSMessage(header: DNSHeader(id: 1), questions: [question], answers: answers)
        let bytes = message.serialized()
        // 12 header + 22 question (18-byte name) + 20 × (2-byte pointer + 10 + 4).
        #expect(bytes.count == 12 + 22 + 20 * 16)
        #expect(bytes[34] == 0xC0 && bytes[35] == 12, "owner points at the question name")
        let parsed = try DNSMessage(parsing: bytes)
        #expect(parsed.answers[0].name.isIdentical(to: "many.example.com."), "the pointer carries the first case")
    }

    @Test("parse follows pointers to a suffix, and chains of pointers")
    func parseFollowsPointers() throws {
        // Question: www.example.com. at 12; answer owner: "a" + pointer to "example.com." at 16;
        // rdata CNAME: pointer to the answer owner (which itself ends in a pointer).
        var bytes: [UInt8] = [0, 1, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0]
        bytes += [3] + Array("www".utf8) + [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 1, 0, 1]
        let ownerOffset = UInt8(bytes.count)
        bytes += [1, UInt8(ascii: "a"), 0xC0, 16, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xC0, ownerOffset]
        let message = try DNSMessage(parsing: bytes)
        #expect(message.answers == [DNSResourceRecord(name: "a.example.com.", ttl: 60, data: .cname("a.example.com."))])
    }

    @Test("names: escapes print like dig and parse back; limits are enforced in text")
    func nameText() throws {
        let name = try DNSName(parsing: #"a\.b\032c\255.example."#)
        #expect(name.labels.count == 2)
        #expect(name.description == #"a\.b\032c\255.example."#)
        #expect(try DNSName(parsing: "www", origin: "example.com.") == "WWW.EXAMPLE.COM.")
        #expect(throws: DNSPresentationError.self) { try DNSName(parsing: String(repeating: "a", count: 64) + ".") }
        #expect(throws: DNSPresentationError.self) { try DNSName(parsing: "a..b.") }
        let long = Array(repeating: String(repeating: "a", count: 63), count: 4).joined(separator: ".")
        #expect(throws: DNSPresentationError.self) { try DNSName(parsing: long + ".") }
        #expect(DNSName(wire: [0]) == .root)
        #expect(DNSName(wire: [64] + Array(repeating: 97, count: 64) + [0]) == nil)
    }

    @Test("IPv6 text follows RFC 5952")
    func ipv6Text() {
        #expect(DNSIPv6Address("2001:DB8:0:0:1:0:0:1")!.description == "2001:db8::1:0:0:1")
        #expect(DNSIPv6Address("::")!.description == "::")
        #expect(DNSIPv6Address("::1")!.description == "::1")
        #expect(DNSIPv6Address("2001:db8:0:1:1:1:1:1")!.description == "2001:db8:0:1:1:1:1:1")
        #expect(DNSIPv6Address("::ffff:192.0.2.1")!.description == "::ffff:192.0.2.1")
        #expect(DNSIPv6Address("1::2::3") == nil)
        #expect(DNSIPv6Address("1:2:3:4:5:6:7:8:9") == nil)
    }
}

@Suite struct IPv6GroupsTests {
    @Test func anAddressOfOtherThanEightGroupsIsNilNotATrap() {
        #expect(DNSIPv6Address(groups: [0x2001, 0xdb8]) == nil)
        #expect(DNSIPv6Address(groups: [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1])?.description == "2001:db8::1")
    }
}
