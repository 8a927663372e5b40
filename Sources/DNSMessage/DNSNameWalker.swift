/// Walks the labels of a possibly compressed name in a packet, checking every rule as it goes:
/// every read in bounds, label types 00 and 11 only, pointers strictly backwards (each one before the
/// previous one and never into the header), at most `maxPointers` hops, at most 255 bytes in wire form.
///
/// It allocates nothing; the view, the full parser and the question matcher all read names through it.
struct DNSNameWalker {
    /// More hops than a 255-byte name could ever need (127 one-character labels).
    static let maxPointers = 127

    let bytes: UnsafeRawBufferPointer
    /// The next length byte to read.
    private(set) var position: Int
    /// Reads of the in-place part (before any pointer) must stay below this.
    private let limit: Int
    /// Offset just after the name where it sits (after its terminal zero or its first pointer); -1 until known.
    private(set) var endInPlace = -1
    private var lowestTarget: Int
    private var hops = 0
    /// Wire length so far, counting the terminal zero once it is reached.
    private(set) var wireLength = 0

    init(_ bytes: UnsafeRawBufferPointer, at start: Int, limit: Int) {
        self.bytes = bytes
        self.position = start
        self.limit = min(limit, bytes.count)
        self.lowestTarget = start
    }

    /// The next label as (offset of its first byte, length), or nil after the root label.
    @inline(__always)
    mutating func next() throws(DNSParseError) -> (start: Int, count: Int)? {
        while true {
            let cap = endInPlace < 0 ? limit : bytes.count
            guard position < cap else { throw DNSParseError(.truncated, at: position) }
            let length = Int(bytes[position])
            switch length & 0xC0 {
            case 0:
                if length == 0 {
                    wireLength += 1
                    if endInPlace < 0 { endInPlace = position + 1 }
                    return nil
                }
                let start = position + 1
                guard start + length <= cap else { throw DNSParseError(.truncated, at: position) }
                wireLength += length + 1
                guard wireLength < 255 else { throw DNSParseError(.nameTooLong, at: position) }
                position = start + length
                return (start, length)
            case 0xC0:
                guard position + 1 < cap else { throw DNSParseError(.truncated, at: position) }
                let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                guard target < lowestTarget, target >= 12 else { throw DNSParseError(.badPointer, at: position) }
                hops += 1
                guard hops <= Self.maxPointers else { throw DNSParseError(.tooManyPointers, at: position) }
                if endInPlace < 0 { endInPlace = position + 2 }
                lowestTarget = target
                position = target
            default:
                throw DNSParseError(.badLabelType, at: position)
            }
        }
    }

    /// Walks to the end of the name and returns the offset just after it in place.
    @inline(__always)
    mutating func skip() throws(DNSParseError) -> Int {
        while try next() != nil {}
        return endInPlace
    }
}
