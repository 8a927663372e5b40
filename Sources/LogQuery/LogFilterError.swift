/// Why a filter expression was rejected, and where. A rejected filter is never run.
///
/// Corresponds to the Windows `ERROR_EVT_INVALID_QUERY` from `EvtQuery`, with the position.
public struct LogFilterError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 0-based offset, in Unicode scalars, of the first character of the offending token
    /// (the query's length when the problem is an unexpected end).
    public var position: Int
    /// What is wrong.
    public var reason: Reason

    /// Makes an error.
    public init(position: Int, reason: Reason) {
        self.position = position
        self.reason = reason
    }

    /// What is wrong with the query.
    public enum Reason: Sendable, Equatable {
        /// The query is empty or only spaces.
        case emptyQuery
        /// A character that starts no token (e.g. `#`, a lone `!` or `&`).
        case unexpectedCharacter(Character)
        /// A `"` string with no closing quote.
        case unterminatedString
        /// A `\x` escape inside a string other than `\"`, `\\`, `\n`, `\t`.
        case invalidEscape(Character)
        /// A field name that is not known (see `LogFilter` for the list).
        case unknownField(String)
        /// A token where a field name was expected.
        case expectedField(found: String)
        /// A token where an operator (`==`, `contains`, `~`, …) was expected.
        case expectedOperator(found: String)
        /// A token where a value was expected, or a value of the wrong kind.
        case expectedValue(found: String)
        /// The operator does not apply to this field (`time contains`, `time ~`: a time only compares).
        case operatorNotApplicable(operator: String, field: String)
        /// A severity that is neither a name (emerg…debug) nor 0…7.
        case invalidSeverity(String)
        /// A number that is not an integer, for `pid`/`facility`.
        case invalidNumber(String)
        /// A time that is not RFC 3339 (`2026-01-01T00:00:00Z`).
        case invalidTime(String)
        /// A regular expression that does not compile; the compiler's message.
        case invalidRegex(String)
        /// A `(` without its `)`.
        case missingClosingParenthesis
        /// Input left after a complete expression (e.g. an extra `)`).
        case unexpectedToken(String)
    }

    /// `filter error at position 5: expected a value (a "string", a number, a severity or a time), found the end of the query`.
    public var description: String { "filter error at position \(position): \(reason)" }

    /// The query and a caret under the offending position, two lines indented by two spaces,
    /// for a terminal.
    public func pointing(into query: String) -> String {
        "  \(query)\n  \(String(repeating: " ", count: max(0, position)))^"
    }
}

extension LogFilterError.Reason: CustomStringConvertible {
    /// What is wrong, as a sentence fragment that says what was expected.
    public var description: String {
        switch self {
        case .emptyQuery: "the query is empty"
        case .unexpectedCharacter(let c): "unexpected character \(Self.shown(String(c))): expected a field, an operator or a value"
        case .unterminatedString: "the string has no closing quote (\")"
        case .invalidEscape(let c): "\\\(c) is not an escape: use \\\", \\\\, \\n or \\t"
        case .unknownField(let name):
            "unknown field \"\(name)\": expected one of \(LogFilter.fieldNames.joined(separator: ", "))"
        case .expectedField(let found): "expected a field name, found \(Self.shown(found))"
        case .expectedOperator(let found): "expected an operator (==, !=, <, <=, >, >=, contains, ~), found \(Self.shown(found))"
        case .expectedValue(let found): "expected a value (a \"string\", a number, a severity or a time), found \(Self.shown(found))"
        case .operatorNotApplicable(let op, let field): "the operator \(op) does not apply to the field \(field): a time is compared with ==, !=, <, <=, >, >="
        case .invalidSeverity(let text): "\"\(text)\" is not a severity: expected emerg, alert, crit, err, warning, notice, info, debug or 0…7"
        case .invalidNumber(let text): "\"\(text)\" is not an integer"
        case .invalidTime(let text): "\"\(text)\" is not an RFC 3339 time (2026-01-01T00:00:00Z)"
        case .invalidRegex(let message): "the regular expression does not compile: \(message)"
        case .missingClosingParenthesis: "a ( has no closing )"
        case .unexpectedToken(let token): "unexpected \(Self.shown(token)) after a complete expression"
        }
    }

    /// A token as the sentence shows it: `the end of the query`, a string in its quotes, others in
    /// single quotes (a quote itself in double quotes).
    private static func shown(_ token: String) -> String {
        if token == "end of query" { return "the end of the query" }
        if token.hasPrefix("\"") { return token }
        return token == "'" ? "\"'\"" : "'\(token)'"
    }
}
