/// The fixed 12-byte header without its counts: id, every flag, opcode and the low 4 rcode bits.
///
/// The counts belong to the sections (`DNSMessage`) or are read directly (`DNSMessageView`).
public struct DNSHeader: Hashable, Sendable {
    /// The transaction id.
    public var id: UInt16
    /// QR: this is a response.
    public var isResponse: Bool
    /// The operation code.
    public var opcode: DNSOpcode
    /// AA: the answer is authoritative.
    public var isAuthoritative: Bool
    /// TC: the message was truncated.
    public var isTruncated: Bool
    /// RD: recursion desired.
    public var recursionDesired: Bool
    /// RA: recursion available.
    public var recursionAvailable: Bool
    /// Z: the reserved bit, kept as received.
    public var zBit: Bool
    /// AD: authentic data (RFC 4035).
    public var authenticData: Bool
    /// CD: checking disabled (RFC 4035).
    public var checkingDisabled: Bool
    /// The low 4 bits of the response code (the rest is in the OPT record).
    public var rcodeLow: UInt8

    /// A header with the given id and every flag clear (a standard query, NOERROR).
    public init(id: UInt16 = 0) {
        self.init(id: id, flags: 0)
    }

    /// Decodes the 16-bit flags word of the wire header.
    public init(id: UInt16, flags: UInt16) {
        self.id = id
        isResponse = flags & 0x8000 != 0
        opcode = DNSOpcode(rawValue: UInt8((flags >> 11) & 0x0F))
        isAuthoritative = flags & 0x0400 != 0
        isTruncated = flags & 0x0200 != 0
        recursionDesired = flags & 0x0100 != 0
        recursionAvailable = flags & 0x0080 != 0
        zBit = flags & 0x0040 != 0
        authenticData = flags & 0x0020 != 0
        checkingDisabled = flags & 0x0010 != 0
        rcodeLow = UInt8(flags & 0x000F)
    }

    /// The 16-bit flags word as it goes on the wire.
    public var flags: UInt16 {
        var word = UInt16(opcode.rawValue) << 11 | UInt16(rcodeLow & 0x0F)
        if isResponse { word |= 0x8000 }
        if isAuthoritative { word |= 0x0400 }
        if isTruncated { word |= 0x0200 }
        if recursionDesired { word |= 0x0100 }
        if recursionAvailable { word |= 0x0080 }
        if zBit { word |= 0x0040 }
        if authenticData { word |= 0x0020 }
        if checkingDisabled { word |= 0x0010 }
        return word
    }
}
