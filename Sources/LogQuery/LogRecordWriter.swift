/// Renders records into one growing byte buffer, for a caller that writes the buffer out whole
/// (one `write` per buffer) instead of a string per record.
///
/// `.raw` and `.json` take the line's bytes as they are in the file when the caller has them:
/// `.raw` prints them (the record's message when not given); `.json` adds them as `line_bytes`
/// (an array of byte values, as `journalctl -o json` renders a field that is not UTF-8) for a
/// record whose line is not valid UTF-8, whose text fields hold U+FFFD there. Every output is
/// valid UTF-8, and every `.json` line is a valid JSON object, whatever bytes the file holds.
///
/// Not thread-safe: one thread at a time.
public struct LogRecordWriter {
    /// The rendering.
    public let format: LogOutputFormat
    /// The rendered lines so far, each ended by a newline.
    public private(set) var bytes: [UInt8] = []

    /// Makes an empty writer for `format`; `capacity` bytes are reserved up front.
    public init(format: LogOutputFormat, capacity: Int = 1 << 20) {
        self.format = format
        bytes.reserveCapacity(capacity)
    }

    /// Forgets the rendered lines, keeping the buffer's capacity.
    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    /// Appends a line of text and a newline, as they are.
    public mutating func appendLine(_ text: String) {
        bytes.append(contentsOf: text.utf8)
        bytes.append(0x0A)
    }

    /// Appends `record` rendered in `format` and a newline.
    /// - Parameters:
    ///   - record: the record to render.
    ///   - bookmark: the record's bookmark (`.json` writes it as `bookmark`; the others ignore it).
    ///   - line: the line's bytes in the file, without its newline (see the type's summary).
    public mutating func append(_ record: LogRecord, bookmark: LogBookmark?, line: UnsafeRawBufferPointer? = nil) {
        switch format {
        case .short, .iso:
            if let time = record.timestamp {
                format == .iso ? appendISO(time, fraction: false) : appendShort(time)
            } else {
                bytes.append(UInt8(ascii: "-"))
            }
            bytes.append(0x20)
            appendText(record.host ?? "-")
            bytes.append(0x20)
            appendText(record.app ?? "-")
            if let pid = record.pid {
                bytes.append(UInt8(ascii: "["))
                appendInteger(pid)
                bytes.append(UInt8(ascii: "]"))
            }
            bytes.append(UInt8(ascii: ":"))
            bytes.append(0x20)
            appendText(record.message)
        case .raw:
            if let line {
                appendLineBytes(line)
            } else {
                appendText(record.message)
            }
        case .json:
            appendJSON(record, bookmark: bookmark, line: line)
        }
        bytes.append(0x0A)
    }

    // MARK: text

