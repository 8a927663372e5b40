extension LogTime: CustomStringConvertible {
    /// RFC 3339 in UTC, with the fraction only when there is one: `2026-11-23T07:00:00Z`,
    /// `2026-11-23T07:00:00.250Z` (trailing zeros of the nanoseconds dropped).
    public var description: String { rfc3339() }

    /// RFC 3339 at a UTC offset (seconds east; 0 prints `Z`): `2026-11-23T08:00:00+01:00`. Reading
    /// it back with `init?(rfc3339:)` gives the same instant. An offset beyond ±24 hours, or one that
    /// would take the instant past what 64-bit nanoseconds hold, prints in UTC.
    public func rfc3339(utcOffsetSeconds: Int = 0) -> String {
        guard abs(utcOffsetSeconds) < 86_400 else { return rfc3339() }
        let (local, overflow) = nanosecondsSinceEpoch.addingReportingOverflow(Int64(utcOffsetSeconds) * 1_000_000_000)
        if overflow { return rfc3339() }
        let seconds = Int(local.dividedRoundingDown(by: 1_000_000_000))
        let nanos = Int(local - Int64(seconds) * 1_000_000_000)
        let (year, month, day) = Self.civilFromDays(seconds.dividedRoundingDown(by: 86_400))
        let ofDay = seconds - seconds.dividedRoundingDown(by: 86_400) * 86_400
        func pad(_ n: Int, _ width: Int) -> String {
            let text = String(n)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        var text = "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T"
            + "\(pad(ofDay / 3600, 2)):\(pad(ofDay / 60 % 60, 2)):\(pad(ofDay % 60, 2))"
        if nanos != 0 {
            var fraction = pad(nanos, 9)
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        if utcOffsetSeconds == 0 { return text + "Z" }
        let east = abs(utcOffsetSeconds)
        return text + (utcOffsetSeconds < 0 ? "-" : "+") + "\(pad(east / 3600, 2)):\(pad(east / 60 % 60, 2))"
    }
}
