/// An instant, as nanoseconds since 1970-01-01T00:00:00Z; compared on that number alone.
///
/// Corresponds to the Windows `EvtSystemTimeCreated` value (a FILETIME), at nanosecond resolution.
public struct LogTime: Sendable, Hashable, Comparable, Codable {
    /// Nanoseconds since the Unix epoch, UTC.
    public var nanosecondsSinceEpoch: Int64

    /// Makes an instant from nanoseconds since the epoch.
    public init(nanosecondsSinceEpoch: Int64) { self.nanosecondsSinceEpoch = nanosecondsSinceEpoch }

    /// Makes an instant from a civil date and time at a UTC offset (seconds east of UTC).
    /// Returns `nil` when a field is out of range (month 13, second 61, …) or the instant is outside
    /// 1677-09-21…2262-04-11, what 64-bit nanoseconds since 1970 hold.
    public init?(
        year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int,
        nanosecond: Int = 0, utcOffsetSeconds: Int = 0
    ) {
        guard (1...12).contains(month), (1...Self.daysInMonth(year: year, month: month)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...60).contains(second),
            (0..<1_000_000_000).contains(nanosecond)
        else { return nil }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - utcOffsetSeconds
        // Nanoseconds since 1970 in 64 bits reach 1677-09-21 to 2262-04-11: a date outside is no
        // instant here (it trapped on the overflow; a log line or filter can name year 9999).
        let (scaled, overflowed) = Int64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflowedAgain) = scaled.addingReportingOverflow(Int64(nanosecond))
        guard !overflowed, !overflowedAgain else { return nil }
        nanosecondsSinceEpoch = total
    }

    /// Orders instants by time.
    public static func < (lhs: LogTime, rhs: LogTime) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    /// The UTC civil year, month (1…12) and day of this instant.
    public var utcDate: (year: Int, month: Int, day: Int) {
        let seconds = Int(nanosecondsSinceEpoch.dividedRoundingDown(by: 1_000_000_000))
        return Self.civilFromDays(seconds.dividedRoundingDown(by: 86_400))
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = y.dividedRoundingDown(by: 400)
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The civil date of a day count since 1970-01-01 (inverse of `daysFromCivil`).
    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = z.dividedRoundingDown(by: 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days in a month of the proleptic Gregorian calendar.
    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

extension BinaryInteger {
    /// Floor division (rounds towards negative infinity).
    func dividedRoundingDown(by divisor: Self) -> Self {
        let q = self / divisor
        return (self % divisor != 0 && ((self < 0) != (divisor < 0))) ? q - 1 : q
    }
}
