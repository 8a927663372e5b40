extension DNSRecordView {
    /// For an OPT record: its EDNS fields (payload size, extended rcode, version, DO); nil for other types.
    /// Options are not decoded (use `rdata`). Never allocates.
    public var ednsHeader: (udpPayloadSize: UInt16, extendedRcode: UInt8, version: UInt8, dnssecOK: Bool)? {
        guard type == .opt else { return nil }
        return (classField, UInt8(ttl >> 24), UInt8(truncatingIfNeeded: ttl >> 16), ttl & 0x8000 != 0)
    }
}

extension DNSMessageView {
    /// The OPT record of the additional section, found by walking every record (no allocation).
    /// - Returns: nil when the message has none.
    /// - Throws: `DNSParseError` if a record on the way is malformed.
    public func optRecord() throws(DNSParseError) -> DNSRecordView? {
        var records = self.records()
        while let record = try records.next() {
            if record.section == .additional && record.type == .opt { return record }
        }
        return nil
    }

    /// The full 12-bit response code: the header's 4 bits plus the OPT record's extended 8 bits.
    /// - Throws: `DNSParseError` if a record on the way to the OPT record is malformed.
    public func rcode() throws(DNSParseError) -> DNSRcode {
        let upper = UInt16(try optRecord()?.ednsHeader?.extendedRcode ?? 0)
        return DNSRcode(rawValue: upper << 4 | UInt16(rcodeLow))
    }
}
