import DNSMessage

/// What a reply said without its records: the header, the full response code and the section
/// counts. Every result carries one; with `DNSQueryOptions.resultDetail = .summary` it is all the
/// result carries (no record is parsed, no array is made), which is what a load generator needs.
/// Windows has no counterpart (`DnsQueryEx` always builds the record list).
public struct DNSReplySummary: Sendable, Equatable {
    /// The reply's header (id, flags, low 4 rcode bits). Read-only: the summary keeps the two wire
    /// words, and a header set here would lose whatever does not fit them (an opcode or rcode above
    /// 15) without a word.
    public var header: DNSHeader { DNSHeader(id: id, flags: flags) }
    // Kept as the two wire words, decoded when read: a result is moved several times on its way to
    // the completion, and a decoded header is ten fields to move each time.
    private var id: UInt16
    private var flags: UInt16
    /// The full response code: the header's 4 bits plus the OPT record's extended 8 bits.
    public var rcode: DNSRcode
    /// Records in the answer section.
    public var answerCount: UInt16
    /// Records in the authority section.
    public var authorityCount: UInt16
    /// Records in the additional section (the OPT record included).
    public var additionalCount: UInt16
    /// The size of the reply in bytes.
    public var size: UInt16
    /// Bytes after the last record the counts announce (0 in a well-formed reply). Such a reply is
    /// accepted, since every record in it parsed and its id, source and question matched, but
    /// flagged here and counted in `DNSQueryCounters.repliesWithTrailingBytes`: the bytes belong to
    /// no section, so nothing reads them (dig warns about them the same way).
    public var trailingBytes: UInt16

    /// Summarises a reply read in place; every record is walked (so a malformed one throws), none is
    /// copied. Never allocates.
    /// - Throws: `DNSParseError` if a record is malformed.
    init(_ reply: DNSMessageView) throws(DNSParseError) {
        let (extended, end) = try reply.checkRecordsToEnd()
        let upper = UInt16(extended)
        id = reply.id
        flags = reply.flags
        rcode = DNSRcode(rawValue: upper << 4 | UInt16(reply.rcodeLow))
        answerCount = UInt16(reply.answerCount)
        authorityCount = UInt16(reply.authorityCount)
        additionalCount = UInt16(reply.additionalCount)
        size = UInt16(clamping: reply.bytes.count)
        trailingBytes = UInt16(clamping: reply.bytes.count - end)
    }
}

/// How much of a reply a result carries (see `DNSQueryOptions.resultDetail`).
public enum DNSResultDetail: Sendable, Equatable {
    /// The whole reply parsed into a `DNSMessage` (records in every section): several allocations.
    case full
    /// Only `DNSReplySummary` (header, rcode, counts); `DNSQueryResult.message` is nil. A round trip
    /// then allocates only the query's own operation (Benchmarks/DNSQueryBenchmarks). The reply's
    /// structure is still checked (every name and record length; a malformed reply is refused as in
    /// `.full`), but record data is not decoded, so an A record of the wrong length passes.
    case summary
}
