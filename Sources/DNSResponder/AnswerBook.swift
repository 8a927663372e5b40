import DNSMessage

/// What the responder answers from, built once before the threads start and read-only after:
/// zone records grouped into RRsets by (name, type), each RRset's answer bytes prebuilt (every
/// owner is the question's name, so each record starts with the pointer `C0 0C`), the zones with
/// their SOA for negative answers, and the synthesis suffix. Lookups hash the question's name as
/// it lies in the packet, case-insensitively, and allocate nothing.
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
        var nameBuckets: [UInt64: [Int32]] = [:]
        var zones: [Zone] = []
        for (name, type) in order {
            let set = grouped[name]![type]!
            var bytes: [UInt8] = []
            for record in set { bytes += [0xC0, 0x0C] + Self.tail(of: record) }
            let wire = name.lowercased.wire
            let hash = wire.withUnsafeBytes { Self.hash($0) }
            if nameBuckets[hash]?.contains(where: { rrsets[Int($0)].name == wire }) != true {
                nameBuckets[hash, default: []].append(Int32(rrsets.count))
            }
            rrsetBuckets[hash ^ UInt64(type.rawValue), default: []].append(Int32(rrsets.count))
            rrsets.append(RRSet(name: wire, type: type.rawValue, count: UInt16(clamping: set.count), bytes: bytes))
            if type == .soa { zones.append(Zone(origin: wire, soaTail: Self.tail(of: set[0]))) }
        }
        self.rrsets = rrsets
        self.zones = zones
        self.rrsetBuckets = rrsetBuckets
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

    /// FNV-1a over the name's wire bytes, ASCII letters folded to lower case.
    static func hash(_ name: UnsafeRawBufferPointer) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name { hash = (hash ^ UInt64(lower(byte))) &* 0x100_0000_01B3 }
        return hash
    }

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
            let exists = nameBuckets[hash]?.contains { Self.equal(name, rrsets[Int($0)].name) } ?? false
            return exists ? .noData(zone: zone) : .nxdomain(zone: zone)
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
}
