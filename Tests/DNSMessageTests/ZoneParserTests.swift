@testable import DNSMessage
import Testing

@Suite("Zone files (RFC 1035 master-file subset)")
struct ZoneParserTests {
    @Test("$ORIGIN, $TTL, @, relative names, omitted owners, parentheses, comments and quotes")
    func directivesAndSyntax() throws {
        let text = """
            $ORIGIN example.com.
            $TTL 1h
            @   IN  SOA ns1 hostmaster ( 1 ; serial
                        2h 30m 1w 5m )   ; times with units
                    NS  ns1             ; owner omitted, class omitted
            ns1 120 IN  A   192.0.2.53
            txt     IN  TXT "a; not a comment" "tab\\009and \\"quote\\"" plain
            $ORIGIN sub.example.com.
            www CH 30 TXT ( "x"
                 "y" )
            abs.example.net. IN CNAME @
            """
        let records = try DNSZoneParser.parse(text)
        #expect(records.map(\.description) == [
            "example.com. 3600 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 1800 604800 300",
            "example.com. 3600 IN NS ns1.example.com.",
            "ns1.example.com. 120 IN A 192.0.2.53",
            #"txt.example.com. 3600 IN TXT "a; not a comment" "tab\009and \"quote\"" "plain""#,
            #"www.sub.example.com. 30 CH TXT "x" "y""#,
            "abs.example.net. 3600 IN CNAME sub.example.com.",
        ])
    }

    @Test("RFC 3597 generic data is accepted for unknown and known types")
    func genericData() throws {
        let records = try DNSZoneParser.parse("""
            a.example. 60 IN TYPE65280 \\# 3 ab CD ef
            b.example. 60 CLASS32 A \\# 4 C0000201
            c.example. 60 IN TYPE1 192.0.2.2
            """)
        #expect(records[0].data == .unknown([0xAB, 0xCD, 0xEF]))
        #expect(records[1].data == .a(DNSIPv4Address(192, 0, 2, 1)) && records[1].class == DNSClass(32))
        #expect(records[2].data == .a(DNSIPv4Address(192, 0, 2, 2)))
    }

    @Test("errors name the line of the offending entry", arguments: [
        ("$ORIGIN example.\nok 60 IN A 192.0.2.1\nbad 60 IN A 300.0.0.1\n", 3),
        ("x. 60 IN A 192.0.2.1\n\n\nx. 60 IN MX ten mail.\n", 4),
        ("x. 60 IN A 192.0.2.1\ny. 60 IN BOGUS 1\n", 2),
        ("x. IN A 192.0.2.1\n", 1),
        ("$ORIGIN example.\n(\nx 60 IN A 192.0.2.1\n", 2),
        ("x. 60 IN TXT \"open\n", 1),
        ("$INCLUDE other.zone\n", 1),
        ("x. 60 IN TYPE65280 \\# 4 abcdef\n", 1),
        ("x. 60 IN TYPE65280 abcdef\n", 1),
        ("x. 60 IN A 192.0.2.1 extra\n", 1),
        ("  60 IN A 192.0.2.1\n", 1),
        ("x. 60 IN TXT \"\(String(repeating: "a", count: 256))\"\n", 1),
        ("\(String(repeating: "a", count: 64)). 60 IN A 192.0.2.1\n", 1),
        ("x. 60 IN CAA 0 is-sue \"ca\"\n", 1),
        ("x. 60 IN SOA a. b. 1 2 3 4\n", 1),
        ("x. 60 IN A 192.0.2.1 )\n", 1),
    ])
    func errorsCarryLineNumbers(text: String, line: Int) {
        #expect {
            _ = try DNSZoneParser.parse(text)
        } throws: { error in
            (error as? DNSPresentationError)?.line == line
        }
    }

    @Test("TTL units")
    func ttlUnits() {
        #expect(DNSZoneParser.ttlValue("1w2d3h4m5s") == UInt32(788_645))
        #expect(DNSZoneParser.ttlValue("4294967295") == UInt32.max)
        #expect(DNSZoneParser.ttlValue("4294967296") == nil)
        #expect(DNSZoneParser.ttlValue("1x") == nil)
        #expect(DNSZoneParser.ttlValue("h") == nil)
    }
}
