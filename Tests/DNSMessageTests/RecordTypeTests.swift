@testable import DNSMessage
import Testing

/// Every type name both ways, and RDATA of the types kept as bytes: names decompressed wherever
/// they may be compressed, printed field by field as dig prints them (checked against dig and kdig
/// output for records knotd served), generic data for the rest, never a compression pointer.
@Suite struct RecordTypeTests {
    @Test func everyRegisteredTypeNameMapsToItsNumberAndBack() {
        for (number, name) in DNSType.registered {
            #expect(DNSType(number).description == name)
            #expect(DNSType(mnemonic: name) == DNSType(number))
            #expect(DNSType(mnemonic: name.lowercased()) == DNSType(number))
        }
        #expect(Set(DNSType.registered.map(\.0)).count == DNSType.registered.count)
        #expect(DNSType(mnemonic: "*") == .any)
    }

    @Test func aNumberWithoutANameIsTypeNnnBothWays() {
        #expect(DNSType(65534).description == "TYPE65534")
        #expect(DNSType(mnemonic: "TYPE65534") == DNSType(65534))
        #expect(DNSType(mnemonic: "type1") == .a)
        for bad in ["TYPE", "TYPE65536", "TYPE+1", "TYPE-1", "TYPE 1", "TYPE000001", "NOSUCHTYPE", ""] {
            #expect(DNSType(mnemonic: bad) == nil, "\(bad)")
        }
    }

