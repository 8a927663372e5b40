import DNSQuery
import Testing

/// Server addresses as `--server` and resolv.conf give them: every accepted form, the refused ones,
/// and the value's identity (a server is a dictionary key inside the engine).
@Suite struct DNSServerTests {
    @Test(arguments: [
        ("1.2.3.4", [UInt8]([1, 2, 3, 4]), UInt16(53), "1.2.3.4:53"),
        ("127.0.0.1:5353", [127, 0, 0, 1], 5353, "127.0.0.1:5353"),
        ("::1", [UInt8](repeating: 0, count: 15) + [1], 53, "[::1]:53"),
        ("[::1]:5353", [UInt8](repeating: 0, count: 15) + [1], 5353, "[::1]:5353"),
        ("[2001:db8::53]", [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 10) + [0, 0x53], 53,
         "[2001:db8::53]:53"),
    ])
    func everyAcceptedFormGivesItsAddressPortAndPrintsBackAsDigDoes(
        _ text: String, _ bytes: [UInt8], _ port: UInt16, _ printed: String
    ) throws {
        let server = try #require(DNSServer(text))
        #expect(server.addressBytes == bytes)
        #expect(server.port == port)
        #expect(server.isIPv6 == (bytes.count == 16))
        #expect(server.description == printed)
        #expect(DNSServer(printed) == server)
    }

    @Test(arguments: ["", "example.com", "1.2.3", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:x", "[::1", "[::1]x",
                      "[::1]:", "::1:53:x", "256.1.1.1", "[1.2.3.4]:53x"])
    func aNameOrAMalformedAddressIsRefused(_ text: String) {
        #expect(DNSServer(text) == nil)
    }

    @Test(arguments: [
        ("[::1", 4, "expected ']' after the IPv6 address"),
        ("::1:53", 3, "\"::1:53\" is ambiguous: write [::1]:53 for port 53, or [::1:53] for the address ::1:53"),
        ("2001:db8::1:5300", 11,
         "\"2001:db8::1:5300\" is ambiguous: write [2001:db8::1]:5300 for port 5300, or [2001:db8::1:5300] for the "
            + "address 2001:db8::1:5300"),
    ])
    func anUnclosedBracketOrABareIPv6AddressThatCouldHoldAPortIsRefusedInWords(
        _ text: String, _ position: Int, _ reason: String
    ) {
        #expect(throws: DNSServerParseError(text: text, position: position, reason: reason)) {
            try DNSServer(parsing: text)
        }
    }

    @Test func aBareIPv6AddressThatCannotHoldAPortIsTakenWithPort53() throws {
        for text in ["::1", "2001:db8::1", "fe80::1", "::ffff:127.0.0.1", "1:2:3:4:5:6:7:8"] {
            let server = try DNSServer(parsing: text)
            #expect(server.isIPv6 && server.port == 53, "\(text)")
        }
        #expect(try DNSServer(parsing: "[2001:db8::1:53]").description == "[2001:db8::1:53]:53")
        #expect(try DNSServer(parsing: "[::1]").description == "[::1]:53")
    }

    @Test func aSourceAddressIsAnAddressAloneWithoutAPort() throws {
        #expect(try DNSServer(parsingSource: "127.0.0.2").description == "127.0.0.2:0")
        #expect(try DNSServer(parsingSource: "2001:db8::1:53").description == "[2001:db8::1:53]:0",
                "no port: not ambiguous")
        #expect(try DNSServer(parsingSource: "[::1]").isIPv6)
        for text in ["127.0.0.2:53", "[::1]:53"] {
            #expect(throws: DNSServerParseError.self) { try DNSServer(parsingSource: text) }
        }
    }

    @Test func serversAreEqualAndHashAlikeExactlyWhenAddressAndPortAre() throws {
        let a = DNSServer(ipv4: 10, 0, 0, 1)
        #expect(a == DNSServer("10.0.0.1:53"))
        #expect(a != DNSServer(ipv4: 10, 0, 0, 1, port: 54))
        #expect(a != DNSServer(ipv4: 10, 0, 0, 2))
        // ::a00:1 carries the same last four bytes as 10.0.0.1, and is still another server.
        #expect(a != DNSServer("[::a00:1]"))
        let table = [a: "first", DNSServer(ipv4: 10, 0, 0, 1, port: 54): "second", try #require(DNSServer("[::a00:1]")): "third"]
        #expect(table.count == 3)
        #expect(table[try #require(DNSServer("10.0.0.1"))] == "first")
    }

    @Test func resolvConfNameserverLinesBecomeServersInOrderUpToThree() {
        let conf = ResolvConf(parsing: """
            # comment
            nameserver 192.0.2.1
            nameserver ::1
            nameserver not-an-address
            nameserver 192.0.2.1:53
            nameserver 192.0.2.2
            nameserver 192.0.2.3
            options rotate timeout:2
            """)
        #expect(conf.servers == [DNSServer(ipv4: 192, 0, 2, 1), DNSServer("::1"), DNSServer(ipv4: 192, 0, 2, 2)])
        #expect(conf.rotate)
        #expect(conf.timeoutSeconds == 2)
    }
}