    private mutating func appendText(_ text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// The line's bytes as UTF-8: valid lines as they are, others repaired (U+FFFD).
    private mutating func appendLineBytes(_ line: UnsafeRawBufferPointer) {
        let b = line.assumingMemoryBound(to: UInt8.self)
        if LineText.isValidUTF8(b) {
            bytes.append(contentsOf: b)
        } else {
            appendText(String(decoding: b, as: UTF8.self))
        }
    }

    private mutating func appendInteger<T: BinaryInteger>(_ value: T) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[19 - count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            } while magnitude != 0
            bytes.append(contentsOf: d[(20 - count)...])
        }
    }

    private mutating func appendTwoDigits(_ n: Int) {
        bytes.append(UInt8(ascii: "0") + UInt8(n / 10))
        bytes.append(UInt8(ascii: "0") + UInt8(n % 10))
    }

    /// `2026-12-07T10:00:01Z`; with `fraction`, `.25` and so on when the time has a fraction of a second.
    private mutating func appendISO(_ time: LogTime, fraction showFraction: Bool) {
        let (year, month, day) = time.utcDate
        appendInteger(year)
        bytes.append(UInt8(ascii: "-"))
        appendTwoDigits(month)
        bytes.append(UInt8(ascii: "-"))
        appendTwoDigits(day)
        bytes.append(UInt8(ascii: "T"))
        appendClock(time)
        let nanos = time.nanosecondsSinceEpoch
        let fraction = Int(nanos - nanos.dividedRoundingDown(by: 1_000_000_000) * 1_000_000_000)
        if showFraction, fraction != 0 {
            bytes.append(UInt8(ascii: "."))
            var digits = fraction
            var width = 9
            while digits % 10 == 0 {
                digits /= 10
                width -= 1
            }
            var scale = 1
            for _ in 1..<width { scale *= 10 }
            while scale > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(digits / scale % 10))
                scale /= 10
            }
        }
        bytes.append(UInt8(ascii: "Z"))
    }

    /// `Dec 07 10:00:01`.
    private mutating func appendShort(_ time: LogTime) {
        let (_, month, day) = time.utcDate
        let names: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"
        bytes.append(contentsOf: UnsafeBufferPointer(start: names.utf8Start + 3 * (month - 1), count: 3))
        bytes.append(0x20)
        appendTwoDigits(day)
        bytes.append(0x20)
        appendClock(time)
    }

    private mutating func appendClock(_ time: LogTime) {
        let seconds = Int(time.nanosecondsSinceEpoch.dividedRoundingDown(by: 1_000_000_000))
        let ofDay = seconds - seconds.dividedRoundingDown(by: 86_400) * 86_400
        appendTwoDigits(ofDay / 3600)
        bytes.append(UInt8(ascii: ":"))
        appendTwoDigits(ofDay / 60 % 60)
        bytes.append(UInt8(ascii: ":"))
        appendTwoDigits(ofDay % 60)
    }

    // MARK: JSON

    private mutating func appendJSON(_ record: LogRecord, bookmark: LogBookmark?, line: UnsafeRawBufferPointer?) {
        bytes.append(UInt8(ascii: "{"))
        if let time = record.timestamp {
            appendKey("time")
            bytes.append(UInt8(ascii: "\""))
            appendISO(time, fraction: true)
            bytes.append(UInt8(ascii: "\""))
        }
        if let host = record.host { appendMember("host", host) }
        if let app = record.app { appendMember("app", app) }
        if let pid = record.pid {
            appendKey("pid")
            appendInteger(pid)
        }
        if let msgid = record.msgid { appendMember("msgid", msgid) }
        if let severity = record.severity { appendMember("severity", severity.name) }
        if let facility = record.facility {
            appendKey("facility")
            appendInteger(facility)
        }
        if !record.structuredData.isEmpty {
            appendKey("structured_data")
            bytes.append(UInt8(ascii: "["))
            for (k, element) in record.structuredData.enumerated() {
                if k > 0 { bytes.append(UInt8(ascii: ",")) }
                bytes.append(UInt8(ascii: "{"))
                appendKey("id")
                appendString(element.id)
                appendKey("parameters")
                appendPairs(element.parameters.map { ($0.name, $0.value) })
                bytes.append(UInt8(ascii: "}"))
            }
            bytes.append(UInt8(ascii: "]"))
        }
        if !record.extraFields.isEmpty {
            appendKey("fields")
            appendPairs(record.extraFields)
        }
        appendMember("message", record.message)
        appendKey("offset")
        appendInteger(record.offset)
        appendKey("ordinal")
        appendInteger(record.ordinal)
        appendKey("length")
        appendInteger(record.length)
        if !record.flags.isEmpty {
            appendKey("flags")
            bytes.append(UInt8(ascii: "["))
            var first = true
            for (flag, name) in [
                (LogRecordFlags.cut, "cut"), (.raw, "raw"), (.invalidUTF8, "invalid_utf8"), (.partial, "partial"),
            ] where record.flags.contains(flag) {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                appendString(name)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        if record.flags.contains(.invalidUTF8), let line {
            appendKey("line_bytes")
            bytes.append(UInt8(ascii: "["))
            for (k, byte) in line.enumerated() {
                if k > 0 { bytes.append(UInt8(ascii: ",")) }
                appendInteger(byte)
            }
            bytes.append(UInt8(ascii: "]"))
        }
        if let bookmark { appendMember("bookmark", bookmark.serialized) }
        bytes.append(UInt8(ascii: "}"))
    }

    /// `[["name","value"],…]`: name-value pairs in order, duplicates kept.
    private mutating func appendPairs(_ pairs: [(name: String, value: String)]) {
        bytes.append(UInt8(ascii: "["))
        for (k, pair) in pairs.enumerated() {
            if k > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(UInt8(ascii: "["))
            appendString(pair.name)
            bytes.append(UInt8(ascii: ","))
            appendString(pair.value)
            bytes.append(UInt8(ascii: "]"))
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// `"name":`, after a comma unless it is the object's first member.
    private mutating func appendKey(_ name: StaticString) {
        if bytes.last != UInt8(ascii: "{") { bytes.append(UInt8(ascii: ",")) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        bytes.append(contentsOf: "\":".utf8)
    }

    private mutating func appendMember(_ name: StaticString, _ value: String) {
        appendKey(name)
        appendString(value)
    }

    /// A JSON string: `"` and `\` escaped, control characters as `\n`, `\t`, … or `\u00XX`. A
    /// Swift string is valid UTF-8, so the rest is copied as it is.
    private mutating func appendString(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            for (i, c) in utf8.enumerated() where c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart..<i]))
                runStart = i + 1
                bytes.append(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(c)
                case 0x0A: bytes.append(UInt8(ascii: "n"))
                case 0x0D: bytes.append(UInt8(ascii: "r"))
                case 0x09: bytes.append(UInt8(ascii: "t"))
                case 0x08: bytes.append(UInt8(ascii: "b"))
                case 0x0C: bytes.append(UInt8(ascii: "f"))
                default:
                    let hex: StaticString = "0123456789abcdef"
                    bytes.append(contentsOf: "u00".utf8)
                    bytes.append(hex.utf8Start[Int(c >> 4)])
                    bytes.append(hex.utf8Start[Int(c & 15)])
                }
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[runStart...]))
        }
        bytes.append(UInt8(ascii: "\""))
    }
}
