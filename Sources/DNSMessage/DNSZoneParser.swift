/// Reads zone data in the RFC 1035 master-file format (the subset a responder needs):
/// `$ORIGIN`, `$TTL`, `$INCLUDE`, `@`, relative names, omitted owners (leading blank), TTL and class
/// in either order (each optional), `( … )` across lines, `;` comments, quoted strings with escapes,
/// the record types of `DNSRecordData`, and RFC 3597 `TYPEnnn`/`CLASSnnn`/`\#` for everything else.
/// TTLs may use units (`1h30m`, `2d`, `1w`).
public enum DNSZoneParser {
    /// Reads the file an `$INCLUDE` names: given the name as written and the path of the including
    /// file (nil for the text given to `parse`), returns the file's text and its path, which names
    /// it in errors, resolves its own includes and detects loops. This module does no I/O; the
    /// caller (the responder) reads files.
    public typealias IncludeLoader = (_ name: String, _ from: String?) throws(DNSPresentationError)
        -> (text: String, path: String)

    /// How deep `$INCLUDE`s may nest (a file including a file … ); deeper is an error.
    public static let maxIncludeDepth = 16

    /// Parses a whole zone file.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - origin: the initial origin (until a `$ORIGIN`).
    ///   - defaultTTL: the TTL for records without one, until a `$TTL`; without either, the previous record's TTL.
    ///   - path: the file's path, for errors and for the loader to resolve relative includes against.
    ///   - include: reads `$INCLUDE file [origin]` (RFC 1035 section 5.1): the included records take
    ///     the given origin (else the current one), and the including file's origin comes back after
    ///     it. Without a loader `$INCLUDE` is an error; a file that includes itself, directly or not,
    ///     or nesting beyond `maxIncludeDepth`, is refused.
    /// - Returns: the records in file order, included ones in place.
    /// - Throws: `DNSPresentationError` with the 1-based line of the offending entry; for an error in
    ///   an included file, the line of the `$INCLUDE`, then the file and its own line in the message
    ///   (`line 4: in /z/hosts.inc: line 2: bad IPv4 address`).
    public static func parse(_ text: String, origin: DNSName = .root, defaultTTL: UInt32? = nil,
                             path: String? = nil,
                             include: IncludeLoader? = nil) throws(DNSPresentationError) -> [DNSResourceRecord] {
        var state = State(origin: origin, defaultTTL: defaultTTL)
        try parse(text, path: path, state: &state, chain: path.map { [$0] } ?? [], include: include)
        return state.records
    }

    /// What carries from one entry to the next, through includes.
    private struct State {
        var origin: DNSName
        var defaultTTL: UInt32?
        var lastTTL: UInt32? = nil
        var lastOwner: DNSName? = nil
        var records: [DNSResourceRecord] = []
    }

    private static func parse(_ text: String, path: String?, state: inout State, chain: [String],
                              include: IncludeLoader?) throws(DNSPresentationError) {
        for entry in try ZoneTokenizer.entries(Array(text.utf8)) {
            do throws(DNSPresentationError) {
                let first = entry.tokens[0]
                if !entry.startsWithBlank, !first.quoted, first.text.first == UInt8(ascii: "$") {
                    let directive = first.string.uppercased()
                    if directive == "$INCLUDE" {
                        try includeFile(entry, from: path, state: &state, chain: chain, include: include)
                        continue
                    }
                    guard entry.tokens.count == 2 else { throw DNSPresentationError("\(directive) takes one value") }
                    switch directive {
                    case "$ORIGIN":
                        state.origin = try DNSName(parsing: entry.tokens[1].text, origin: state.origin)
                    case "$TTL":
                        guard let ttl = ttlValue(entry.tokens[1].string) else { throw DNSPresentationError("bad $TTL") }
                        state.defaultTTL = ttl
                    default:
                        throw DNSPresentationError("unsupported directive \(directive)")
                    }
                    continue
                }
                try record(entry, state: &state)
            } catch {
                throw DNSPresentationError(error.message, line: entry.line)
            }
        }
    }

