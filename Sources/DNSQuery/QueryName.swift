import DNSMessage

/// A query's name as the engine keeps it while the query is outstanding: its wire bytes inline
/// when they fit in `inlineCapacity` bytes (most names), so an outstanding query does not keep an
/// allocation of its own for the name (RSS per outstanding query, docs/performance.md "Targets"); a longer
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
    }

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
