import CPCRE2

#if canImport(Glibc)
    import Glibc
#endif

/// A compiled `~` pattern (PCRE2, JIT-compiled when the system allows) plus the literal run every
/// match must contain (for the prefilter).
///
/// It matches the raw bytes of a field, with no `String` per line: in UTF mode with
/// `PCRE2_MATCH_INVALID_UTF`, so `.` and classes take whole code points, `\d`, `\w` and `\s` are
/// Unicode-aware (`PCRE2_UCP`), and bytes that are not UTF-8 are never matched by any item but
/// never trap either. Sharing is safe: the compiled code is read-only; each thread matches with
/// match data of its own.
struct LogFilterRegex: Sendable {
    let pattern: String
    let requiredLiteral: [UInt8]?
    private let compiled: CompiledPattern

    /// Compiles `pattern`.
    /// - Throws: `LogFilterRegexError` with PCRE2's message and the offset in the pattern.
    init(pattern: String) throws(LogFilterRegexError) {
        self.compiled = try CompiledPattern(pattern)
        self.pattern = pattern
        let literal = Self.longestRequiredRun(pattern)
        self.requiredLiteral = literal.isEmpty ? nil : Array(literal.utf8)
    }

    /// Whether the pattern matches anywhere in `bytes`. A match that PCRE2 gives up on (its match or
    /// depth limit, on a pattern that backtracks without end) counts as no match.
    @inline(__always)
    func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { compiled.matches(bytes) }

    /// Whether the pattern matches anywhere in `text` (its UTF-8 bytes).
    func matches(_ text: String) -> Bool {
        var text = text
        return text.withUTF8 { matches($0) }
    }

    /// Whether PCRE2 compiled the pattern to machine code (false where the system refuses
    /// executable memory; matching then runs PCRE2's interpreter, with the same results).
    var isJITCompiled: Bool { compiled.jit }

    static let metacharacters: Set<Character> = ["\\", "^", "$", ".", "|", "?", "*", "+", "(", ")", "[", "]", "{", "}"]

    /// The pattern itself when it has no metacharacter, so `~` can be a byte substring search with
    /// the same result (PCRE2 matches a literal code point by its exact UTF-8 bytes).
    static func plainLiteral(_ pattern: String) -> String? {
        pattern.allSatisfy { !metacharacters.contains($0) } ? pattern : nil
    }

    /// The longest run of characters that every match must contain, found conservatively: none when
    /// the pattern has an alternation, an inline option or verb, or `\Q…\E` quoting; groups, classes,
    /// quantifier braces and the arguments of escapes (`\x41`, `\x{…}`, `\p{…}`, `\k<…>`, `\cX`)
    /// end a run and are skipped; a character followed by `?`, `*` or `{` is optional and ends a run.
    static func longestRequiredRun(_ pattern: String) -> String {
        let p = Array(pattern.unicodeScalars)
        if p.contains("|") || pattern.contains("(?") || pattern.contains("(*") || pattern.contains(#"\Q"#) {
            return ""
        }
        var best = ""
        var run = ""
        func endRun() {
            if run.utf8.count > best.utf8.count { best = run }
            run = ""
        }
        /// The index after a bracketed argument opening at `i` (`{…}`, `<…>`, `'…'`), or `i`.
        func skipArgument(_ i: Int) -> Int {
            guard i < p.count, let close: Unicode.Scalar = ["{": "}", "<": ">", "'": "'"][p[i]] else { return i }
            var j = i + 1
            while j < p.count, p[j] != close { j += 1 }
            return j + 1
        }
        var i = 0
        while i < p.count {
            let c = p[i]
            var literal: Unicode.Scalar?
            switch c {
            case "\\":
                guard i + 1 < p.count else { return "" }
                let e = p[i + 1]
                i += 1
                let isWord = e.properties.isAlphabetic || e.properties.numericType != nil || e == "_"
                if !isWord {
                    literal = e
                } else if e == "x" {
                    // \x41, \x{263A}: up to two hex digits, or braces.
                    if i + 1 < p.count, p[i + 1] == "{" {
                        i = skipArgument(i + 1) - 1
                    } else {
                        var digits = 0
                        while digits < 2, i + 1 < p.count, p[i + 1].properties.isASCIIHexDigit {
                            i += 1
                            digits += 1
                        }
                    }
                } else if e == "c" {
                    i += 1  // \cX: a control character
                } else if e.properties.numericType != nil {
                    while i + 1 < p.count, p[i + 1].properties.numericType != nil { i += 1 }  // \1, \012
                } else if i + 1 < p.count, ["{", "<", "'"].contains(p[i + 1]) {
                    i = skipArgument(i + 1) - 1  // \p{L}, \g{1}, \k<name>, \N{U+263A}, \o{12}
                } else if e == "g" {
                    // \g1, \g-1, \g+2: a relative or numbered reference
                    if i + 1 < p.count, p[i + 1] == "-" || p[i + 1] == "+" { i += 1 }
                    while i + 1 < p.count, p[i + 1].properties.numericType != nil { i += 1 }
                }
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
            case "{":
                i = skipArgument(i) - 1  // a quantifier's bounds
            case "^", "$", ".", ")", "]", "}", "*", "+", "?": break
            default: literal = c
            }
            i += 1
            let next: Unicode.Scalar? = i < p.count ? p[i] : nil
            if let literal, next != "?", next != "*", next != "{" {
                run.unicodeScalars.append(literal)
                if next == "+" { endRun() }
            } else {
                endRun()
            }
        }
        endRun()
        return best
    }
}

