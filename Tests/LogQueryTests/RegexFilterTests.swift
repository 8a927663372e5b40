import EvqueryTestSupport
import Foundation
import Testing
@testable import LogQuery

/// The filter's `~` on PCRE2: raw bytes, invalid UTF-8, PCRE2 syntax, the literal prefilter's
/// soundness, and counts on several threads agreeing with the records.
@Suite struct RegexFilterTests {
    func regex(_ pattern: String) throws -> LogFilterRegex { try LogFilterRegex(pattern: pattern) }

    func matches(_ pattern: String, _ bytes: [UInt8]) throws -> Bool {
        let regex = try regex(pattern)
        return bytes.withUnsafeBufferPointer { regex.matches($0) }
    }

    @Test func aPatternMatchesTheRawBytesOfAFieldAnywhereInIt() throws {
        #expect(try matches("port [0-9]+ ssh2$", Array("from 10.0.0.1 port 22 ssh2".utf8)))
        #expect(try !matches("port [0-9]+ ssh2$", Array("from 10.0.0.1 port 22 ssh2 again".utf8)))
        #expect(try matches("^$", []))
        #expect(try !matches("x", []))
        #expect(try regex("port [0-9]+ ssh2$").isJITCompiled)
    }

    @Test func bytesThatAreNotUTF8NeverTrapAndNeverMatchAnItem() throws {
        let line: [UInt8] = Array("user ".utf8) + [0xFF, 0xC3] + Array(" port 22 ssh2".utf8)
        #expect(try matches("port [0-9]+ ssh2$", line))
        #expect(try matches("^user ", line))
        // `.` takes a whole code point: an invalid byte is none, so nothing spans it.
        #expect(try !matches("user ..+ port", line))
        #expect(try !matches("user [^a-z]{2} port", line))
        // A lone continuation byte, a truncated sequence at the end, an overlong form, a surrogate.
        for bad: [UInt8] in [[0x80], [0xE2, 0x82], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]] {
            #expect(try !matches(".", bad))
            #expect(try matches("a", Array("a".utf8) + bad))
        }
        // Code points, not bytes: `.` takes both bytes of é.
        #expect(try matches("^caf.$", Array("caf\u{E9}".utf8)))
        #expect(try matches(#"^\w+$"#, Array("gr\u{FC}\u{DF}e".utf8)))
    }

    @Test func aScanWithARegexOverALogWithInvalidUTF8GivesTheRecordsItMatches() throws {
        var bytes: [UInt8] = []
        for n in 0..<300 {
            bytes += Array("<38>Nov 23 10:00:00 web1 sshd[\(n)]: Failed password for ".utf8)
            if n % 3 == 0 { bytes += [0xFF, 0xFE, 0xC3] }  // invalid UTF-8 in the user name
            bytes += Array("root from 10.0.0.1 port \(n) ssh2\n".utf8)
            if n % 5 == 0 { bytes += Array("<38>Nov 23 10:00:00 web1 sshd[1]: port ssh2 closed\n".utf8) }
        }
        try withLogFile(bytes) { path in
            let records = try scan(path, filter: #"message ~ "port [0-9]+ ssh2$""#)
            #expect(records.count == 300)
            #expect(records.filter { $0.flags.contains(.invalidUTF8) }.count == 100)
            #expect(try scan(path, filter: #"app == "sshd" and message ~ "for .+ from""#).count == 300)
        }
    }

    @Test func perlSyntaxThatSwiftRegexLackedCompilesAndMatches() throws {
        #expect(try matches("(?<=user )root", Array("invalid user root from".utf8)))
        #expect(try !matches("(?<=user )root", Array("rootkit".utf8)))
        #expect(try matches(#"port \K[0-9]+"#, Array("port 22".utf8)))
        #expect(try matches("(?i)FAILED", Array("failed password".utf8)))
        #expect(try matches("a++b", Array("aaab".utf8)))
    }

    @Test func aPatternThatDoesNotCompileIsAFilterErrorInWords() {
        do {
            _ = try LogFilter(#"message ~ "a[b""#)
            Issue.record("an unbalanced class compiled")
        } catch {
            #expect(error.position == 10)
            #expect(
                error.description
                    == "filter error at position 10: the regular expression does not compile: "
                    + "missing terminating ] for character class (at byte 3 of the pattern)")
        }
    }

    @Test func aPatternThatBacktracksWithoutEndIsNoMatchNotAHang() throws {
        let line = Array(String(repeating: "a", count: 40).utf8) + [0x21]
        #expect(try !matches("^(a+)+$", line))
    }

    /// Each pattern with a text it matches: the literal the prefilter searches for must be in it.
    @Test func theRequiredLiteralIsInEveryMatchOfPatternsWithEscapesAndQuantifiers() throws {
        let cases: [(String, String, String?)] = [
            (#"\x41BCD"#, "xABCD", "BCD"),
            (#"\x{41}BCD"#, "ABCD", "BCD"),
            ("ab{3}cdef", "abbbcdef", "cdef"),
            ("x{2,5}yzw", "xxxyzw", "yzw"),
            (#"\d{3}-\d{4}"#, "555-1234", "-"),
            (#"\p{Lu}xyz"#, "Qxyz", "xyz"),
            (#"\p{Lu}{2}xyz"#, "QQxyz", "xyz"),
            (#"(ab)\g1cd"#, "ababcd", "cd"),
            (#"(ab)\g{1}cd"#, "ababcd", "cd"),
            (#"(?<n>ab)\k<n>cd"#, "ababcd", nil),
            (#"\cAzzz"#, "\u{1}zzz", "zzz"),
            (#"\Qa.b\E"#, "a.b", nil),
            (#"\N{U+263A}smile"#, "\u{263A}smile", "smile"),
            (#"\o{101}BC"#, "ABC", "BC"),
            ("caf\u{E9} .u lait", "caf\u{E9} au lait", "caf\u{E9} "),
            (#"user [a-z]+ from"#, "user bob from", "user "),
            ("port [0-9]+ ssh2$", "port 22 ssh2", "port "),
        ]
        for (pattern, text, literal) in cases {
            let compiled = try regex(pattern)
            #expect(compiled.matches(text), "\(pattern) should match \(text)")
            #expect(compiled.requiredLiteral == literal.map { Array($0.utf8) }, "\(pattern)")
            if let required = compiled.requiredLiteral {
                #expect(Array(text.utf8).withUnsafeBufferPointer { ByteSearch.contains($0, required) }, "\(pattern)")
            }
        }
    }

    @Test func aNonASCIIPatternWithoutMetacharactersIsAByteSubstringSearch() throws {
        let filter = try LogFilter("message ~ \"caf\u{E9} au lait\"")
        #expect(filter.requiredLiterals == [Array("caf\u{E9} au lait".utf8)])
        #expect(filter.matches(LogRecord(message: "un caf\u{E9} au lait")))
        // No canonical equivalence: the decomposed é is other bytes, as PCRE2 would say.
        #expect(!filter.matches(LogRecord(message: "cafe\u{301} au lait")))
        #expect(try !LogFilter("message ~ \"caf\u{E9}.au\"").matches(LogRecord(message: "cafe\u{301} au")))
    }

    @Test func aRegexCountOnThreadsEqualsTheRecordsNextReturns() throws {
        // ~5 MiB: the count is split into ranges on the dispatch pool, each thread with its own
        // match data.
        try withLogFile(syslogLines(60_000)) { path in
            try withAuditedReactor { reactor, ledger in
                let filter = try LogFilter(#"message ~ "^Failed [a-z]+ for root seq=[0-9]*7 ""#)
                let query = try LogQuery.open(path: path, filter: filter, countThreads: 3, on: reactor)
                defer { query.close() }
                let counted = Awaited<Result<Int, LogQueryError>>()
                query.count(completion: ledger.track { counted.set($0) })
                let records = try #require(drain(query, ledger, max: 1000))
                #expect(!records.isEmpty)
                #expect(records.allSatisfy { String(sequenceNumber($0)!).hasSuffix("7") && sequenceNumber($0)! % 7 == 0 })
                #expect(records.count == (0..<60_000).filter { $0 % 7 == 0 && $0 % 10 == 7 }.count)
                #expect(counted.wait() == .success(records.count))
            }
        }
    }
}
