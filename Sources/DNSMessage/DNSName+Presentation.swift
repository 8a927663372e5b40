extension DNSName: CustomStringConvertible, ExpressibleByStringLiteral {
    /// The absolute presentation form with a trailing dot (`"example.com."`, root `"."`), special and
    /// non-printable bytes escaped as dig does (`\.`, `\032`).
    public var description: String {
        guard !isRoot else { return "." }
        var out = ""
        for label in labels {
            PresentationText.escape(label, specials: PresentationText.nameSpecials, escapeSpace: true, into: &out)
            out += "."
        }
        return out
    }

    /// Parses presentation text: a trailing dot makes it absolute, otherwise `origin` is appended
    /// (the root when nil). `\.` and `\DDD` escapes are honoured; `"@"` alone means `origin`.
    /// - Throws: `DNSPresentationError` for empty labels, labels over 63 or names over 255 bytes.
    public init(parsing text: String, origin: DNSName? = nil) throws(DNSPresentationError) {
        try self.init(parsing: Array(text.utf8)[...], origin: origin)
    }

    init(parsing text: ArraySlice<UInt8>, origin: DNSName?) throws(DNSPresentationError) {
        if text.count == 1 && text.first == UInt8(ascii: "@") {
            self = origin ?? .root
            return
        }
        if text.count == 1 && text.first == UInt8(ascii: ".") {
            self = .root
            return
        }
        guard !text.isEmpty else { throw DNSPresentationError("empty name") }
        var bytes: [UInt8] = [0]
        var labelStart = 0
        var absolute = false
        try PresentationText.unescape(text) { (byte, escaped) throws(DNSPresentationError) in
            if byte == UInt8(ascii: ".") && !escaped {
                let length = bytes.count - labelStart - 1
                guard length > 0 else { throw DNSPresentationError("empty label (two dots in a row, or a leading dot)") }
                bytes[labelStart] = UInt8(length)
                labelStart = bytes.count
                bytes.append(0)
                return
            }
            bytes.append(byte)
            guard bytes.count - labelStart - 1 <= 63 else {
                let label = String(decoding: bytes[(labelStart + 1)...], as: UTF8.self)
                throw DNSPresentationError("label longer than 63 bytes: \"\(label)…\"")
            }
        }
        let lastLength = bytes.count - labelStart - 1
        if lastLength == 0 {
            absolute = true
        } else {
            bytes[labelStart] = UInt8(lastLength)
            bytes.append(0)
        }
        var name = DNSName(uncheckedWire: bytes)
        if !absolute, let origin {
            guard let joined = name.appending(origin) else { throw DNSPresentationError("name longer than 255 bytes") }
            name = joined
        }
        guard name.wire.count <= 255 else { throw DNSPresentationError("name longer than 255 bytes") }
        self = name
    }

    /// A name from a literal; traps on an invalid literal (a programming error, never input).
    public init(stringLiteral value: String) {
        do {
            try self.init(parsing: value)
        } catch {
            preconditionFailure("invalid DNS name literal \(value): \(error)")
        }
    }
}
