import LoadGenerator
import Testing

/// A datafile line that cannot be asked names its line and the name parser's reason.
@Suite struct DatafileErrorTests {
    @Test func aBadNameInADatafileGivesItsLineAndTheParsersReason() {
        let label = String(repeating: "a", count: 64)
        #expect(throws: Datafile.ParseError(
            line: 3, reason: "invalid name '\(label).example': label longer than 63 bytes: \"\(label)…\"")) {
            try Datafile.parse("ok.example A\n# comment\n\(label).example A\n")
        }
        #expect(throws: Datafile.ParseError(
            line: 1, reason: "invalid name 'a..example': empty label (two dots in a row, or a leading dot)")) {
            try Datafile.parse("a..example AAAA\n")
        }
        #expect(Datafile.ParseError(line: 1, reason: "x").description == "datafile line 1: x")
    }
}
