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
        /// The operator does not apply to this field (e.g. `time contains`, `severity ~`).
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

    /// "position N: reason".
    public var description: String { "filter error at position \(position): \(reason)" }
}
