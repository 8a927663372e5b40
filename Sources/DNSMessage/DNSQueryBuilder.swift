/// Writes query messages into a caller's reused buffer with no allocation (the load generator's and
/// the query engine's hot path).
public enum DNSQueryBuilder {
    /// EDNS(0) settings for a query's OPT record.
    public struct EDNS: Sendable, Hashable {
        /// The UDP payload size to advertise.
        public var udpPayloadSize: UInt16
        /// The DO bit.
        public var dnssecOK: Bool
        /// Creates the settings.
        public init(udpPayloadSize: UInt16 = 1232, dnssecOK: Bool = false) {
            self.udpPayloadSize = udpPayloadSize
            self.dnssecOK = dnssecOK
        }
    }

    /// The bytes a query needs: header, the name, type and class, and 11 for an OPT record.
    public static func size(nameWireCount: Int, edns: EDNS?) -> Int { 12 + nameWireCount + 4 + (edns == nil ? 0 : 11) }

    /// Writes a one-question query into `buffer`.
    ///
    /// - Parameters:
    ///   - buffer: where the message is written, from its first byte.
    ///   - id: the transaction id.
    ///   - name: the name in uncompressed wire form, e.g. `DNSName.wire` (written as is, case kept).
    ///   - type: the question's type.
    ///   - class: the question's class.
    ///   - flags: the header flags word; the default sets only RD.
    ///   - edns: when set, an OPT record with that payload size and DO bit is added.
    /// - Returns: the number of bytes written, or nil (nothing promised about the buffer) if it is too small.
    ///   Never allocates.
    @inlinable
    public static func write(into buffer: UnsafeMutableRawBufferPointer, id: UInt16, name: UnsafeRawBufferPointer,
                             type: DNSType, class: DNSClass = .in, flags: UInt16 = 0x0100, edns: EDNS? = nil) -> Int? {
        let total = size(nameWireCount: name.count, edns: edns)
        guard total <= buffer.count, let base = buffer.baseAddress, let nameBase = name.baseAddress else { return nil }
        @inline(__always) func put16(_ value: UInt16, _ offset: Int) {
            base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
        }
        put16(id, 0)
        put16(flags, 2)
        put16(1, 4)
        put16(0, 6)
        put16(0, 8)
        put16(edns == nil ? 0 : 1, 10)
        (base + 12).copyMemory(from: nameBase, byteCount: name.count)
        var offset = 12 + name.count
        put16(type.rawValue, offset)
        put16(`class`.rawValue, offset + 2)
        offset += 4
        if let edns {
            base.storeBytes(of: 0, toByteOffset: offset, as: UInt8.self)
            put16(41, offset + 1)
            put16(edns.udpPayloadSize, offset + 3)
            put16(0, offset + 5)
            put16(edns.dnssecOK ? 0x8000 : 0, offset + 7)
            put16(0, offset + 9)
            offset += 11
        }
        return offset
    }

    /// `write(into:id:name:…)` with a `DNSName`; no allocation either.
    @inlinable
    public static func write(into buffer: UnsafeMutableRawBufferPointer, id: UInt16, name: DNSName, type: DNSType,
                             class: DNSClass = .in, flags: UInt16 = 0x0100, edns: EDNS? = nil) -> Int? {
        name.wire.withUnsafeBytes { write(into: buffer, id: id, name: $0, type: type, class: `class`, flags: flags,
                                          edns: edns) }
    }
}
