import DNSMessage

/// What the responder answers from, built once before the threads start and read-only after:
/// zone records grouped into RRsets by (name, type), each RRset's answer bytes prebuilt (every
/// owner is the question's name, so each record starts with the pointer `C0 0C`), the zones with
/// their SOA for negative answers, and the synthesis suffix. Lookups hash the question's name as
/// it lies in the packet, case-insensitively, and allocate nothing.
///
/// Wildcards (RFC 4592), simplified: a name that does not exist in its zone is answered from
/// `*.<closest encloser>`, the closest encloser being its nearest ancestor that exists (owns
/// records, or is an empty non-terminal: an ancestor of an owner, below the zone's origin). The
/// wildcard's RRset of the asked type, else its CNAME, answers with the question's name as owner
/// (the prebuilt `C0 0C` owner makes that free); a wildcard without either gives NODATA, no
/// wildcard there NXDOMAIN. Delegations (NS below the apex) and DNAME are not treated apart.
final class AnswerBook: Sendable {
    /// One RRset: its owner (lowercased wire), type, and prebuilt answer records.
    struct RRSet: Sendable {
        let name: [UInt8]
        let type: UInt16
        let count: UInt16
        let bytes: [UInt8]
    }

    /// A zone we are authoritative for.
    struct Zone: Sendable {
        let origin: [UInt8]
        /// The SOA record after its owner name (type, class, TTL, length, uncompressed RDATA), for
        /// the authority section of negative answers; nil when the zone has no SOA.
        let soaTail: [UInt8]?
    }

    /// The answer a question gets.
    enum Lookup: Equatable {
        case records(Int)
        case noData(zone: Int?)
        case nxdomain(zone: Int)
        case synthesized
        case refused
    }

    let rrsets: [RRSet]
    let zones: [Zone]
    let suffix: [UInt8]?
    let synthesisTTL: UInt32
    private let rrsetBuckets: [UInt64: [Int32]]
    /// Every name that exists in a zone (owners and empty non-terminals), lowercased wire, by hash.
    private let names: [[UInt8]]
    private let nameBuckets: [UInt64: [Int32]]

    /// Groups `records` (their zones are the owners of their SOA records) and keeps the suffix.
    init(records: [DNSResourceRecord], suffix: DNSName?, synthesisTTL: UInt32) {
        var grouped: [DNSName: [DNSType: [DNSResourceRecord]]] = [:]
        var order: [(DNSName, DNSType)] = []
        for record in records {
            if grouped[record.name]?[record.type] == nil { order.append((record.name, record.type)) }
            grouped[record.name, default: [:]][record.type, default: []].append(record)
        }
        var rrsets: [RRSet] = []
        var rrsetBuckets: [UInt64: [Int32]] = [:]
        var zones: [Zone] = []
        for (name, type) in order {
            let set = grouped[name]![type]!
            var bytes: [UInt8] = []
            for record in set { bytes += [0xC0, 0x0C] + Self.tail(of: record) }
            let wire = name.lowercased.wire
            let hash = wire.withUnsafeBytes { Self.hash($0) }
            rrsetBuckets[hash ^ UInt64(type.rawValue), default: []].append(Int32(rrsets.count))
            rrsets.append(RRSet(name: wire, type: type.rawValue, count: UInt16(clamping: set.count), bytes: bytes))
            if type == .soa { zones.append(Zone(origin: wire, soaTail: Self.tail(of: set[0]))) }
        }
        // Every owner in a zone and its ancestors down to the zone's origin exist.
        var names: [[UInt8]] = []
        var nameBuckets: [UInt64: [Int32]] = [:]
        for rrset in rrsets {
            var offset = 0
            let wire = rrset.name
            while offset < wire.count, wire.withUnsafeBytes({ buffer in
                zones.contains { Self.isWithin(UnsafeRawBufferPointer(rebasing: buffer[offset...]), $0.origin) }
            }) {
                let suffix = Array(wire[offset...])
                let hash = suffix.withUnsafeBytes { Self.hash($0) }
                if nameBuckets[hash]?.contains(where: { names[Int($0)] == suffix }) != true {
                    nameBuckets[hash, default: []].append(Int32(names.count))
                    names.append(suffix)
                }
                offset += Int(wire[offset]) + 1
            }
        }
        self.rrsets = rrsets
        self.zones = zones
        self.rrsetBuckets = rrsetBuckets
        self.names = names
        self.nameBuckets = nameBuckets
        self.suffix = suffix?.lowercased.wire
        self.synthesisTTL = synthesisTTL
    }

    /// A record after its owner: type, class, TTL, RDATA length, uncompressed RDATA.
    private static func tail(of record: DNSResourceRecord) -> [UInt8] {
        let rdata = record.rdataWire
        var bytes: [UInt8] = []
        for value in [record.type.rawValue, record.class.rawValue] { bytes += [UInt8(value >> 8), UInt8(value & 0xFF)] }
        bytes += [UInt8(record.ttl >> 24), UInt8(record.ttl >> 16 & 0xFF), UInt8(record.ttl >> 8 & 0xFF),
                  UInt8(record.ttl & 0xFF)]
        bytes += [UInt8(rdata.count >> 8), UInt8(rdata.count & 0xFF)] + rdata
        return bytes
    }