    /// `$INCLUDE file [origin]`.
    private static func includeFile(_ entry: ZoneEntry, from path: String?, state: inout State, chain: [String],
                                    include: IncludeLoader?) throws(DNSPresentationError) {
        guard (2...3).contains(entry.tokens.count) else {
            throw DNSPresentationError("$INCLUDE takes a file name and an optional origin")
        }
        guard let include else { throw DNSPresentationError("$INCLUDE is not available here (zone text without a file)") }
        guard chain.count < maxIncludeDepth else {
            throw DNSPresentationError("$INCLUDE nested deeper than \(maxIncludeDepth) files")
        }
        let name = entry.tokens[1].string
        let loaded = try include(name, path)
        guard !chain.contains(loaded.path) else {
            throw DNSPresentationError("$INCLUDE loop: \((chain + [loaded.path]).joined(separator: " -> "))")
        }
        let saved = state.origin
        if entry.tokens.count == 3 { state.origin = try DNSName(parsing: entry.tokens[2].text, origin: state.origin) }
        do throws(DNSPresentationError) {
            try parse(loaded.text, path: loaded.path, state: &state, chain: chain + [loaded.path], include: include)
        } catch {
            throw DNSPresentationError("in \(loaded.path): \(error)")
        }
        state.origin = saved
    }

    /// One record entry.
    private static func record(_ entry: ZoneEntry, state: inout State) throws(DNSPresentationError) {
        var fields = entry.tokens[...]
        let owner: DNSName
        if entry.startsWithBlank {
            guard let lastOwner = state.lastOwner else { throw DNSPresentationError("no previous owner name") }
            owner = lastOwner
        } else {
            owner = try DNSName(parsing: fields.removeFirst().text, origin: state.origin)
        }
        var ttl: UInt32? = nil
        var rclass: DNSClass? = nil
        var type: DNSType? = nil
        while type == nil, let field = fields.first {
            fields.removeFirst()
            let word = field.string
            if ttl == nil, PresentationText.isDigit(field.text.first ?? 0), let value = ttlValue(word) {
                ttl = value
            } else if rclass == nil, let value = DNSClass(mnemonic: word) {
                rclass = value
            } else if let value = DNSType(mnemonic: word) {
                type = value
            } else {
                throw DNSPresentationError("unknown type or class '\(word)'")
            }
        }
        guard let type else { throw DNSPresentationError("missing type") }
        guard let recordTTL = ttl ?? state.defaultTTL ?? state.lastTTL else { throw DNSPresentationError("no TTL") }
        let data = try DNSRecordData.parse(type: type, fields: Array(fields), origin: state.origin)
        state.records.append(
            DNSResourceRecord(name: owner, type: type, class: rclass ?? .in, ttl: recordTTL, data: data))
        state.lastOwner = owner
        state.lastTTL = recordTTL
    }

    /// A TTL in seconds: digits, or BIND units (`1w2d3h4m5s`); nil if malformed or above 2^32-1.
    public static func ttlValue(_ text: String) -> UInt32? {
        guard !text.isEmpty else { return nil }
        if let plain = UInt32(text) { return plain }
        var total: UInt64 = 0
        var current: UInt64? = nil
        for byte in text.utf8 {
            if PresentationText.isDigit(byte) {
                current = (current ?? 0) * 10 + UInt64(byte - 48)
                guard current! <= UInt64(UInt32.max) else { return nil }
                continue
            }
            let units: [UInt8: UInt64] = [0x73: 1, 0x6D: 60, 0x68: 3600, 0x64: 86400, 0x77: 604_800]
            guard let value = current, let unit = units[DNSName.lower(byte)] else { return nil }
            total += value * unit
            guard total <= UInt64(UInt32.max) else { return nil }
            current = nil
        }
        total += current ?? 0
        return total <= UInt64(UInt32.max) ? UInt32(total) : nil
    }
}

extension DNSResourceRecord {
    /// Parses one master-file line (absolute owner, or relative to `origin`), e.g.
    /// `example.com. 300 IN A 192.0.2.1`.
    /// - Throws: `DNSPresentationError` if it is not exactly one record.
    public init(parsing line: String, origin: DNSName = .root) throws(DNSPresentationError) {
        let records = try DNSZoneParser.parse(line, origin: origin)
        guard records.count == 1 else { throw DNSPresentationError("expected one record, found \(records.count)") }
        self = records[0]
    }
}
