/// Escaping and unescaping shared by names and character-strings in presentation format (RFC 1035 5.1).
enum PresentationText {
    /// Reads `\X` and `\DDD` escapes in `text`, calling `emit(byte, wasEscaped)` per resulting byte.
    static func unescape(
        _ text: ArraySlice<UInt8>, _ emit: (UInt8, Bool) throws(DNSPresentationError) -> Void
    ) throws(DNSPresentationError) {
        var index = text.startIndex
        while index < text.endIndex {
            let byte = text[index]
            guard byte == UInt8(ascii: "\\") else {
                try emit(byte, false)
                index += 1
                continue
            }
            guard index + 1 < text.endIndex else { throw DNSPresentationError("dangling backslash") }
            let first = text[index + 1]
            if isDigit(first) {
                guard index + 3 < text.endIndex, isDigit(text[index + 2]), isDigit(text[index + 3]) else {
                    throw DNSPresentationError("bad \\DDD escape")
                }
                let value = Int(first - 48) * 100 + Int(text[index + 2] - 48) * 10 + Int(text[index + 3] - 48)
                guard value <= 255 else { throw DNSPresentationError("\\DDD escape above 255") }
                try emit(UInt8(value), true)
                index += 4
            } else {
                try emit(first, true)
                index += 2
            }
        }
    }

    static func isDigit(_ byte: UInt8) -> Bool { byte &- 48 < 10 }

    /// Appends `bytes` escaped for presentation: `specials` get a backslash, non-printables become `\DDD`.
    static func escape(_ bytes: some Sequence<UInt8>, specials: [UInt8], escapeSpace: Bool, into out: inout String) {
        for byte in bytes {
            if byte < 0x20 || byte > 0x7E || (byte == 0x20 && escapeSpace) {
                let digits = String(byte)
                out += "\\" + String(repeating: "0", count: 3 - digits.count) + digits
            } else if specials.contains(byte) {
                out += "\\" + String(UnicodeScalar(byte))
            } else {
                out.unicodeScalars.append(UnicodeScalar(byte))
            }
        }
    }

    static let nameSpecials: [UInt8] = Array(".\\\"();@$".utf8)
    static let stringSpecials: [UInt8] = Array("\\\"".utf8)

    /// A quoted character-string: `"a\"b"`.
    static func quoted(_ bytes: some Sequence<UInt8>) -> String {
        var out = "\""
        escape(bytes, specials: stringSpecials, escapeSpace: false, into: &out)
        return out + "\""
    }
}
