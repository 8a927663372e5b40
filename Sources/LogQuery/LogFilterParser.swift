/// Recursive-descent parser of the filter language (grammar: `or := and ("or" and)*`,
/// `and := unary ("and" unary)*`, `unary := "not" unary | "(" or ")" | field op value`).
struct LogFilterParser {
    private let tokens: [LogFilterLexer.Token]
    private var index = 0

    init(_ query: String) throws(LogFilterError) {
        tokens = try LogFilterLexer.tokens(query)
        if tokens.count == 1 { throw LogFilterError(position: 0, reason: .emptyQuery) }
    }

    mutating func parseQuery() throws(LogFilterError) -> LogFilterNode {
        let node = try parseOr()
        guard case .end = peek.kind else {
            throw LogFilterError(position: peek.position, reason: .unexpectedToken(peek.text))
        }
        return node
    }

    private var peek: LogFilterLexer.Token { tokens[index] }

    private func isKeyword(_ word: String) -> Bool {
        if case .word(let w) = peek.kind { return w.lowercased() == word }
        return false
    }

    private mutating func parseOr() throws(LogFilterError) -> LogFilterNode {
        var node = try parseAnd()
        while isKeyword("or") {
            index += 1
            node = .or(node, try parseAnd())
        }
        return node
    }

    private mutating func parseAnd() throws(LogFilterError) -> LogFilterNode {
        var node = try parseUnary()
        while isKeyword("and") {
            index += 1
            node = .and(node, try parseUnary())
        }
        return node
    }

    private mutating func parseUnary() throws(LogFilterError) -> LogFilterNode {
        if isKeyword("not") {
            index += 1
            return .not(try parseUnary())
        }
        if case .open = peek.kind {
            let open = peek
            index += 1
            let node = try parseOr()
            guard case .close = peek.kind else {
                if case .end = peek.kind {
                    throw LogFilterError(position: open.position, reason: .missingClosingParenthesis)
                }
                throw LogFilterError(position: peek.position, reason: .unexpectedToken(peek.text))
            }
            index += 1
            return node
        }
        return try parseComparison()
    }

    private mutating func parseComparison() throws(LogFilterError) -> LogFilterNode {
        let fieldToken = peek
        guard case .word(let name) = fieldToken.kind, !["and", "or", "not", "contains"].contains(name.lowercased())
        else { throw LogFilterError(position: fieldToken.position, reason: .expectedField(found: fieldToken.text)) }
        guard let field = LogFilterField(name: name) else {
            throw LogFilterError(position: fieldToken.position, reason: .unknownField(name))
        }
        index += 1
        let opToken = peek
        let opText: String
        switch opToken.kind {
        case .op(let o): opText = o
        case .word(let w) where w.lowercased() == "contains": opText = "contains"
        default: throw LogFilterError(position: opToken.position, reason: .expectedOperator(found: opToken.text))
        }
        index += 1
        let valueToken = peek
        let value: String
        switch valueToken.kind {
        case .string(let s): value = s
        case .number(let s): value = s
        case .word(let w) where !["and", "or", "not", "contains"].contains(w.lowercased()): value = w
        default: throw LogFilterError(position: valueToken.position, reason: .expectedValue(found: valueToken.text))
        }
        index += 1
        func notApplicable() -> LogFilterError {
            LogFilterError(position: opToken.position, reason: .operatorNotApplicable(operator: opText, field: name))
        }
        switch opText {
        case "contains":
            guard field != .time else { throw notApplicable() }
            return .contains(field, Array(value.utf8))
        case "~":
            guard field != .time else { throw notApplicable() }
            if let plain = LogFilterRegex.plainLiteral(value) { return .contains(field, Array(plain.utf8)) }
            do {
                return .regex(field, try LogFilterRegex(pattern: value))
            } catch {
                throw LogFilterError(position: valueToken.position, reason: .invalidRegex(String(describing: error)))
            }
        default:
            let op = LogFilterComparison(rawValue: opText)!
            switch field {
            case .severity:
                guard let s = LogSeverity(name: value) else {
                    throw LogFilterError(position: valueToken.position, reason: .invalidSeverity(value))
                }
                return .severity(op, s)
            case .pid, .facility:
                guard let n = Int(value) else {
                    throw LogFilterError(position: valueToken.position, reason: .invalidNumber(value))
                }
                return .integer(field, op, n)
            case .time:
                guard case .string = valueToken.kind, let t = LogTime(rfc3339: value) else {
                    throw LogFilterError(position: valueToken.position, reason: .invalidTime(value))
                }
                return .time(op, t)
            default:
                return .text(field, op, Array(value.utf8))
            }
        }
    }
}
