/// An IPv6 address as its sixteen bytes (the AAAA record's data).
public struct DNSIPv6Address: Hashable, Sendable, CustomStringConvertible {
    /// The first eight bytes, most significant first.
    public var high: UInt64
    /// The last eight bytes, most significant first.
    public var low: UInt64
    /// Wraps the two halves.
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// The eight 16-bit groups in order.
    public var groups: [UInt16] {
        (0..<8).map { index in
            let half = index < 4 ? high : low
            return UInt16(truncatingIfNeeded: half >> (48 - 16 * UInt64(index % 4)))
        }
    }

    /// Builds an address from eight 16-bit groups; nil for any other count.
    public init?(groups: [UInt16]) {
        guard groups.count == 8 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<4 { high = high << 16 | UInt64(groups[index]) }
        for index in 4..<8 { low = low << 16 | UInt64(groups[index]) }
        self.init(high: high, low: low)
    }

    /// The RFC 5952 form: lowercase hex, the longest run (≥ 2) of zero groups as `::`, and the
    /// IPv4-mapped form `::ffff:192.0.2.1`.
    public var description: String {
        let groups = self.groups
        if high == 0 && low >> 32 == 0xFFFF {
            return "::ffff:" + DNSIPv4Address(UInt32(truncatingIfNeeded: low)).description
        }
        var bestStart = -1
        var bestLength = 1
        var index = 0
        while index < 8 {
            var end = index
            while end < 8 && groups[end] == 0 { end += 1 }
            if end - index > bestLength {
                bestStart = index
                bestLength = end - index
            }
            index = max(end, index + 1)
        }
        func hex(_ range: Range<Int>) -> String {
            range.map { String(groups[$0], radix: 16) }.joined(separator: ":")
        }
        guard bestStart >= 0 else { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    /// Parses RFC 4291 text (with `::` and a trailing dotted quad); nil otherwise.
    public init?(_ text: String) {
        let pieces = splitOnDoubleColon(text)
        guard pieces.count <= 2 else { return nil }
        func parse(_ part: String) -> [UInt16]? {
            guard !part.isEmpty else { return [] }
            var result: [UInt16] = []
            let fields = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, field) in fields.enumerated() {
                if index == fields.count - 1, field.contains("."), let v4 = DNSIPv4Address(String(field)) {
                    result += [UInt16(v4.value >> 16), UInt16(truncatingIfNeeded: v4.value)]
                } else {
                    guard (1...4).contains(field.count), let group = UInt16(field, radix: 16) else { return nil }
                    result.append(group)
                }
            }
            return result
        }
        guard let head = parse(pieces[0]) else { return nil }
        var groups = head
        if pieces.count == 2 {
            guard let tail = parse(pieces[1]), head.count + tail.count < 8 else { return nil }
            groups += Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        }
        guard groups.count == 8 else { return nil }
        self.init(groups: groups)
    }
}

/// Splits `text` at each "::"; a few lines so the address parser needs no Foundation.
private func splitOnDoubleColon(_ text: String) -> [String] {
    let bytes = Array(text.utf8)
    var pieces: [String] = []
    var start = 0
    var index = 0
    while index + 1 < bytes.count {
        if bytes[index] == UInt8(ascii: ":") && bytes[index + 1] == UInt8(ascii: ":") {
            pieces.append(String(decoding: bytes[start..<index], as: UTF8.self))
            index += 2
            start = index
        } else {
            index += 1
        }
    }
    pieces.append(String(decoding: bytes[start...], as: UTF8.self))
    return pieces
}
