extension DNSRecordData {
    /// Parses presentation-format RDATA fields for `type`; relative names take `origin`.
    /// RFC 3597 generic data (`\# 4 c0000201`) is accepted for every type and decoded when known;
    /// the types kept as bytes whose layout is known (DNSKEY, DS, NAPTR, …) are read as dig prints them.
    static func parse(
        type: DNSType, fields: [ZoneToken], origin: DNSName
    ) throws(DNSPresentationError) -> DNSRecordData {
        var cursor = FieldCursor(fields: fields)
        if let first = fields.first, !first.quoted, first.string == "\\#" {
            return try parseGeneric(type: type, fields: Array(fields.dropFirst()))
        }
        let data: DNSRecordData
        switch type {
        case .a:
            guard let address = DNSIPv4Address(try cursor.word("address")) else {
                throw DNSPresentationError("bad IPv4 address")
            }
            data = .a(address)
        case .aaaa:
            guard let address = DNSIPv6Address(try cursor.word("address")) else {
                throw DNSPresentationError("bad IPv6 address")
            }
            data = .aaaa(address)
        case .cname: data = .cname(try cursor.name(origin))
        case .ns: data = .ns(try cursor.name(origin))
        case .ptr: data = .ptr(try cursor.name(origin))
        case .mx: data = .mx(preference: try cursor.number("preference"), exchange: try cursor.name(origin))
        case .txt:
            var strings: [[UInt8]] = []
            while !cursor.isAtEnd {
                let string = try cursor.characterString()
                guard string.count <= 255 else { throw DNSPresentationError("TXT string longer than 255 bytes") }
                strings.append(string)
            }
            guard !strings.isEmpty else { throw DNSPresentationError("TXT needs at least one string") }
            data = .txt(strings)
        case .srv:
            data = .srv(priority: try cursor.number("priority"), weight: try cursor.number("weight"),
                        port: try cursor.number("port"), target: try cursor.name(origin))
        case .soa:
            data = .soa(DNSSOA(
                mname: try cursor.name(origin), rname: try cursor.name(origin), serial: try cursor.number("serial"),
                refresh: try cursor.ttl("refresh"), retry: try cursor.ttl("retry"), expire: try cursor.ttl("expire"),
                minimum: try cursor.ttl("minimum")))
        case .caa:
            let flags: UInt8 = try cursor.number("flags")
            let tag = Array(try cursor.word("tag").utf8)
            guard !tag.isEmpty, tag.count <= 255, tag.allSatisfy({ $0 < 0x80 && Self.isAlphanumeric($0) }) else {
                throw DNSPresentationError("bad CAA tag")
            }
            data = .caa(flags: flags, tag: tag, value: try cursor.characterString())
        default:
            guard let layout = RDataLayout.of(type) else {
                throw DNSPresentationError("type \(type) needs RFC 3597 generic data (\\# length hex)")
            }
            data = .unknown(try layout.parse(&cursor, origin: origin))
        }
        guard cursor.isAtEnd else { throw DNSPresentationError("extra fields after \(type) data") }
        return data
    }

    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        PresentationText.isDigit(byte) || DNSName.lower(byte) &- UInt8(ascii: "a") < 26
    }

    private static func parseGeneric(type: DNSType, fields: [ZoneToken]) throws(DNSPresentationError) -> DNSRecordData {
        guard let lengthField = fields.first, let length = Int(lengthField.string), length <= 0xFFFF else {
            throw DNSPresentationError("\\# needs a length")
        }
        var bytes: [UInt8] = []
        var pending: UInt8? = nil
        for field in fields.dropFirst() {
            for character in field.text {
                guard let nibble = hexValue(character) else { throw DNSPresentationError("bad hex in \\# data") }
                if let high = pending {
                    bytes.append(high << 4 | nibble)
                    pending = nil
                } else {
                    pending = nibble
                }
            }
        }
        guard pending == nil, bytes.count == length else {
            throw DNSPresentationError("\\# length \(length) does not match \(bytes.count) bytes of hex")
        }
        if type.rawValue == DNSType.opt.rawValue { return .unknown(bytes) }
        let decoded: Result<DNSRecordData, DNSParseError> = bytes.withUnsafeBytes { buffer in
            var reader = DNSWireReader(buffer)
            do throws(DNSParseError) {
                return .success(try DNSRecordData.parse(type: type, length: buffer.count, reader: &reader))
            } catch {
                return .failure(error)
            }
        }
        switch decoded {
        case .success(let data): return data
        case .failure(let error): throw DNSPresentationError("bad \(type) data in \\# form: \(error)")
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        if PresentationText.isDigit(byte) { return byte - 48 }
        let lower = DNSName.lower(byte)
        return lower &- UInt8(ascii: "a") < 6 ? lower - UInt8(ascii: "a") + 10 : nil
    }
}

/// Reads RDATA fields one at a time with typed conversions.
struct FieldCursor {
    let fields: [ZoneToken]
    var index = 0

    var isAtEnd: Bool { index >= fields.count }

    mutating func token(_ what: String) throws(DNSPresentationError) -> ZoneToken {
        guard index < fields.count else { throw DNSPresentationError("missing \(what)") }
        defer { index += 1 }
        return fields[index]
    }

    mutating func word(_ what: String) throws(DNSPresentationError) -> String { try token(what).string }

    mutating func number<T: FixedWidthInteger>(_ what: String) throws(DNSPresentationError) -> T {
        guard let value = T(try word(what)) else { throw DNSPresentationError("bad \(what)") }
        return value
    }

    mutating func ttl(_ what: String) throws(DNSPresentationError) -> UInt32 {
        guard let value = DNSZoneParser.ttlValue(try word(what)) else { throw DNSPresentationError("bad \(what)") }
        return value
    }

    mutating func name(_ origin: DNSName) throws(DNSPresentationError) -> DNSName {
        try DNSName(parsing: try token("name").text, origin: origin)
    }

    mutating func characterString() throws(DNSPresentationError) -> [UInt8] {
        var bytes: [UInt8] = []
        try PresentationText.unescape(try token("string").text) { (byte, _) throws(DNSPresentationError) in
            bytes.append(byte)
        }
        return bytes
    }
}