/// Why a `~` pattern did not compile: PCRE2's message and where in the pattern (in bytes).
struct LogFilterRegexError: Error, CustomStringConvertible {
    let message: String
    let offset: Int
    var description: String { "\(message) (at byte \(offset) of the pattern)" }
}

/// A PCRE2 pattern compiled once, JIT-compiled when the system allows, freed with its owner.
private final class CompiledPattern: @unchecked Sendable {
    // @unchecked: the code is immutable after init and PCRE2 documents it as shareable between
    // threads; match data, which a match writes, is per thread (`threadMatchData`).
    let code: OpaquePointer
    let jit: Bool

    init(_ pattern: String) throws(LogFilterRegexError) {
        var errorCode: Int32 = 0
        var errorOffset = 0
        let options = UInt32(PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF)
        var pattern = pattern
        let code = pattern.withUTF8 { bytes in
            Self.withNonNullBase(bytes) { pcre2_compile_8($0, $1, options, &errorCode, &errorOffset, nil) }
        }
        guard let code else {
            var text = [UInt8](repeating: 0, count: 256)
            let n = pcre2_get_error_message_8(errorCode, &text, text.count)
            throw LogFilterRegexError(message: String(decoding: text.prefix(max(0, Int(n))), as: UTF8.self),
                                      offset: errorOffset)
        }
        self.code = code
        self.jit = pcre2_jit_compile_8(code, UInt32(PCRE2_JIT_COMPLETE)) == 0
    }

    deinit { pcre2_code_free_8(code) }

    @inline(__always)
    func matches(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let data = Self.threadMatchData()
        let result = Self.withNonNullBase(bytes) { subject, count in
            jit
                ? pcre2_jit_match_8(code, subject, count, 0, 0, data, nil)
                : pcre2_match_8(code, subject, count, 0, 0, data, nil)
        }
        return result >= 0
    }

    /// `body` with the buffer's start, or a byte on the stack for an empty buffer without one (PCRE2
    /// refuses a null pointer, even with length 0).
    @inline(__always)
    static func withNonNullBase<R>(
        _ bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafePointer<UInt8>, Int) -> R
    ) -> R {
        if let base = bytes.baseAddress { return body(base, bytes.count) }
        var zero: UInt8 = 0
        return withUnsafePointer(to: &zero) { body($0, 0) }
    }

    /// This thread's match data (one pair: only whether a match exists is read), made on its first
    /// match and freed when the thread ends.
    @inline(__always)
    static func threadMatchData() -> OpaquePointer {
        if let data = pthread_getspecific(matchDataKey) { return OpaquePointer(data) }
        let data = pcre2_match_data_create_8(1, nil)!
        pthread_setspecific(matchDataKey, UnsafeRawPointer(data))
        return data
    }

    private static let matchDataKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { data in
            if let data { pcre2_match_data_free_8(OpaquePointer(data)) }
        }
        return key
    }()
}
