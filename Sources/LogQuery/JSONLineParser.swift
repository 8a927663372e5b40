/// JSON lines: one object per line. Well-known member names fill the record's fields
/// (`time`/`timestamp`/`@timestamp`/`ts`, `host`/`hostname`, `app`/`program`/`ident`/`appname`,
/// `pid`, `msgid`, `level`/`severity`, `facility`, `msg`/`message`); every other member is kept
/// in `extraFields` (nested objects and arrays as their JSON text).
enum JSONLineParser {
    /// Parses one line; `nil` when it is not a single JSON object.
    static func parse(_ b: UnsafeBufferPointer<UInt8>, options: LogParseOptions) -> LogRecord? {
        var reader = Reader(b: b)
        guard let members = reader.object(), reader.atEndAfterSpace() else { return nil }
        var record = LogRecord(message: "")
        for (name, value) in members {
            var taken = true
            switch wellKnown[name.lowercased()] {
            case "time" where record.timestamp == nil:
                record.timestamp = time(value, options: options)
                taken = record.timestamp != nil
            case "host" where record.host == nil: record.host = value.text
            case "app" where record.app == nil: record.app = value.text
            case "pid" where record.pid == nil:
                record.pid = Int(value.text)
                taken = record.pid != nil
            case "msgid" where record.msgid == nil: record.msgid = value.text
            case "severity" where record.severity == nil:
                record.severity = LogSeverity(name: value.text)
                taken = record.severity != nil
            case "facility" where record.facility == nil:
                record.facility = Int(value.text)
                taken = record.facility != nil
            case "message" where record.message.isEmpty: record.message = value.text
            default: taken = false
            }
            if !taken { record.extraFields.append((name, value.text)) }
        }
        return record
    }

    /// Lower-cased member names of the well-known fields, to the field they fill.
    static let wellKnown: [String: String] = [
        "time": "time", "timestamp": "time", "@timestamp": "time", "ts": "time",
        "host": "host", "hostname": "host", "app": "app", "program": "app", "ident": "app", "appname": "app",
        "app_name": "app", "pid": "pid", "msgid": "msgid", "level": "severity", "severity": "severity",
        "facility": "facility", "msg": "message", "message": "message",
    ]

    private static func time(_ value: Value, options: LogParseOptions) -> LogTime? {
        if value.isString {
            return LogTime(rfc3339: value.text, defaultUTCOffsetSeconds: options.defaultUTCOffsetSeconds)
        }
        guard let seconds = Double(value.text), seconds.isFinite else { return nil }
        // Epoch seconds, or milliseconds when implausibly large for seconds.
        let scaled = seconds > 1e11 ? seconds / 1_000 : seconds
        guard abs(scaled) < 9e9 else { return nil }
        return LogTime(nanosecondsSinceEpoch: Int64((scaled * 1e9).rounded()))
    }

    struct Value {
        var text: String
        var isString: Bool
    }

    /// A small strict JSON reader over one line.
    struct Reader {
        let b: UnsafeBufferPointer<UInt8>
        var i = 0

        mutating func space() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D { i += 1 }
        }

        mutating func atEndAfterSpace() -> Bool {
            space()
            return i == b.count
        }

        mutating func object() -> [(String, Value)]? {
            space()
            guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
            i += 1
            var members: [(String, Value)] = []
            space()
            if i < b.count, b[i] == UInt8(ascii: "}") {
                i += 1
                return members
            }
            while true {
                space()
                guard let name = string() else { return nil }
                space()
                guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
                i += 1
                guard let value = value() else { return nil }
                members.append((name, value))
                space()
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: ",") {
                    i += 1
                } else if b[i] == UInt8(ascii: "}") {
                    i += 1
                    return members
                } else {
                    return nil
                }
            }
        }

        mutating func value() -> Value? {
            space()
            guard i < b.count else { return nil }
            let start = i
            switch b[i] {
            case UInt8(ascii: "\""):
                return string().map { Value(text: $0, isString: true) }
            case UInt8(ascii: "{"):
                guard object() != nil else { return nil }
            case UInt8(ascii: "["):
                i += 1
                space()
                if i < b.count, b[i] == UInt8(ascii: "]") {
                    i += 1
                } else {
                    while true {
                        guard value() != nil else { return nil }
                        space()
                        guard i < b.count else { return nil }
                        if b[i] == UInt8(ascii: "]") {
                            i += 1
                            break
                        }
                        guard b[i] == UInt8(ascii: ",") else { return nil }
                        i += 1
                    }
                }
            default:
                while i < b.count, b[i] != UInt8(ascii: ","), b[i] != UInt8(ascii: "}"), b[i] != UInt8(ascii: "]"),
                    b[i] != 0x20, b[i] != 0x09
                {
                    i += 1
                }
                let literal = LineText.string(b, start..<i)
                guard literal == "true" || literal == "false" || literal == "null" || Double(literal) != nil
                else { return nil }
                return Value(text: literal == "null" ? "" : literal, isString: false)
            }
            return Value(text: LineText.string(b, start..<i), isString: false)
        }

        mutating func string() -> String? {
            guard i < b.count, b[i] == UInt8(ascii: "\"") else { return nil }
            i += 1
            let start = i
            while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\") { i += 1 }
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: "\"") {
                i += 1
                return LineText.string(b, start..<(i - 1))
            }
            var out = Array(UnsafeBufferPointer(rebasing: b[start..<i]))
            while i < b.count {
                let c = b[i]
                if c == UInt8(ascii: "\"") {
                    i += 1
                    return String(decoding: out, as: UTF8.self)
                }
                if c != UInt8(ascii: "\\") {
                    out.append(c)
                    i += 1
                    continue
                }
                guard i + 1 < b.count else { return nil }
                let e = b[i + 1]
                i += 2
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    guard var scalar = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(scalar), i + 1 < b.count, b[i] == UInt8(ascii: "\\"),
                        b[i + 1] == UInt8(ascii: "u")
                    {
                        i += 2
                        guard let low = hex4(), (0xDC00..<0xE000).contains(low) else { return nil }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    out.append(contentsOf: String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8)
                default: return nil
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard i + 4 <= b.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = Character(Unicode.Scalar(b[i])).hexDigitValue else { return nil }
                value = value << 4 | UInt32(digit)
                i += 1
            }
            return value
        }
    }
}
