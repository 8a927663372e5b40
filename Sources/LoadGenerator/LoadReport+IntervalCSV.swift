extension LoadReport {
    /// The response codes that always have a column in `intervalCSV`, in this order; any other
    /// code seen in the run gets one after them.
    static let csvRcodes = ["NOERROR", "NXDOMAIN", "SERVFAIL", "REFUSED", "FORMERR", "NOTIMP"]

    /// The intervals as CSV (`--interval-csv`), one row each with a header row, for spreadsheets and
    /// plotting tools: `time_s` (the interval's end), `seconds`, `sent`, `lost`, `responses`, one
    /// column per response code, `nodata`, `timeouts`, `cancels`, `errors`, `p50_us`, `p99_us`,
    /// `outstanding`, `client_lag_ms`. Every row has the same columns.
    public var intervalCSV: String {
        let seen = Set(intervals.flatMap(\.rcodes.keys)).subtracting(Self.csvRcodes)
        let codes = Self.csvRcodes + seen.sorted { (Int($0) ?? -1, $0) < (Int($1) ?? -1, $1) }
        var lines = [(["time_s", "seconds", "sent", "lost", "responses"] + codes
            + ["nodata", "timeouts", "cancels", "errors", "p50_us", "p99_us", "outstanding", "client_lag_ms"])
            .joined(separator: ",")]
        for row in intervals {
            let fields = [format1(row.time, 3), format1(row.seconds, 3), "\(row.sent)", "\(row.lost)", "\(row.responses)"]
                + codes.map { "\(row.rcodes[$0] ?? 0)" }
                + ["\(row.nodata)", "\(row.timeouts)", "\(row.cancels)", "\(row.errors)", format1(row.p50Us, 1),
                   format1(row.p99Us, 1), "\(row.outstanding)", format1(row.clientLagMs, 3)]
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
