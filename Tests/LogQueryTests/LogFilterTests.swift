import Testing
@testable import LogQuery

@Suite struct LogFilterTests {
    let sshd = LogRecord(
        timestamp: LogTime(rfc3339: "2026-03-01T10:00:00Z"), host: "web2", app: "sshd", pid: 42,
        severity: LogSeverity(name: "warning"), facility: 4,
        structuredData: [.init(id: "origin", parameters: [.init(name: "ip", value: "10.0.0.1")])],
        extraFields: [(name: "user", value: "root")],
        message: "Failed password for invalid user admin from 10.0.0.1")

    func matches(_ query: String, _ record: LogRecord? = nil) throws -> Bool {
        try LogFilter(query).matches(record ?? sshd)
    }

    @Test func designExamplesWorkAsWritten() throws {
        #expect(try matches(#"message contains "Failed password""#))
        #expect(try matches(#"app == "sshd" and severity <= warning"#))
        #expect(try !matches(#"message ~ "user [a-z]+ from""#) == false)
        #expect(try matches(#"not (host == "web1") and time >= "2026-01-01T00:00:00Z""#))
        var web1 = sshd
        web1.host = "web1"
        #expect(try !matches(#"not (host == "web1") and time >= "2026-01-01T00:00:00Z""#, web1))
    }

    @Test func comparisonsOnEveryKindOfField() throws {
        #expect(try matches("pid = 42") && matches("pid == 42") && !matches("pid != 42") && matches("pid < 43"))
        #expect(try matches("pid >= 42") && !matches("pid > 42") && matches("facility == 4"))
        #expect(try matches("severity == 4") && matches("severity >= warn") && !matches("severity < warning"))
        #expect(try matches("severity <= err") == false && matches("severity > error"))
        #expect(try matches(#"time < "2026-03-01T11:00:00+00:00""#) && !matches(#"time > "2026-03-01T10:00:00Z""#))
        #expect(try matches(#"host > "web1""#) && matches("app == sshd") && !matches(#"app == "ssh""#))
        #expect(try matches(#"sd.origin.ip == "10.0.0.1""#) && matches(#"sd.ip contains "10.""#))
        #expect(try matches(#"extra.user == "root""#) && !matches(#"extra.user == "bob""#))
        #expect(try matches(#"pid ~ "^4[0-9]$""#) && matches(#"severity contains "warn""#))
    }

    @Test func booleanOperatorsAndPrecedence() throws {
        #expect(try matches(#"app == "x" or app == "sshd" and pid == 42"#))
        #expect(try !matches(#"(app == "x" or app == "sshd") and pid == 1"#))
        #expect(try matches(#"NOT NOT app == "sshd""#))
        #expect(try matches(#"not app == "x" and not (pid == 1 or pid == 2)"#))
    }

    @Test func missingFieldsFailComparisonsButNotInequality() throws {
        let bare = LogRecord(message: "hello")
        #expect(try !matches("pid == 1", bare) && matches("pid != 1", bare) && !matches("severity <= debug", bare))
        #expect(try !matches(#"host == "web1""#, bare) && matches(#"not (host == "web1")"#, bare))
        #expect(try !matches(#"time >= "2000-01-01T00:00:00Z""#, bare))
    }

    @Test func containsIsByteExactAndCaseSensitive() throws {
        #expect(try !matches(#"message contains "failed password""#))
        #expect(try matches(#"message contains """#))
        let accented = LogRecord(message: "caf\u{E9}")
        #expect(try !matches(#"message contains "cafe""#, accented))
    }

    @Test func requiredLiteralsComeFromEveryConjunctButNotFromOrNot() throws {
        #expect(
            try LogFilter(#"app == "sshd" and message ~ "Failed""#).requiredLiterals == [
                Array("sshd".utf8), Array("Failed".utf8),
            ])
        #expect(try LogFilter(#"app == "a" or app == "b""#).requiredLiterals.isEmpty)
        #expect(try LogFilter(#"not message contains "x""#).requiredLiterals.isEmpty)
        #expect(try LogFilter(#"message ~ "user [a-z]+ from""#).requiredLiterals == [Array("user ".utf8)])
        #expect(try LogFilter(#"message ~ "ab?cdef(gh)*x+yz""#).requiredLiterals == [Array("cdef".utf8)])
        #expect(try LogFilter(#"message ~ "a|bcdef""#).requiredLiterals.isEmpty)
        #expect(try LogFilter(#"message ~ "(?i)failed""#).requiredLiterals.isEmpty)
        #expect(try LogFilter(#"message ~ "port \\d+ ssh2""#).requiredLiterals == [Array("port ".utf8)])
        #expect(try LogFilter(#"sd.x.y == "v" and pid == 3"#).requiredLiterals.isEmpty)
        #expect(try LogFilter("message ~ \"caf\u{E9}.au lait\"").requiredLiterals == [Array("au lait".utf8)])
    }

    func error(_ query: String) -> LogFilterError? {
        do {
            _ = try LogFilter(query)
            return nil
        } catch {
            return error
        }
    }

    @Test func everyErrorHasItsPositionAndReason() {
        #expect(error("") == LogFilterError(position: 0, reason: .emptyQuery))
        #expect(error("   ") == LogFilterError(position: 0, reason: .emptyQuery))
        #expect(error("app # 1") == LogFilterError(position: 4, reason: .unexpectedCharacter("#")))
        #expect(error("app ! 1") == LogFilterError(position: 4, reason: .unexpectedCharacter("!")))
        #expect(error(#"app == "sshd"#) == LogFilterError(position: 7, reason: .unterminatedString))
        #expect(error(#"app == "a\qb""#) == LogFilterError(position: 9, reason: .invalidEscape("q")))
        #expect(error(#"mesage contains "x""#) == LogFilterError(position: 0, reason: .unknownField("mesage")))
        #expect(error(#"== "x""#) == LogFilterError(position: 0, reason: .expectedField(found: "==")))
        #expect(error(#"app "x""#) == LogFilterError(position: 4, reason: .expectedOperator(found: #""x""#)))
        #expect(error("app ==") == LogFilterError(position: 6, reason: .expectedValue(found: "end of query")))
        #expect(
            error(#"time contains "2026""#)
                == LogFilterError(position: 5, reason: .operatorNotApplicable(operator: "contains", field: "time")))
        #expect(error("severity <= loud") == LogFilterError(position: 12, reason: .invalidSeverity("loud")))
        #expect(error("severity <= 8") == LogFilterError(position: 12, reason: .invalidSeverity("8")))
        #expect(error("pid == abc") == LogFilterError(position: 7, reason: .invalidNumber("abc")))
        #expect(error(#"time >= "yesterday""#) == LogFilterError(position: 8, reason: .invalidTime("yesterday")))
        #expect(error("(app == x") == LogFilterError(position: 0, reason: .missingClosingParenthesis))
        #expect(error("app == x)") == LogFilterError(position: 8, reason: .unexpectedToken(")")))
        #expect(error("app == x y") == LogFilterError(position: 9, reason: .unexpectedToken("y")))
        #expect(error("app == x and") == LogFilterError(position: 12, reason: .expectedField(found: "end of query")))
        guard case .invalidRegex = error(#"message ~ "a[b""#)?.reason else {
            Issue.record("an unbalanced class must be rejected")
            return
        }
        #expect(error(#"message ~ "a[b""#)?.position == 10)
    }
}
