import DNSMessage

/// One query of a workload: a name, a record type (the type's mnemonic or `TYPEnnn`) and the
/// query flags of its own (added to the run's).
public struct WorkloadQuery: Sendable, Equatable {
    public var name: String
    public var type: String
    public var flags: QueryFlags

    /// Makes a query entry.
    public init(name: String, type: String, flags: QueryFlags = .init()) {
        self.name = name
        self.type = type
        self.flags = flags
    }
}

/// How a query is asked: the header and EDNS flags `evq load` and `evq resolve` take
/// (`--dnssec-ok`, `--checking-disabled`, `--edns-size N`, `--no-edns`, `--0x20`), which a datafile
/// line may also carry after its type, spelled the same without the dashes (`dnssec-ok`,
/// `checking-disabled`, `edns-size=4096`, `no-edns`, `0x20`).
///
/// A line's flags add to the run's, and where they disagree about EDNS the line wins: its
/// `no-edns` sends that query without an OPT record, so without the run's EDNS size and without
/// the run's DO bit (DO is a bit of the OPT record); its `dnssec-ok` or `edns-size=N` sends an
/// OPT record despite the run's `--no-edns`. One line with both `dnssec-ok` and `no-edns` is
/// malformed.
public struct QueryFlags: Sendable, Equatable {
    /// DO: ask for DNSSEC records.
    public var dnssecOK = false
    /// CD: ask the resolver not to validate.
    public var checkingDisabled = false
    /// Send no OPT record.
    public var noEDNS = false
    /// The EDNS UDP payload size to advertise; nil: the engine's (1232).
    public var ednsSize: UInt16?
    /// 0x20: randomise the name's case and accept only a reply that repeats it.
    public var randomizeCase = false

    /// No flag: the engine's defaults.
    public init() {}

    /// These flags (the run's) with `other`'s (a datafile line's) added; about EDNS `other` wins:
    /// its no-EDNS drops this EDNS size and DO, its DO or EDNS size brings the OPT record back. The
    /// result never has both `dnssecOK` and `noEDNS`.
    public func adding(_ other: QueryFlags) -> QueryFlags {
        var flags = self
        flags.dnssecOK = dnssecOK || other.dnssecOK
        flags.checkingDisabled = checkingDisabled || other.checkingDisabled
        flags.randomizeCase = randomizeCase || other.randomizeCase
        if other.noEDNS { flags.noEDNS = true; flags.ednsSize = nil; flags.dnssecOK = false }
        if let size = other.ednsSize { flags.ednsSize = size; flags.noEDNS = false }
        if other.dnssecOK { flags.noEDNS = false }
        return flags
    }

    /// Whether a line with `other` drops a flag of these (the run's): DO, or the EDNS size, by its
    /// `no-edns`. `evq load` says how many lines do, so that the rule is never silent.
    public func isNarrowed(by other: QueryFlags) -> Bool {
        other.noEDNS && (dnssecOK || ednsSize != nil)
    }

    /// Reads one datafile flag into these flags; false if the word is not one.
    mutating func read(_ word: Substring) -> Bool {
        switch word.lowercased() {
        case "dnssec-ok": dnssecOK = true
        case "checking-disabled": checkingDisabled = true
        case "no-edns": noEDNS = true; ednsSize = nil
        case "0x20": randomizeCase = true
        case let other where other.hasPrefix("edns-size="):
            guard let size = UInt16(other.dropFirst("edns-size=".count)), size >= 512 else { return false }
            ednsSize = size
            noEDNS = false
        default: return false
        }
        return true
    }
}

/// A dnsperf datafile: one query per line, `name type` (type defaults to A; any IANA type name,
/// `TYPEnnn` or a number, kept as `DNSType`'s name), blank lines and lines starting with `#` or `;`
/// ignored — the format dnsperf reads, so the same file drives both.
public enum Datafile {
    /// A line that is not `name [type]`.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "datafile line \(line): \(reason)" }

        /// An error at a 1-based line (0 for the file as a whole).
        public init(line: Int, reason: String) {
            self.line = line
            self.reason = reason
        }
    }

    /// What to do with a malformed line (`evq load --datafile-errors`).
    public enum ErrorPolicy: String, Sendable, CaseIterable {
        /// Report it with its line number and go on without it.
        case skip
        /// Report it and read no further: the run does not start.
        case stop
    }

    /// A datafile's queries, and the lines skipped under `ErrorPolicy.skip`.
    public struct Parsed: Sendable, Equatable {
        public var queries: [WorkloadQuery]
        public var skipped: [ParseError]
    }

    /// Parses a datafile's text: `name [type] [flag…]` per line (see `QueryFlags` for the flags).
    /// - Parameter errors: `.stop` throws at the first malformed line; `.skip` leaves it out and
    ///   lists it in `skipped`.
    /// - Throws: `ParseError` with the 1-based line number for a malformed line (`.stop`), or if no
    ///   query is found.
    public static func parse(_ text: String, errors: ErrorPolicy = .stop) throws(ParseError) -> Parsed {
        var parsed = Parsed(queries: [], skipped: [])
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            do throws(ParseError) {
                parsed.queries.append(try query(line, number: number + 1))
            } catch {
                guard errors == .skip else { throw error }
                parsed.skipped.append(error)
            }
        }
        guard !parsed.queries.isEmpty else { throw ParseError(line: 0, reason: "no queries in the datafile") }
        return parsed
    }

    private static func query(_ line: Substring, number: Int) throws(ParseError) -> WorkloadQuery {
        let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
        let name = String(fields[0])
        do { _ = try DNSName(parsing: name) } catch {
            throw ParseError(line: number, reason: "invalid name '\(name)': \(error)")
        }
        let word = fields.count >= 2 ? String(fields[1]) : "A"
        guard let type = DNSType(mnemonic: word) ?? UInt16(word).map(DNSType.init(rawValue:)) else {
            throw ParseError(line: number, reason: "unknown type '\(word)' (an IANA type name, TYPEnnn or 0-65535)")
        }
        var flags = QueryFlags()
        for word in fields.dropFirst(2) where !flags.read(word) {
            throw ParseError(line: number, reason: "unknown flag '\(word)' (dnssec-ok, checking-disabled, "
                + "edns-size=N with N 512…65535, no-edns, 0x20)")
        }
        if flags.noEDNS && (flags.dnssecOK || fields.dropFirst(2).contains { $0.lowercased().hasPrefix("edns-size=") }) {
            throw ParseError(line: number, reason: "no-edns with dnssec-ok or edns-size: DO and the size travel in "
                + "the EDNS OPT record that no-edns leaves out")
        }
        return WorkloadQuery(name: name, type: type.description, flags: flags)
    }

    /// `count` synthetic names under `suffix` (`q0.suffix`, `q1.suffix`, …), all type A: what the
    /// embedded responder answers by synthesis.
    public static func synthetic(count: Int, suffix: String) -> [WorkloadQuery] {
        (0..<count).map { WorkloadQuery(name: "q\($0).\(suffix)", type: "A") }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var slice = self
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return slice
    }
}
