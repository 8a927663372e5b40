/// Why a packet could not be read, and where: the value every wire-format read throws.
///
/// Parsing never traps, loops or allocates without bound; any malformed input ends in one of these.
public struct DNSParseError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong with the bytes.
    public enum Reason: Hashable, Sendable {
        /// A read needed bytes past the end of the packet (or of the record data).
        case truncated
        /// A label length byte had the reserved top bits `01` or `10`.
        case badLabelType
        /// A name was longer than 255 bytes in wire form.
        case nameTooLong
        /// A compression pointer pointed at or after the name's own start, or into the header.
        case badPointer
        /// A name followed more compression pointers than allowed.
        case tooManyPointers
        /// The header counts promise more records than the packet can hold.
        case countsExceedPacket
        /// Record data did not fill exactly its RDLENGTH, or held a bad field.
        case badRecordData
        /// An OPT record was misplaced, not owned by the root, or repeated.
        case badOPT
    }

    /// What was wrong.
    public var reason: Reason
    /// The byte offset in the packet where the problem was found.
    public var offset: Int

    /// Creates an error with its reason and offset.
    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    /// `"<reason> at offset <n>"`.
    public var description: String { "\(reason) at offset \(offset)" }
}
