extension LogTime {
    /// Parses an RFC 3339 / ISO 8601 timestamp: `2026-01-01T00:00:00Z`, with optional fractional
    /// seconds (any number of digits, kept to nanoseconds), `Z`/`z` or `±hh:mm`/`±hhmm`; a space
    /// may stand for `T`. With no zone, `defaultUTCOffsetSeconds` applies.
    /// Returns `nil` for anything else (the whole input must be consumed).
    public init?(rfc3339 text: some StringProtocol, defaultUTCOffsetSeconds: Int = 0) {
        var bytes = Array(text.utf8)
        let parsed = bytes.withUnsafeMutableBufferPointer {
            Self.parseRFC3339(UnsafeBufferPointer($0), defaultUTCOffsetSeconds: defaultUTCOffsetSeconds)
        }
        guard let parsed else { return nil }
        self = parsed
    }

    /// Byte-level RFC 3339 parser shared by RFC 5424 headers, JSON fields and filter literals.
    static func parseRFC3339(_ b: UnsafeBufferPointer<UInt8>, defaultUTCOffsetSeconds: Int) -> LogTime? {
        var i = 0
        func digits(_ count: Int) -> Int? {
            guard i + count <= b.count else { return nil }
            var value = 0
            for k in i..<(i + count) {
                let d = Int(b[k]) &- 48
                guard (0...9).contains(d) else { return nil }
                value = value * 10 + d
            }
            i += count
            return value
        }
        func expect(_ c: UInt8) -> Bool {
            guard i < b.count, b[i] == c else { return false }
            i += 1
            return true
        }
        guard let year = digits(4), expect(UInt8(ascii: "-")), let month = digits(2), expect(UInt8(ascii: "-")),
            let day = digits(2)
        else { return nil }
        guard i < b.count, b[i] == UInt8(ascii: "T") || b[i] == UInt8(ascii: "t") || b[i] == UInt8(ascii: " ")
        else { return nil }
        i += 1
        guard let hour = digits(2), expect(UInt8(ascii: ":")), let minute = digits(2), expect(UInt8(ascii: ":")),
            let second = digits(2)
        else { return nil }
        var nanos = 0
        if expect(UInt8(ascii: ".")) {
            var scale = 100_000_000
            let start = i
            while i < b.count, (48...57).contains(b[i]) {
                nanos += Int(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        var offset = defaultUTCOffsetSeconds
        if i < b.count {
            if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
                offset = 0
                i += 1
            } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
                let sign = b[i] == UInt8(ascii: "-") ? -1 : 1
                i += 1
                guard let hh = digits(2) else { return nil }
                _ = expect(UInt8(ascii: ":"))
                guard let mm = digits(2), hh <= 23, mm <= 59 else { return nil }
                offset = sign * (hh * 3_600 + mm * 60)
            }
        }
        guard i == b.count else { return nil }
        return LogTime(
            year: year, month: month, day: day, hour: hour, minute: minute, second: second,
            nanosecond: nanos, utcOffsetSeconds: offset)
    }
}