    /// FNV-1a over the name's wire bytes, ASCII letters folded to lower case; `seed` continues
    /// the hash of bytes before them (`hash(b, seed: hash(a)) == hash(a + b)`).
    static func hash(_ name: UnsafeRawBufferPointer, seed: UInt64 = 0xCBF2_9CE4_8422_2325) -> UInt64 {
        var hash = seed
        for byte in name { hash = (hash ^ UInt64(lower(byte))) &* 0x100_0000_01B3 }
        return hash
    }

    /// The wire label `*`, which starts a wildcard's owner name.
    private static let asteriskLabel: [UInt8] = [1, 0x2A]
    private static let asteriskHash = asteriskLabel.withUnsafeBytes { hash($0) }

    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 { byte &- 0x41 < 26 ? byte | 0x20 : byte }

    /// Whether `name` (packet bytes) equals `wire` (lowercased) ignoring ASCII case.
    static func equal(_ name: UnsafeRawBufferPointer, _ wire: [UInt8]) -> Bool {
        guard name.count == wire.count else { return false }
        for index in 0..<wire.count where lower(name[index]) != wire[index] { return false }
        return true
    }

    /// Whether `name` is `origin` or below it (label-aligned, ignoring case).
    static func isWithin(_ name: UnsafeRawBufferPointer, _ origin: [UInt8]) -> Bool {
        var offset = 0
        while offset < name.count {
            if name.count - offset == origin.count {
                return equal(UnsafeRawBufferPointer(rebasing: name[offset...]), origin)
            }
            let length = Int(name[offset])
            if length == 0 { return false }
            offset += length + 1
        }
        return false
    }

    /// The answer for `name` (uncompressed wire as it lies in the packet) and `type`.
    func lookup(_ name: UnsafeRawBufferPointer, type: UInt16) -> Lookup {
        var zone: Int?
        for (index, candidate) in zones.enumerated() where Self.isWithin(name, candidate.origin) {
            if zone.map({ zones[$0].origin.count < candidate.origin.count }) ?? true { zone = index }
        }
        if let zone {
            let hash = Self.hash(name)
            if let found = find(hash ^ UInt64(type), name, type: type) { return .records(found) }
            let cname = DNSType.cname.rawValue
            if type != cname, let found = find(hash ^ UInt64(cname), name, type: cname) { return .records(found) }
            if exists(hash, name) { return .noData(zone: zone) }
            return wildcard(below: name, zone: zone, type: type)
        }
        if let suffix, Self.isWithin(name, suffix) {
            let synthesizable = type == DNSType.a.rawValue || type == DNSType.aaaa.rawValue
                || type == DNSType.txt.rawValue
            return synthesizable && name.count > suffix.count ? .synthesized : .noData(zone: nil)
        }
        return .refused
    }

    private func find(_ key: UInt64, _ name: UnsafeRawBufferPointer, type: UInt16) -> Int? {
        guard let bucket = rrsetBuckets[key] else { return nil }
        for index in bucket where rrsets[Int(index)].type == type && Self.equal(name, rrsets[Int(index)].name) {
            return Int(index)
        }
        return nil
    }

    /// The RRset of `type` owned by `*.` + `parent`, whose hash is `key`.
    private func findWildcard(_ key: UInt64, below parent: UnsafeRawBufferPointer, type: UInt16) -> Int? {
        guard let bucket = rrsetBuckets[key] else { return nil }
        for index in bucket where rrsets[Int(index)].type == type
            && Self.isWildcard(rrsets[Int(index)].name, over: parent) {
            return Int(index)
        }
        return nil
    }

    /// Whether `wire` is `*.` followed by `parent` (ignoring case).
    private static func isWildcard(_ wire: [UInt8], over parent: UnsafeRawBufferPointer) -> Bool {
        guard wire.count == parent.count + 2, wire[0] == 1, wire[1] == 0x2A else { return false }
        for index in 0..<parent.count where lower(parent[index]) != wire[index + 2] { return false }
        return true
    }

    /// Whether `name` (hashed to `hash`) exists in a zone: it owns records or is an empty non-terminal.
    private func exists(_ hash: UInt64, _ name: UnsafeRawBufferPointer) -> Bool {
        nameBuckets[hash]?.contains { Self.equal(name, names[Int($0)]) } ?? false
    }

    /// The answer for a `name` that does not exist in zone `zone`: from the wildcard at its closest
    /// encloser (RFC 4592 section 3.3.1, simplified as the type's doc comment says).
    private func wildcard(below name: UnsafeRawBufferPointer, zone: Int, type: UInt16) -> Lookup {
        let originCount = zones[zone].origin.count
        var offset = Int(name[0]) + 1
        while name.count - offset >= originCount {
            let encloser = UnsafeRawBufferPointer(rebasing: name[offset...])
            if exists(Self.hash(encloser), encloser) {
                let source = Self.hash(encloser, seed: Self.asteriskHash)
                if let found = findWildcard(source ^ UInt64(type), below: encloser, type: type) {
                    return .records(found)
                }
                let cname = DNSType.cname.rawValue
                if type != cname, let found = findWildcard(source ^ UInt64(cname), below: encloser, type: cname) {
                    return .records(found)
                }
                let wildcardExists = nameBuckets[source]?.contains { Self.isWildcard(names[Int($0)], over: encloser) }
                return wildcardExists == true ? .noData(zone: zone) : .nxdomain(zone: zone)
            }
            offset += Int(name[offset]) + 1
        }
        return .nxdomain(zone: zone)
    }
}
