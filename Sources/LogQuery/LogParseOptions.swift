/// How lines are turned into records: the format and the facts a line may lack (year, zone).
public struct LogParseOptions: Sendable {
    /// The file's format; `.auto` is resolved per file by the scanner from its first lines.
    public var format: LogFormat
    /// The instant the log was last written (the file's mtime); RFC 3164 years are inferred from it:
    /// a month later than this one's month belongs to the previous year (the New Year roll-back).
    /// `nil` means "now".
    public var referenceTime: LogTime?
    /// Overrides the year inference: given the record's month (1…12), returns its year.
    public var yearForMonth: (@Sendable (_ month: Int) -> Int)?
    /// UTC offset, in seconds east, assumed for timestamps without a zone (RFC 3164); default UTC.
    public var defaultUTCOffsetSeconds: Int
    /// A time zone with daylight saving for RFC 3164 times: given an instant, its UTC offset then
    /// (Foundation's `TimeZone.secondsFromGMT(for:)`). When set it replaces
    /// `defaultUTCOffsetSeconds`, so a log that crosses a change of offset reads right on both sides.
    public var utcOffsetAt: (@Sendable (_ instant: LogTime) -> Int)?

    /// Makes options; every parameter has the documented default.
    public init(
        format: LogFormat = .auto, referenceTime: LogTime? = nil,
        yearForMonth: (@Sendable (_ month: Int) -> Int)? = nil, defaultUTCOffsetSeconds: Int = 0,
        utcOffsetAt: (@Sendable (_ instant: LogTime) -> Int)? = nil
    ) {
        self.format = format
        self.referenceTime = referenceTime
        self.yearForMonth = yearForMonth
        self.defaultUTCOffsetSeconds = defaultUTCOffsetSeconds
        self.utcOffsetAt = utcOffsetAt
    }

    /// The instant of a local civil time (an RFC 3164 timestamp): at `defaultUTCOffsetSeconds`, or
    /// at the offset `utcOffsetAt` gives (asked twice: at the time read as UTC, then at the instant
    /// that offset gives, which settles it outside the hour a change repeats or skips).
    func localTime(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> LogTime? {
        guard let utcOffsetAt else {
            return LogTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second,
                           utcOffsetSeconds: defaultUTCOffsetSeconds)
        }
        guard let asUTC = LogTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        func shifted(by offset: Int) -> LogTime {
            LogTime(nanosecondsSinceEpoch: asUTC.nanosecondsSinceEpoch - Int64(offset) * 1_000_000_000)
        }
        return shifted(by: utcOffsetAt(shifted(by: utcOffsetAt(asUTC))))
    }

    /// The year of an RFC 3164 record in `month`: the hook's answer, else the reference time's
    /// year, minus one when `month` is after the reference month (December lines in a file last
    /// written in January).
    func year(forMonth month: Int) -> Int {
        if let yearForMonth { return yearForMonth(month) }
        let reference = referenceTime ?? LogTime.now
        let date = reference.utcDate
        return month > date.month ? date.year - 1 : date.year
    }
}