    /// (type, RDATA as `dig +unknownformat` printed it, the presentation dig printed, with base64
    /// and hex in one word as kdig prints them): records of a zone served by knotd 3.2.
    static let served: [(String, String, String)] = [
        ("MINFO", "05726D61696C05726461746104746573740005656D61696C057264617461047465737400",
         "rmail.rdata.test. email.rdata.test."),
        ("RP", "0561646D696E05726461746104746573740003747874057264617461047465737400",
         "admin.rdata.test. txt.rdata.test."),
        ("AFSDB", "000103616673057264617461047465737400",
         "1 afs.rdata.test."),
        ("RT", "000A0572656C6179057264617461047465737400",
         "10 relay.rdata.test."),
        ("KX", "000A026B78057264617461047465737400",
         "10 kx.rdata.test."),
        ("NAPTR", "0064000A0155074532552B7369701A215E2E2A24217369703A696E666F4072646174612E746573742100",
         "100 10 \"U\" \"E2U+sip\" \"!^.*$!sip:info@rdata.test!\" ."),
        ("NAPTR", "0064000A0153075349502B44325500045F736970045F756470057264617461047465737400",
         "100 10 \"S\" \"SIP+D2U\" \"\" _sip._udp.rdata.test."),
        ("DNAME", "06746172676574057264617461047465737400",
         "target.rdata.test."),
        ("HINFO", "067838362D3634054C696E7578",
         "\"x86-64\" \"Linux\""),
        ("DS", "30390D02BE74359954660069D5C63D200C39F5603827D7DD02B56F120EE9F3A86764247C",
         "12345 13 2 BE74359954660069D5C63D200C39F5603827D7DD02B56F120EE9F3A86764247C"),
        ("DNSKEY", "0101030D99DB2CC14CABDC33D6D77DA63A2F15F71112584F234E8D1DC428E39E8A4A97E1AA271A555DC90701E17E2A4C4B6F120B7C32D44F4AC02BD894CF2D4BE7778A19",
         "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="),
        ("TLSA", "0301010C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6",
         "3 1 1 0C72AC70B745AC19998811B131D662C9AC69DBDBE7CB23E5B514B56664C5D3D6"),
        ("SSHFP", "0402123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789",
         "4 2 123456789ABCDEF67890123456789ABCDEF67890123456789ABCDEF123456789"),
        ("NSEC", "046E657874057264617461047465737400000762000000000380FD1E000000000000000000000000000000000000000000000000000000000080",
         "next.rdata.test. A NS SOA RRSIG NSEC DNSKEY TYPE65000"),
        ("NSEC3PARAM", "0100000A04AABBCCDD",
         "1 0 10 AABBCCDD"),
        ("NSEC3PARAM", "0100000000",
         "1 0 0 -"),
        ("LOC", "001216138B3CF018810CBCE0009895B8",
         "52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m"),
        ("LOC", "0033161389172FC470BE14C400988D20",
         "42 21 54.500 N 71 6 18.300 W -24.00m 30m 10000m 10m"),
        ("URI", "000A000168747470733A2F2F7777772E72646174612E746573742F",
         "10 1 \"https://www.rdata.test/\""),
        ("CDS", "30390D02BE74359954660069D5C63D200C39F5603827D7DD02B56F120EE9F3A86764247C",
         "12345 13 2 BE74359954660069D5C63D200C39F5603827D7DD02B56F120EE9F3A86764247C"),
        ("CDNSKEY", "0101030D99DB2CC14CABDC33D6D77DA63A2F15F71112584F234E8D1DC428E39E8A4A97E1AA271A555DC90701E17E2A4C4B6F120B7C32D44F4AC02BD894CF2D4BE7778A19",
         "257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="),
        ("OPENPGPKEY", "99020D0458ADDA3B011000EB6E5E6F8D5C587801348342036020691E2AEFD528E5AB1C79823B4F85BD9886FC833178EA",
         "mQINBFit2jsBEADrbl5vjVxYeAE0g0IDYCBpHirv1Sjlqxx5gjtPhb2YhvyDMXjq"),
        ("SVCB", "000103737663057264617461047465737400000100060268320268330003000220FB00040008C0000201C00002020006001020010DB8000000000000000000000001",
         "1 svc.rdata.test. alpn=\"h2,h3\" port=8443 ipv4hint=192.0.2.1,192.0.2.2 ipv6hint=2001:db8::1"),
        ("HTTPS", "0001000001000302683300020000000500470045FE0D0041A5002000207F46F1A5E84437071F172607C3980017C73ABF61C97E62177D7640E16C9C25180004000100010012636C6F7564666C6172652D6563682E636F6D0000",
         "1 . alpn=\"h3\" no-default-alpn ech=AEX+DQBBpQAgACB/RvGl6EQ3Bx8XJgfDmAAXxzq/Ycl+Yhd9dkDhbJwlGAAEAAEAAQASY2xvdWRmbGFyZS1lY2guY29tAAA="),
        ("HTTPS", "000005616C696173057264617461047465737400",
         "0 alias.rdata.test."),
        ("CSYNC", "000000420003000460000008",
         "66 3 A NS AAAA"),
        ("ZONEMD", "7848B78C0101FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE",
         "2018031500 1 1 FEBE3D4CE2EC2FFA4BA99D46CD69D6D29711E55217057BEE7EB1A7B641A47BA7FED2DD5B97AE499FAFA4F22C6BD647DE"),
        ("EUI48", "00005E00532A",
         "00-00-5e-00-53-2a"),
        ("EUI64", "00005EEF1000002A",
         "00-00-5e-ef-10-00-00-2a"),
        ("NID", "000A00144FFFFF20EE64",
         "10 14:4fff:ff20:ee64"),
        ("L32", "000A0A010200",
         "10 10.1.2.0"),
        ("L64", "000A20010DB811401000",
         "10 2001:db8:1140:1000"),
        ("LP", "000A036C3634057264617461047465737400",
         "10 l64.rdata.test."),
        ("SPF", "0B763D73706631202D616C6C",
         "\"v=spf1 -all\""),
        ("RRSIG", "00010D030000012C6955B900692CDA80303905726461746104746573740099DB2CC14CABDC33D6D77DA63A2F15F71112584F234E8D1DC428E39E8A4A97E1AA271A555DC90701E17E2A4C4B6F120B7C32D44F4AC02BD894CF2D4BE7778A19",
         "A 13 3 300 20260101000000 20251201000000 12345 rdata.test. mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+KkxLbxILfDLUT0rAK9iUzy1L53eKGQ=="),
    ]

    @Test func rdataKnotServedPrintsAsDigPrintsIt() throws {
        for (name, hex, expected) in Self.served {
            let type = try #require(DNSType(mnemonic: name))
            let record = try DNSResourceRecord(parsing: "x.test. 300 IN \(name) \\# \(hex.count / 2) \(hex)")
            #expect(record.data.presentation(for: type) == expected, "\(name)")
            #expect(record.rdataWire == bytes(hex), "\(name)")
        }
    }

