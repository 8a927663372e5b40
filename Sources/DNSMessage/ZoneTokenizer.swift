/// One field of a master-file entry: raw bytes (escapes still in place) and whether it was quoted.
struct ZoneToken {
    var text: ArraySlice<UInt8>
    var quoted: Bool
    var string: String { String(decoding: text, as: UTF8.self) }
}

/// One logical entry: the fields of a line, parentheses joining lines (RFC 1035 5.1).
struct ZoneEntry {
    /// The 1-based line the entry starts on.
    var line: Int
    /// True when the line starts with a blank (the owner is the previous one).
    var startsWithBlank: Bool
    var tokens: [ZoneToken] = []
}

/// Splits master-file text into entries: comments (`;`) dropped, `( … )` continued across lines,
/// `"…"` kept as one token, backslash escapes kept raw for the field parsers.
enum ZoneTokenizer {
    static func entries(_ bytes: [UInt8]) throws(DNSPresentationError) -> [ZoneEntry] {
        var entries: [ZoneEntry] = []
        var line = 1
        var depth = 0
        var index = 0
        var current = ZoneEntry(line: 1, startsWithBlank: bytes.first == 0x20 || bytes.first == 0x09)
        func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0D }
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case 0x0A:
                line += 1
                index += 1
                if depth == 0 {
                    if !current.tokens.isEmpty { entries.append(current) }
                    let next = index < bytes.count ? bytes[index] : 0
                    current = ZoneEntry(line: line, startsWithBlank: next == 0x20 || next == 0x09)
                }
            case _ where isBlank(byte):
                index += 1
            case UInt8(ascii: ";"):
                while index < bytes.count && bytes[index] != 0x0A { index += 1 }
            case UInt8(ascii: "("):
                depth += 1
                index += 1
            case UInt8(ascii: ")"):
                guard depth > 0 else { throw DNSPresentationError("unbalanced ')'", line: line) }
                depth -= 1
                index += 1
            case UInt8(ascii: "\""):
                let start = index + 1
                index = start
                while index < bytes.count && bytes[index] != UInt8(ascii: "\"") {
                    if bytes[index] == 0x0A { throw DNSPresentationError("newline inside quotes", line: line) }
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                guard index < bytes.count else { throw DNSPresentationError("unterminated quote", line: line) }
                current.tokens.append(ZoneToken(text: bytes[start..<index], quoted: true))
                index += 1
            default:
                let start = index
                while index < bytes.count {
                    let next = bytes[index]
                    if isBlank(next) || next == 0x0A || next == UInt8(ascii: ";") || next == UInt8(ascii: "(")
                        || next == UInt8(ascii: ")") || next == UInt8(ascii: "\"") { break }
                    index += next == UInt8(ascii: "\\") ? 2 : 1
                }
                index = min(index, bytes.count)
                current.tokens.append(ZoneToken(text: bytes[start..<index], quoted: false))
            }
        }
        guard depth == 0 else { throw DNSPresentationError("unbalanced '('", line: current.line) }
        if !current.tokens.isEmpty { entries.append(current) }
        return entries
    }
}
