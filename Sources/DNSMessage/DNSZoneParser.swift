/// Reads zone data in the RFC 1035 master-file format (the subset a responder needs):
/// `$ORIGIN`, `$TTL`, `@`, relative names, omitted owners (leading blank), TTL and class in either
/// order (each optional), `( … )` across lines, `;` comments, quoted strings with escapes, the record
/// types of `DNSRecordData`, and RFC 3597 `TYPEnnn`/`CLASSnnn`/`\#` for everything else.
/// `$INCLUDE` is rejected. TTLs may use units (`1h30m`, `2d`, `1w`).
public enum DNSZoneParser {
    /// Parses a whole zone file.
    /// - Parameters:
    ///   - text: the file's contents.
    ///   - origin: the initial origin (until a `$ORIGIN`).
    ///   - defaultTTL: the TTL for records without one, until a `$TTL`; without either, the previous record's TTL.
    /// - Returns: the records in file order.
    /// - Throws: `DNSPresentationError` with the 1-based line of the offending entry.
    public static func parse(_ text: String, origin: DNSName = .root,
                             defaultTTL: UInt32? = nil) throws(DNSPresentationError) -> [DNSResourceRecord] {
        var origin = origin
        var defaultTTL = defaultTTL
        var lastTTL: UInt32? = nil
        var lastOwner: DNSName? = nil
        var records: [DNSResourceRecord] = []
        for entry in try ZoneTokenizer.entries(Array(text.utf8)) {
            do throws(DNSPresentationError) {
                let first = entry.tokens[0]
                if !entry.startsWithBlank, !first.quoted, first.text.first == UInt8(ascii: "$") {
                    let directive = first.string.uppercased()
                    guard entry.tokens.count == 2 else { throw DNSPresentationError("\(directive) takes one value") }
                    switch directive {
                    case "$ORIGIN":
                        origin = try DNSName(parsing: entry.tokens[1].text, origin: origin)
                    case "$TTL":
                        guard let ttl = ttlValue(entry.tokens[1].string) else { throw DNSPresentationError("bad $TTL") }
                        defaultTTL = ttl
                    default:
                        throw DNSPresentationError("unsupported directive \(directive)")
                    }
                    continue
                }
                var fields = entry.tokens[...]
                let owner: DNSName
                if entry.startsWithBlank {
                    guard let lastOwner else { throw DNSPresentationError("no previous owner name") }
                    owner = lastOwner
                } else {
                    owner = try DNSName(parsing: fields.removeFirst().text, origin: origin)
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
                guard let recordTTL = ttl ?? defaultTTL ?? lastTTL else { throw DNSPresentationError("no TTL") }
                let data = try DNSRecordData.parse(type: type, fields: Array(fields), origin: origin)
                records.append(
                    DNSResourceRecord(name: owner, type: type, class: rclass ?? .in, ttl: recordTTL, data: data))
                lastOwner = owner
                lastTTL = recordTTL
            } catch {
                throw DNSPresentationError(error.message, line: entry.line)
            }
        }
        return records
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