    @Test func whatDigPrintsReadsBackToTheSameBytesInAZoneFile() throws {
        for (name, hex, expected) in Self.served where !["LOC", "SVCB"].contains(name) && !expected.contains("=") {
            let record = try DNSResourceRecord(parsing: "x.test. 300 IN \(name) \(expected)")
            #expect(record.rdataWire == bytes(hex), "\(name) \(expected)")
        }
        // dig's split base64 and hex read as one word.
        let split = try DNSResourceRecord(parsing: "x. 60 IN DS 12345 13 2 BE7435995466 0069D5C6")
        #expect(split.data.presentation(for: DNSType(43)) == "12345 13 2 BE74359954660069D5C6")
        for bad in ["x. 60 IN DS 1 2 3", "x. 60 IN DNSKEY 257 3 13 ab$c", "x. 60 IN NSEC3PARAM 1 0 10 ABC",
                    "x. 60 IN RRSIG A 13 3 300 20261301000000 20251201000000 1 x. AQID", "x. 60 IN LOC 52 N",
                    "x. 60 IN EUI48 00-00-5e-00-53", "x. 60 IN NAPTR 1 2 \"U\"", "x. 60 IN HINFO \"a\" \"b\" \"c\""] {
            #expect(throws: DNSPresentationError.self, "\(bad)") { try DNSResourceRecord(parsing: bad) }
        }
    }

    private func bytes(_ hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map {
            DNSRecordData.hexValue(digits[$0])! << 4 | DNSRecordData.hexValue(digits[$0 + 1])!
        }
    }

