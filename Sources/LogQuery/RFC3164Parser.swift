/// RFC 3164 (BSD syslog) lines as rsyslog and syslog-ng write them to files.
enum RFC3164Parser {
    /// Where the parts of a line are, found without allocating (byte offsets into the line).
    struct Fields {
        var priority: Int?
        var timestamp: LogTime?
        var host: Range<Int>?
        var app: Range<Int>?
        var pid: Int?
        var messageStart: Int
    }

    /// Locates the header; `nil` when the line is not RFC 3164 (no recognisable timestamp).
    /// With `computeTime` false the timestamp is checked exactly as when computed (so the same
    /// lines are accepted) but left `nil`.
    static func locate(_ b: UnsafeBufferPointer<UInt8>, options: LogParseOptions, computeTime: Bool = true) -> Fields? {
        var i = 0
        let n = b.count
        var priority: Int?
        if n > 0, b[0] == UInt8(ascii: "<") {
            guard let (value, end) = SyslogPriority.parse(b) else { return nil }
            priority = value
            i = end
        }
        var timestamp: LogTime?
        if i + 15 <= n, b[i + 3] == UInt8(ascii: " "), let month = month(b, at: i) {
            // "Mmm dd hh:mm:ss" (day space-padded)
            let d1 = b[i + 4] == UInt8(ascii: " ") ? 0 : Int(b[i + 4]) &- 48
            let d2 = Int(b[i + 5]) &- 48
            guard (0...9).contains(d1), (0...9).contains(d2), b[i + 6] == UInt8(ascii: " "),
                let hh = twoDigits(b, i + 7), b[i + 9] == UInt8(ascii: ":"), let mm = twoDigits(b, i + 10),
                b[i + 12] == UInt8(ascii: ":"), let ss = twoDigits(b, i + 13)
            else { return nil }
            let day = d1 * 10 + d2
            if computeTime {
                timestamp = options.localTime(
                    year: options.year(forMonth: month), month: month, day: day, hour: hh, minute: mm, second: ss)
                guard timestamp != nil else { return nil }
            } else {
                // The same days as `LogTime` accepts; the year matters (and is asked) only for 29 February.
                let year = month == 2 && day == 29 ? options.year(forMonth: month) : 2000
                guard (1...LogTime.daysInMonth(year: year, month: month)).contains(day), hh <= 23, mm <= 59, ss <= 60
                else { return nil }
            }
            i += 15
        } else if i + 19 <= n, b[i + 4] == UInt8(ascii: "-"), b[i + 10] == UInt8(ascii: "T") {
            // rsyslog's high-precision file format: an RFC 3339 timestamp.
            var end = i
            while end < n, b[end] != UInt8(ascii: " ") { end += 1 }
            timestamp = LogTime.parseRFC3339(
                UnsafeBufferPointer(rebasing: b[i..<end]),
                defaultUTCOffsetSeconds: options.defaultUTCOffsetSeconds)
            guard timestamp != nil else { return nil }
            if !computeTime { timestamp = nil }
            i = end
        } else {
            return nil
        }
        guard i < n, b[i] == UInt8(ascii: " ") else {
            return i == n ? Fields(priority: priority, timestamp: timestamp, messageStart: n) : nil
        }
        i += 1
        // HOSTNAME
        let hostStart = i
        while i < n, b[i] != UInt8(ascii: " ") { i += 1 }
        let host = hostStart..<i
        if i < n { i += 1 }
        let (app, pid, messageStart) = tag(b, from: i)
        return Fields(
            priority: priority, timestamp: timestamp, host: host, app: app, pid: pid, messageStart: messageStart)
    }

    /// Builds the record of a located line.
    static func record(_ b: UnsafeBufferPointer<UInt8>, _ f: Fields) -> LogRecord {
        LogRecord(
            timestamp: f.timestamp, host: f.host.map { LineText.string(b, $0) },
            app: f.app.map { LineText.string(b, $0) },
            pid: f.pid, severity: f.priority.flatMap { LogSeverity(rawValue: $0 & 7) },
            facility: f.priority.map { $0 >> 3 },
            message: LineText.string(b, f.messageStart..<b.count))
    }

    /// The month names back to back, read in place (no array to reach per line).
    private static let monthNames: StaticString = "JanFebMarAprMayJunJulAugSepOctNovDec"

    private static func month(_ b: UnsafeBufferPointer<UInt8>, at i: Int) -> Int? {
        let names = monthNames.utf8Start
        for m in 0..<12 where names[3 * m] == b[i] && names[3 * m + 1] == b[i + 1] && names[3 * m + 2] == b[i + 2] {
            return m + 1
        }
        return nil
    }

    private static func twoDigits(_ b: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int? {
        let a = Int(b[i]) &- 48
        let c = Int(b[i + 1]) &- 48
        guard (0...9).contains(a), (0...9).contains(c) else { return nil }
        return a * 10 + c
    }
}
