import LoadGenerator
import Testing

/// Datafile lines name their type as a person writes it: any IANA type name, `TYPEnnn` or a number.
@Suite struct DatafileTypeTests {
    @Test func everyRegisteredTypeNameANumberAndTypeNnnAreAcceptedAndKeptByName() throws {
        let text = """
            a.example DNSKEY
            b.example nsec3param
            c.example NSAP-PTR
            d.example HTTPS
            e.example 65534
            f.example TYPE48
            g.example 52
            """
        let types = try Datafile.parse(text).queries.map(\.type)
        #expect(types == ["DNSKEY", "NSEC3PARAM", "NSAP-PTR", "HTTPS", "TYPE65534", "DNSKEY", "TLSA"])
    }

    @Test func anUnknownTypeNameIsRefusedWithItsLineNumber() {
        #expect(throws: Datafile.ParseError(line: 2, reason: "unknown type 'DNSKEYS' (an IANA type name, TYPEnnn or 0-65535)")) {
            try Datafile.parse("ok.example A\nbad.example DNSKEYS\n")
        }
        #expect(throws: Datafile.ParseError.self) { try Datafile.parse("x.example 65536\n") }
    }
}
