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

    /// Makes options; every parameter has the documented default.
    public init(
        format: LogFormat = .auto, referenceTime: LogTime? = nil,
        yearForMonth: (@Sendable (_ month: Int) -> Int)? = nil, defaultUTCOffsetSeconds: Int = 0
    ) {
        self.format = format
        self.referenceTime = referenceTime
        self.yearForMonth = yearForMonth
        self.defaultUTCOffsetSeconds = defaultUTCOffsetSeconds
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
