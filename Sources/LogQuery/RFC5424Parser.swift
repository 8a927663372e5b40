/// RFC 5424 (IETF syslog) lines: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]`.
enum RFC5424Parser {
    /// Where the header parts are (byte offsets into the line); `nil` ranges are NILVALUE `-`.
    struct Fields {
        var priority: Int
        var timestamp: LogTime?
        var host: Range<Int>?
        var app: Range<Int>?
        var procid: Range<Int>?
        var msgid: Range<Int>?
        var structuredData: Range<Int>?
        var messageStart: Int
    }

    /// Locates the header and the extent of the structured data; `nil` when the line is not RFC 5424.
    static func locate(_ b: UnsafeBufferPointer<UInt8>) -> Fields? {
        guard let (priority, afterPri) = SyslogPriority.parse(b) else { return nil }
        let n = b.count
        var i = afterPri
        guard i + 1 < n, b[i] == UInt8(ascii: "1"), b[i + 1] == UInt8(ascii: " ") else { return nil }
        i += 2
        func field() -> Range<Int>?? {
            let start = i
            while i < n, b[i] != UInt8(ascii: " ") { i += 1 }
            guard i > start else { return nil }
            let range = start..<i
            if i < n { i += 1 }
            return .some(range.count == 1 && b[start] == UInt8(ascii: "-") ? nil : range)
        }
        guard let time = field(), let host = field(), let app = field(), let procid = field(), let msgid = field()
        else { return nil }
        var timestamp: LogTime?
        if let time {
            timestamp = LogTime.parseRFC3339(UnsafeBufferPointer(rebasing: b[time]), defaultUTCOffsetSeconds: 0)
            guard timestamp != nil else { return nil }
        }
        var sd: Range<Int>?
        guard i < n else {
            return Fields(
                priority: priority, timestamp: timestamp, host: host, app: app, procid: procid, msgid: msgid,
                messageStart: n)
        }
        if b[i] == UInt8(ascii: "-") {
            i += 1
        } else if b[i] == UInt8(ascii: "[") {
            let start = i
            while i < n, b[i] == UInt8(ascii: "[") {
                // Skip one SD-ELEMENT, honouring escapes inside quoted values.
                var inQuotes = false
                i += 1
                while i < n {
                    let c = b[i]
                    if inQuotes {
                        if c == UInt8(ascii: "\\") { i += 1 } else if c == UInt8(ascii: "\"") { inQuotes = false }
                    } else if c == UInt8(ascii: "\"") {
                        inQuotes = true
                    } else if c == UInt8(ascii: "]") {
                        break
                    }
                    i += 1
                }
                guard i < n else { return nil }
                i += 1
            }
            sd = start..<i
        } else {
            return nil
        }
        if i < n {
            guard b[i] == UInt8(ascii: " ") else { return nil }
            i += 1
        }
        // A UTF-8 BOM may lead the message.
        if i + 3 <= n, b[i] == 0xEF, b[i + 1] == 0xBB, b[i + 2] == 0xBF { i += 3 }
        return Fields(
            priority: priority, timestamp: timestamp, host: host, app: app, procid: procid, msgid: msgid,
            structuredData: sd, messageStart: i)
    }

    /// Builds the record of a located line; `nil` when the structured data is malformed.
    static func record(_ b: UnsafeBufferPointer<UInt8>, _ f: Fields) -> LogRecord? {
        var elements: [StructuredDataElement] = []
        if let sd = f.structuredData {
            guard let parsed = structuredData(UnsafeBufferPointer(rebasing: b[sd])) else { return nil }
            elements = parsed
        }
        let procid = f.procid.map { LineText.string(b, $0) }
        return LogRecord(
            timestamp: f.timestamp, host: f.host.map { LineText.string(b, $0) },
            app: f.app.map { LineText.string(b, $0) },
            pid: procid.flatMap { Int($0) }, msgid: f.msgid.map { LineText.string(b, $0) },
            severity: LogSeverity(rawValue: f.priority & 7), facility: f.priority >> 3, structuredData: elements,
            extraFields: procid.flatMap { Int($0) == nil ? [(name: "procid", value: $0)] : nil } ?? [],
            message: LineText.string(b, f.messageStart..<b.count))
    }

    /// Parses `[id name="value" ...][id2 ...]`, unescaping `\"`, `\\` and `\]` in values.
    static func structuredData(_ b: UnsafeBufferPointer<UInt8>) -> [StructuredDataElement]? {
        var elements: [StructuredDataElement] = []
        var i = 0
        let n = b.count
        func name() -> String? {
            let start = i
            while i < n, b[i] != UInt8(ascii: " "), b[i] != UInt8(ascii: "="), b[i] != UInt8(ascii: "]"),
                b[i] != UInt8(ascii: "\"")
            {
                i += 1
            }
            return i > start ? LineText.string(b, start..<i) : nil
        }
        while i < n {
            guard b[i] == UInt8(ascii: "[") else { return nil }
            i += 1
            guard let id = name() else { return nil }
            var parameters: [StructuredDataElement.Parameter] = []
            while i < n, b[i] == UInt8(ascii: " ") {
                i += 1
                guard let key = name(), i + 1 < n, b[i] == UInt8(ascii: "="), b[i + 1] == UInt8(ascii: "\"")
                else { return nil }
                i += 2
                var value: [UInt8] = []
                while i < n, b[i] != UInt8(ascii: "\"") {
                    if b[i] == UInt8(ascii: "\\"), i + 1 < n,
                        b[i + 1] == UInt8(ascii: "\"") || b[i + 1] == UInt8(ascii: "\\")
                            || b[i + 1] == UInt8(ascii: "]")
                    {
                        i += 1
                    }
                    value.append(b[i])
                    i += 1
                }
                guard i < n else { return nil }
                i += 1
                parameters.append(.init(name: key, value: String(decoding: value, as: UTF8.self)))
            }
            guard i < n, b[i] == UInt8(ascii: "]") else { return nil }
            i += 1
            elements.append(StructuredDataElement(id: id, parameters: parameters))
        }
        return elements
    }
}
