extension LogTime {
    /// A time as a person gives it on a command line (`--since`, `--until`): RFC 3339
    /// (`2026-12-07T10:00:00Z`, `2026-12-07T11:00:00+01:00`), `now`, or a time relative to `now`:
    /// a sign, a whole number and a unit `s`, `m`, `h`, `d` or `w` (`-1h`, `-30m`, `+2d`).
    /// Returns nil for anything else.
    public init?(argument text: String, now: LogTime = .now) {
        if text == "now" {
            self = now
            return
        }
        if let time = LogTime(rfc3339: text) {
            self = time
            return
        }
        guard let sign = text.first, sign == "-" || sign == "+", let unit = text.last, text.count >= 3,
            let amount = Int64(text.dropFirst().dropLast()), amount >= 0
        else { return nil }
        let seconds: Int64
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3_600
        case "d": seconds = 86_400
        case "w": seconds = 604_800
        default: return nil
        }
        let (product, overflow) = amount.multipliedReportingOverflow(by: seconds * 1_000_000_000)
        guard !overflow else { return nil }
        let (time, past) = sign == "-" ? now.nanosecondsSinceEpoch.subtractingReportingOverflow(product)
            : now.nanosecondsSinceEpoch.addingReportingOverflow(product)
        guard !past else { return nil }
        self.init(nanosecondsSinceEpoch: time)
    }

    /// RFC 3339 in UTC with nanoseconds (`2026-12-07T10:00:00.000000000Z`), as filters read it.
    public var rfc3339: String {
        let (year, month, day) = utcDate
        let seconds = nanosecondsSinceEpoch.dividedRoundingDown(by: 1_000_000_000)
        let nanos = nanosecondsSinceEpoch - seconds * 1_000_000_000
        let ofDay = Int(seconds - seconds.dividedRoundingDown(by: 86_400) * 86_400)
        func pad(_ n: Int, _ width: Int) -> String {
            let digits = String(n)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(ofDay / 3600, 2)):\(pad(ofDay / 60 % 60, 2))"
            + ":\(pad(ofDay % 60, 2)).\(pad(Int(nanos), 9))Z"
    }
}
