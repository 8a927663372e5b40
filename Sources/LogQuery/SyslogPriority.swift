/// The `<PRI>` prefix shared by RFC 3164 and RFC 5424.
enum SyslogPriority {
    /// Parses `<0>`…`<191>` at the start of `b`; returns the value and the index after `>`.
    static func parse(_ b: UnsafeBufferPointer<UInt8>) -> (value: Int, end: Int)? {
        guard b.count >= 3, b[0] == UInt8(ascii: "<") else { return nil }
        var i = 1
        var value = 0
        while i < b.count, i <= 4, (48...57).contains(b[i]) {
            value = value * 10 + Int(b[i] - 48)
            i += 1
        }
        guard i > 1, i < b.count, b[i] == UInt8(ascii: ">"), value <= 191 else { return nil }
        return (value, i + 1)
    }
}
