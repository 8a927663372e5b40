/// A compiled `~` pattern plus the literal run every match must contain (for the prefilter).
struct LogFilterRegex: @unchecked Sendable {
    // Regex is immutable once built; `@unchecked` because its Output type is not statically Sendable.
    let regex: Regex<AnyRegexOutput>
    let pattern: String
    let requiredLiteral: [UInt8]?

    init(pattern: String) throws {
        self.regex = try Regex(pattern)
        // Swift compiles a regex on its first match: pay that here, at filter compile time, not
        // inside the first scan slice (measured: a 20 ms first slice otherwise).
        _ = try? regex.firstMatch(in: "")
        self.pattern = pattern
        let literal = Self.longestRequiredRun(pattern)
        self.requiredLiteral = literal.isEmpty ? nil : Array(literal.utf8)
    }

    func matches(_ text: String) -> Bool { (try? regex.firstMatch(in: text)) != nil }

    static let metacharacters: Set<Character> = ["\\", "^", "$", ".", "|", "?", "*", "+", "(", ")", "[", "]", "{", "}"]

    /// The pattern itself when it is ASCII without metacharacters, so `~` can be a byte substring
    /// search with the same result (non-ASCII stays with Regex and its canonical equivalence).
    static func plainLiteral(_ pattern: String) -> String? {
        pattern.allSatisfy { $0.isASCII && !metacharacters.contains($0) } ? pattern : nil
    }

    /// The longest run of ASCII characters that every match must contain, found conservatively: none
    /// when the pattern has an alternation or an inline option; groups and classes end a run and
    /// are skipped; a character followed by `?`, `*` or `{` is optional and ends a run.
    static func longestRequiredRun(_ pattern: String) -> String {
        let p = Array(pattern)
        if p.contains("|") || pattern.contains("(?") { return "" }
        var best = ""
        var run = ""
        func endRun() {
            if run.utf8.count > best.utf8.count { best = run }
            run = ""
        }
        var i = 0
        while i < p.count {
            let c = p[i]
            var literal: Character?
            switch c {
            case "\\":
                guard i + 1 < p.count else { return "" }
                let e = p[i + 1]
                i += 1
                if !e.isLetter && !e.isNumber { literal = e }
            case "[":
                var j = i + 1
                if j < p.count, p[j] == "^" { j += 1 }
                if j < p.count, p[j] == "]" { j += 1 }
                while j < p.count, p[j] != "]" { j += p[j] == "\\" ? 2 : 1 }
                i = j
            case "(":
                var depth = 1
                var j = i + 1
                while j < p.count, depth > 0 {
                    if p[j] == "\\" { j += 1 } else if p[j] == "(" { depth += 1 } else if p[j] == ")" { depth -= 1 }
                    j += 1
                }
                i = j - 1
            case "^", "$", ".", ")", "]", "{", "}", "*", "+", "?": break
            default: literal = c
            }
            i += 1
            let next: Character? = i < p.count ? p[i] : nil
            // Only ASCII is taken: Swift's Regex matches non-ASCII by canonical equivalence, so "é"
            // may match bytes that do not contain the bytes of "é".
            if let literal, literal.isASCII, next != "?", next != "*", next != "{" {
                run.append(literal)
                if next == "+" { endRun() }
            } else {
                endRun()
            }
        }
        endRun()
        return best
    }
}