    /// A response whose question is `q.test.` (at 12) and whose one answer has `rdata`, in which
    /// `C0 0C` points at that name.
    private func response(type: DNSType, rdata: [UInt8]) -> [UInt8] {
        header(qd: 1, an: 1) + [1, 0x71, 4] + Array("test".utf8) + [0, 0, 1, 0, 1]
            + [0xC0, 12, UInt8(type.rawValue >> 8), UInt8(type.rawValue & 0xFF), 0, 1, 0, 0, 0, 60]
            + [UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)] + rdata
    }

    static let pointer: [UInt8] = [0xC0, 12]
    static let mail: [UInt8] = [4] + Array("mail".utf8) + pointer

    /// Types whose RDATA holds names, each with names given as pointers (RFC 3597 section 4 and the
    /// later RFCs), and what they print as.
    static let compressed: [(String, [UInt8], String)] = [
        ("MD", pointer, "q.test."), ("MF", pointer, "q.test."), ("MB", mail, "mail.q.test."),
        ("MG", pointer, "q.test."), ("MR", mail, "mail.q.test."),
        ("MINFO", mail + pointer, "mail.q.test. q.test."),
        ("RP", pointer + mail, "q.test. mail.q.test."),
        ("AFSDB", [0, 1] + mail, "1 mail.q.test."),
        ("RT", [0, 10] + pointer, "10 q.test."),
        ("PX", [0, 10] + mail + pointer, "10 mail.q.test. q.test."),
        ("KX", [0, 10] + mail, "10 mail.q.test."),
        ("NSAP-PTR", pointer, "q.test."),
        ("NAPTR", [0, 100, 0, 10, 1, 0x55, 7] + Array("E2U+sip".utf8) + [0] + mail,
         "100 10 \"U\" \"E2U+sip\" \"\" mail.q.test."),
        ("DNAME", mail, "mail.q.test."),
        ("LP", [0, 10] + pointer, "10 q.test."),
        ("TALINK", pointer + mail, "q.test. mail.q.test."),
        ("NSEC", mail + [0, 1, 0x40], "mail.q.test. A"),
        ("RRSIG", [0, 1, 13, 2, 0, 0, 0, 60, 0x69, 0x55, 0xB9, 0, 0x69, 0x2C, 0xDA, 0x80, 0x30, 0x39] + pointer
            + [1, 2, 3], "A 13 2 60 20260101000000 20251201000000 12345 q.test. AQID"),
        ("SIG", [0, 1, 13, 2, 0, 0, 0, 60, 0x69, 0x55, 0xB9, 0, 0x69, 0x2C, 0xDA, 0x80, 0x30, 0x39] + pointer
            + [1, 2, 3], "A 13 2 60 20260101000000 20251201000000 12345 q.test. AQID"),
        ("NXT", pointer + [0x40], "q.test. 40"),
        ("SVCB", [0, 1] + mail + [0, 3, 0, 2, 0x20, 0xFB], "1 mail.q.test. port=8443"),
        ("HTTPS", [0, 0] + pointer, "0 q.test."),
        ("DSYNC", [0, 59, 1, 0x14, 0xEF] + mail, "CDS 1 5359 mail.q.test."),
    ]

    @Test func namesInRdataAreDecompressedForEveryTypeWhoseNamesMayBeCompressed() throws {
        for (name, rdata, expected) in Self.compressed {
            let type = try #require(DNSType(mnemonic: name), "\(name)")
            let message = try DNSMessage(parsing: response(type: type, rdata: rdata))
            let record = try #require(message.answers.first)
            #expect(record.data.presentation(for: type) == expected, "\(name)")
            // The generic form is the decompressed bytes: read back alone (outside the packet,
            // where a pointer would mean nothing) they print the same.
            let generic = record.data.description
            #expect(generic.hasPrefix("\\# "))
            let alone = try DNSResourceRecord(parsing: "x.test. 60 IN \(name) \(generic)")
            #expect(alone.data.presentation(for: type) == expected, "\(name) from \(generic)")
            #expect(!alone.rdataWire.contains(0xC0), "\(name): a pointer left in \(generic)")
            // And the message serializes and parses back to itself.
            #expect(try DNSMessage(parsing: message.serialized()) == message, "\(name)")
        }
    }

    @Test func rdataOfANameBearingTypeThatDoesNotFitItsLayoutIsMalformed() {
        // MINFO with one name and a byte; AFSDB cut inside its name; RP with a forward pointer.
        for (type, rdata) in [(DNSType(14), Self.pointer + [7]), (DNSType(18), [0, 1, 4, 0x6D]),
                              (DNSType(17), [0xC0, 60, 0])] {
            #expect(throws: DNSParseError.self, "\(type)") { try DNSMessage(parsing: response(type: type, rdata: rdata)) }
        }
    }

    @Test func bytesThatDoNotFitATypesLayoutPrintAsGenericData() {
        let cases: [(UInt16, [UInt8])] = [
            (43, [0x30, 0x39, 13]),  // DS without a digest
            (29, [1] + [UInt8](repeating: 0, count: 15)),  // LOC version 1
            (29, [0, 0xA0] + [UInt8](repeating: 0, count: 14)),  // LOC size mantissa 10
            (47, [0, 0, 0x40]),  // NSEC: bitmap window of length 0x40
            (47, [0, 0, 1, 0x40, 0, 1, 0x40]),  // NSEC: a window repeated
            (64, [0, 1, 0, 0, 3, 0, 2, 0x20, 0xFB, 0, 1, 0, 1, 0x68]),  // SVCB keys out of order (port, alpn)
            (13, [3, 0x61]),  // HINFO string cut short
            (108, [1, 2, 3]),  // EUI48 of 3 bytes
            (14, [0xC0, 12, 0]),  // MINFO holding a pointer (as built by hand, not parsed)
        ]
        for (number, rdata) in cases {
            let data = DNSRecordData.unknown(rdata)
            #expect(data.presentation(for: DNSType(number)) == DNSRecordData.genericForm(rdata), "TYPE\(number)")
        }
    }

    @Test func aTypeWithoutALayoutPrintsAsGenericDataInUpperCase() throws {
        let record = try DNSResourceRecord(parsing: "x. 60 IN TYPE65534 \\# 3 abcdef")
        #expect(record.description == "x. 60 IN TYPE65534 \\# 3 ABCDEF")
        #expect(try DNSResourceRecord(parsing: "x. 60 IN NULL \\# 0").description == "x. 60 IN NULL \\# 0")
    }

    @Test func aPointerIntoTheNameBeingReadIsRefused() {
        // At 12: "a", "b", then a pointer at 16 back to "b" at 14, inside the same name: a loop.
        expectRejected(header(qd: 1) + [1, 0x61, 1, 0x62, 0xC0, 14, 0, 1, 0, 1], .badPointer, at: 16)
    }

    @Test func aPointerFromAJumpedToNameForwardOfThatTargetIsRefused() {
        // Question "q." at 12 (TXT). Answer 1, TXT, RDATA at 31: a string holding [1 'a' C0 36 1 'c' 0].
        // Answer 2, CNAME, RDATA at 51: a pointer to 32; there, after "a", a pointer to 36: behind the
        // name's start but not behind the first target, so each hop must go lower than the last.
        let first: [UInt8] = [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 8] + [7, 1, 0x61, 0xC0, 36, 1, 0x63, 0]
        let second: [UInt8] = [0xC0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2] + [0xC0, 32]
        let bytes = header(qd: 1, an: 2) + [1, 0x71, 0, 0, 16, 0, 1] + first + second
        expectRejected(bytes, .badPointer, at: 34)
    }

    @Test func theEndOfTheLastRecordIsReported() throws {
        let message = response(type: .a, rdata: [192, 0, 2, 1])
        for extra in [0, 1, 7] {
            let bytes = message + [UInt8](repeating: 0, count: extra)
            let end = try bytes.withUnsafeBytes { try DNSMessageView($0).checkRecordsToEnd().end }
            #expect(end == message.count)
            #expect(bytes.count - end == extra)
        }
    }
}
