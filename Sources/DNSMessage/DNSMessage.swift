/// A whole DNS message as values: header, question, answer, authority and additional records, and
/// the EDNS(0) data taken out of the additional section.
///
/// Parse with `init(parsing:)` (every rule of `DNSParseError` enforced, never a trap); write with
/// `serialized()` (names compressed). For the hot path use `DNSMessageView` and `DNSQueryBuilder`.
public struct DNSMessage: Hashable, Sendable {
    /// Id, flags, opcode and the low rcode bits.
    public var header: DNSHeader
    /// The question section.
    public var questions: [DNSQuestion]
    /// The answer section.
    public var answers: [DNSResourceRecord]
    /// The authority section.
    public var authorities: [DNSResourceRecord]
    /// The additional section, without the OPT record.
    public var additionals: [DNSResourceRecord]
    /// The OPT record's data, if the message has one (it is written last in the additional section).
    public var edns: DNSEDNS?

    /// Creates a message from its parts.
    public init(header: DNSHeader, questions: [DNSQuestion] = [], answers: [DNSResourceRecord] = [],
                authorities: [DNSResourceRecord] = [], additionals: [DNSResourceRecord] = [], edns: DNSEDNS? = nil) {
        self.header = header
        self.questions = questions
        self.answers = answers
        self.authorities = authorities
        self.additionals = additionals
        self.edns = edns
    }

    /// The full response code: the header's 4 bits plus, with EDNS, the extended 8 bits.
    /// Setting it stores the upper bits in `edns` (creating it if needed and the value needs them).
    public var rcode: DNSRcode {
        get { DNSRcode(rawValue: UInt16(edns?.extendedRcode ?? 0) << 4 | UInt16(header.rcodeLow)) }
        set {
            header.rcodeLow = UInt8(newValue.rawValue & 0x0F)
            let upper = UInt8(newValue.rawValue >> 4)
            if upper != 0 && edns == nil { edns = DNSEDNS() }
            edns?.extendedRcode = upper
        }
    }
}
