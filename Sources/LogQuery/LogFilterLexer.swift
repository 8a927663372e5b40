/// Splits a filter expression into tokens, each with its position.
struct LogFilterLexer {
    enum Kind: Equatable {
        case word(String)  // field names, bare values, keywords (and/or/not/contains)
        case string(String)
        case number(String)
        case op(String)  // == = != < <= > >= ~
        case open, close, end
    }

    struct Token {
        var kind: Kind
        var position: Int
        var text: String {
            switch kind {
            case .word(let w), .number(let w), .op(let w): w
            case .string(let s): "\"\(s)\""
            case .open: "("
            case .close: ")"
            case .end: "end of query"
            }
        }
    }

    static func tokens(_ query: String) throws(LogFilterError) -> [Token] {
        let s = Array(query.unicodeScalars)
        var out: [Token] = []
        var i = 0
        func isWord(_ c: Unicode.Scalar) -> Bool {
            c.properties.isAlphabetic || ("0"..."9").contains(c) || c == "_" || c == "." || c == "@" || c == "-"
        }
        while i < s.count {
            let c = s[i]
            let start = i
            if c.properties.isWhitespace {
                i += 1
                continue
            }
            switch c {
            case "(": out.append(Token(kind: .open, position: i)); i += 1
            case ")": out.append(Token(kind: .close, position: i)); i += 1
            case "~": out.append(Token(kind: .op("~"), position: i)); i += 1
            case "=", "!", "<", ">":
                let two = i + 1 < s.count && s[i + 1] == "="
                guard c != "!" || two else { throw LogFilterError(position: i, reason: .unexpectedCharacter("!")) }
                let text = two ? String(c) + "=" : String(c)
                out.append(Token(kind: .op(text == "=" ? "==" : text), position: i))
                i += two ? 2 : 1
            case "\"":
                i += 1
                var value = String.UnicodeScalarView()
                while true {
                    guard i < s.count else { throw LogFilterError(position: start, reason: .unterminatedString) }
                    let d = s[i]
                    if d == "\"" { break }
                    if d == "\\" {
                        guard i + 1 < s.count else {
                            throw LogFilterError(position: start, reason: .unterminatedString)
                        }
                        switch s[i + 1] {
                        case "\"": value.append("\"")
                        case "\\": value.append("\\")
                        case "n": value.append("\n")
                        case "t": value.append("\t")
                        default: throw LogFilterError(position: i, reason: .invalidEscape(Character(s[i + 1])))
                        }
                        i += 2
                        continue
                    }
                    value.append(d)
                    i += 1
                }
                i += 1
                out.append(Token(kind: .string(String(value)), position: start))
            default:
                guard isWord(c) else { throw LogFilterError(position: i, reason: .unexpectedCharacter(Character(c))) }
                while i < s.count, isWord(s[i]) { i += 1 }
                let text = String(String.UnicodeScalarView(s[start..<i]))
                let numeric =
                    text.allSatisfy { $0.isNumber }
                    || (text.first == "-" && text.count > 1
                        && text.dropFirst().allSatisfy { $0.isNumber })
                out.append(Token(kind: numeric ? .number(text) : .word(text), position: start))
            }
        }
        out.append(Token(kind: .end, position: s.count))
        return out
    }
}
