/// A domain name, kept in uncompressed wire form with the case exactly as received or written
/// (the query engine relies on it for 0x20), and compared and hashed case-insensitively (ASCII).
///
/// Invariants: labels of 1...63 bytes, a terminal root label, at most 255 bytes in all.
public struct DNSName: Hashable, Sendable {
    /// The uncompressed wire form, ending with the zero root label (`[0]` for the root).
    public private(set) var wire: [UInt8]

    /// The root name `.`.
    public static let root = DNSName(uncheckedWire: [0])

    init(uncheckedWire: [UInt8]) { self.wire = uncheckedWire }

    /// Validates uncompressed wire bytes (labels ≤ 63, total ≤ 255, one terminal zero at the end).
    /// - Returns: nil if the bytes are not exactly one well-formed name.
    public init?(wire: [UInt8]) {
        var index = 0
        while index < wire.count {
            let length = Int(wire[index])
            if length == 0 { break }
            guard length <= 63 else { return nil }
            index += length + 1
        }
        guard index == wire.count - 1, wire.count <= 255 else { return nil }
        self.wire = wire
    }

    /// Builds a name from labels (each 1...63 bytes, total ≤ 255); nil if they break a limit.
    public init?(labels: [[UInt8]]) {
        var bytes: [UInt8] = []
        for label in labels {
            guard (1...63).contains(label.count) else { return nil }
            bytes.append(UInt8(label.count))
            bytes.append(contentsOf: label)
        }
        bytes.append(0)
        guard bytes.count <= 255 else { return nil }
        self.wire = bytes
    }

    /// The labels, root excluded, with their original case.
    public var labels: [ArraySlice<UInt8>] {
        var result: [ArraySlice<UInt8>] = []
        var index = 0
        while wire[index] != 0 {
            let length = Int(wire[index])
            result.append(wire[(index + 1)..<(index + 1 + length)])
            index += length + 1
        }
        return result
    }

    /// The number of labels, root excluded.
    public var labelCount: Int { labels.count }

    /// True for the root name.
    public var isRoot: Bool { wire.count == 1 }

    /// The name with the first label removed; the root stays the root.
    public var parent: DNSName {
        guard !isRoot else { return self }
        return DNSName(uncheckedWire: Array(wire[(Int(wire[0]) + 1)...]))
    }

    /// Appends `suffix` (e.g. an origin) to this name, whose root label is dropped; nil beyond 255 bytes.
    public func appending(_ suffix: DNSName) -> DNSName? {
        let bytes = Array(wire.dropLast()) + suffix.wire
        guard bytes.count <= 255 else { return nil }
        return DNSName(uncheckedWire: bytes)
    }

    /// True if this name equals `other` or lies below it (case-insensitive).
    public func isSubdomain(of other: DNSName) -> Bool {
        var name = self
        while true {
            if name == other { return true }
            if name.isRoot { return false }
            name = name.parent
        }
    }

    /// The same name with ASCII letters lowered.
    public var lowercased: DNSName { DNSName(uncheckedWire: wire.map(DNSName.lower)) }

    @inline(__always)
    static func lower(_ byte: UInt8) -> UInt8 { byte &- 0x41 < 26 ? byte | 0x20 : byte }

    /// Case-insensitive (ASCII) equality, as DNS compares names.
    public static func == (lhs: DNSName, rhs: DNSName) -> Bool {
        guard lhs.wire.count == rhs.wire.count else { return false }
        for index in lhs.wire.indices where lower(lhs.wire[index]) != lower(rhs.wire[index]) { return false }
        return true
    }

    /// Equality that also requires the same case in every byte.
    public func isIdentical(to other: DNSName) -> Bool { wire == other.wire }

    /// Hashes the lowered form, consistent with `==`.
    public func hash(into hasher: inout Hasher) {
        for byte in wire { hasher.combine(DNSName.lower(byte)) }
    }
}
