import DNSMessage

/// A query's name as the engine keeps it while the query is outstanding: its wire bytes inline
/// when they fit in `inlineCapacity` bytes (most names), so an outstanding query does not keep an
/// allocation of its own for the name (RSS per outstanding query, DESIGN.md "Targets"); a longer
/// name keeps its `DNSName`. A `DNSName` is only built again when someone reads `name`.
enum QueryName: Sendable {
    /// Wire bytes of at most `inlineCapacity` bytes, stored in place.
    case inline(InlineWire)
    /// A longer name (or a search-list candidate, which is already shared).
    case shared(DNSName)

    /// Names up to this many wire bytes are stored inline.
    static let inlineCapacity = 32

    /// Up to 32 wire bytes in four words, and how many of them are used.
    struct InlineWire: Sendable {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        var count: UInt8 = 0

        /// Writes a one-question query for this name at `base`, which has `inlineMessageCapacity`
        /// bytes: the bytes `DNSQueryBuilder.write` writes, by whole-word stores instead of a byte
        /// count copy (the engine writes every attempt's message this way). Returns the length.
        func writeQuery(into base: UnsafeMutableRawPointer, id: UInt16, type: DNSType, class recordClass: DNSClass,
                        recursionDesired: Bool, edns: DNSQueryBuilder.EDNS?) -> Int {
            // Header: id, flags (RD or none), QDCOUNT 1, ANCOUNT 0 | NSCOUNT 0, ARCOUNT 1 with an OPT.
            let flags: UInt64 = recursionDesired ? 0x0100 : 0
            let head = UInt64(id) << 48 | flags << 32 | 1 << 16
            base.storeBytes(of: head.bigEndian, as: UInt64.self)
            base.storeBytes(of: UInt32(edns == nil ? 0 : 1).bigEndian, toByteOffset: 8, as: UInt32.self)
            base.storeBytes(of: words, toByteOffset: 12, as: (UInt64, UInt64, UInt64, UInt64).self)
            var offset = 12 + Int(count)
            base.storeBytes(of: (UInt32(type.rawValue) << 16 | UInt32(recordClass.rawValue)).bigEndian,
                            toByteOffset: offset, as: UInt32.self)
            offset += 4
            guard let edns else { return offset }
            // OPT: root name, TYPE 41, CLASS = payload size, TTL = extended rcode 0, version 0 and the
            // DO flag; RDLENGTH 0. Eight bytes, then the last four (rewriting the eighth).
            let opt = UInt64(41) << 40 | UInt64(edns.udpPayloadSize) << 24
            base.storeBytes(of: opt.bigEndian, toByteOffset: offset, as: UInt64.self)
            let tail: UInt32 = edns.dnssecOK ? 0x8000_0000 : 0  // DO is the top bit of the flags
            base.storeBytes(of: tail.bigEndian, toByteOffset: offset + 7, as: UInt32.self)
            return offset + 11
        }
    }

    /// The buffer a query with an inline name is written into needs this many bytes: the header, all
    /// 32 name bytes (stored whole, then overwritten past the name), type, class and an OPT record.
    static let inlineMessageCapacity = 12 + inlineCapacity + 4 + 11

    /// Keeps `name` inline when it fits, else shares its storage.
    init(_ name: borrowing DNSName) {
        let count = name.wire.count
        guard count <= Self.inlineCapacity else {
            self = .shared(copy name)
            return
        }
        var inline = InlineWire()
        inline.count = UInt8(count)
        withUnsafeMutableBytes(of: &inline.words) { words in
            name.wire.withUnsafeBytes { words.copyMemory(from: $0) }
        }
        self = .inline(inline)
    }

    /// Runs `body` over the uncompressed wire bytes (ending with the root label); no allocation.
    func withWire<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        switch self {
        case .inline(var inline):
            let count = Int(inline.count)
            return try withUnsafeBytes(of: &inline.words) { (words) throws(E) in
                try body(UnsafeRawBufferPointer(rebasing: words[..<count]))
            }
        case .shared(let name):
            // Array's `withUnsafeBytes` rethrows untyped errors: the typed one travels in a Result.
            return try name.wire.withUnsafeBytes { wire in Result { () throws(E) in try body(wire) } }.get()
        }
    }

    /// The number of wire bytes.
    var wireCount: Int {
        switch self {
        case .inline(let inline): Int(inline.count)
        case .shared(let name): name.wire.count
        }
    }

    /// The name as a `DNSName` (allocates for an inline name).
    var name: DNSName {
        switch self {
        case .inline:
            withWire { DNSName(wire: Array($0))! }  // copied from a valid DNSName: cannot fail
        case .shared(let name):
            name
        }
    }
}
