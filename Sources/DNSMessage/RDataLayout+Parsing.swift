extension RDataLayout {
    /// Reads presentation-format RDATA field by field into wire bytes (names uncompressed), the
    /// inverse of `present`: what lets a zone file carry DNSKEY, DS, NAPTR, … as dig prints them.
    /// LOC and SVCB/HTTPS parameters are not read here (RFC 3597 `\#` data is); SVCB/HTTPS without
    /// parameters is.
    /// - Throws: `DNSPresentationError` naming the field that is missing or malformed.
    func parse(_ cursor: inout FieldCursor, origin: DNSName) throws(DNSPresentationError) -> [UInt8] {
        var out: [UInt8] = []
        func append(_ value: UInt64, bytes count: Int) {
            for index in stride(from: count - 1, through: 0, by: -1) { out.append(UInt8(truncatingIfNeeded: value >> (8 * index))) }
        }
        for field in fields {
            switch field {
            case .u8: out.append(try cursor.number("number"))
            case .u16: append(UInt64(try cursor.number("number") as UInt16), bytes: 2)
            case .u32: append(UInt64(try cursor.number("number") as UInt32), bytes: 4)
            case .type:
                guard let type = DNSType(mnemonic: try cursor.word("type")) else { throw DNSPresentationError("bad type") }
                append(UInt64(type.rawValue), bytes: 2)
            case .time: append(UInt64(try Self.time(cursor.word("time"))), bytes: 4)
            case .name: out += try cursor.name(origin).wire
            case .string:
                let string = try cursor.characterString()
                guard string.count <= 255 else { throw DNSPresentationError("string longer than 255 bytes") }
                out.append(UInt8(string.count))
                out += string
            case .strings:
                guard !cursor.isAtEnd else { throw DNSPresentationError("missing string") }
                while !cursor.isAtEnd {
                    let string = try cursor.characterString()
                    guard string.count <= 255 else { throw DNSPresentationError("string longer than 255 bytes") }
                    out.append(UInt8(string.count))
                    out += string
                }
            case .text: out += try cursor.characterString()
            case .ipv4:
                guard let address = DNSIPv4Address(try cursor.word("address")) else {
                    throw DNSPresentationError("bad IPv4 address")
                }
                append(UInt64(address.value), bytes: 4)
            case .base64:
                let bytes = try Self.base64(cursor.rest("base64 data"))
                out += bytes
            case .hex:
                out += try Self.hex(cursor.rest("hex data"))
            case .salt:
                let word = try cursor.word("salt")
                let bytes = word == "-" ? [] : try Self.hex(word)
                guard bytes.count <= 255 else { throw DNSPresentationError("salt longer than 255 bytes") }
                out.append(UInt8(bytes.count))
                out += bytes
            case .base32:
                let bytes = try Self.base32Hex(cursor.word("hash"))
                guard (1...255).contains(bytes.count) else { throw DNSPresentationError("bad hash length") }
                out.append(UInt8(bytes.count))
                out += bytes
            case .typeBitmap:
                var types: [UInt16] = []
                while !cursor.isAtEnd {
                    guard let type = DNSType(mnemonic: try cursor.word("type")) else {
                        throw DNSPresentationError("bad type in the type list")
                    }
                    types.append(type.rawValue)
                }
                out += Self.typeBitmap(types)
            case .eui48, .eui64:
                let parts = try cursor.word("address").split(separator: "-", omittingEmptySubsequences: false)
                guard parts.count == (field == .eui48 ? 6 : 8),
                      parts.allSatisfy({ $0.utf8.count == 2 && UInt8($0, radix: 16) != nil }) else {
                    throw DNSPresentationError("bad EUI address")
                }
                out += parts.map { UInt8($0, radix: 16)! }
            case .locator64:
                let groups = try cursor.word("locator").split(separator: ":", omittingEmptySubsequences: false)
                guard groups.count == 4, groups.allSatisfy({ (1...4).contains($0.utf8.count) && UInt16($0, radix: 16) != nil })
                else { throw DNSPresentationError("bad 64-bit locator") }
                for group in groups { append(UInt64(UInt16(group, radix: 16)!), bytes: 2) }
            case .serviceParameters where cursor.isAtEnd:
                continue  // none (the AliasMode form `0 target.`)
            case .location, .serviceParameters:
                throw DNSPresentationError("this type needs RFC 3597 generic data (\\# length hex)")
            }
        }
        guard cursor.isAtEnd else { throw DNSPresentationError("extra fields") }
        return out
    }

    /// `YYYYMMDDHHmmSS` (UTC) or plain seconds, as RFC 4034 section 3.2 allows.
    static func time(_ text: String) throws(DNSPresentationError) -> UInt32 {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.allSatisfy(PresentationText.isDigit) else { throw DNSPresentationError("bad time") }
        guard digits.count == 14 else {
            guard digits.count <= 10, let seconds = UInt32(text) else { throw DNSPresentationError("bad time") }
            return seconds
        }
        func number(_ range: Range<Int>) -> Int { range.reduce(0) { $0 * 10 + Int(digits[$1] - 48) } }
        let (year, month, day) = (number(0..<4), number(4..<6), number(6..<8))
        let (hour, minute, second) = (number(8..<10), number(10..<12), number(12..<14))
        guard (1970...2106).contains(year), (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
              second < 60 else { throw DNSPresentationError("bad time") }
        // Days from 1970-01-01 to the civil date, counting in 400-year eras from 0000-03-01.
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = shiftedYear / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        let days = era * 146_097 + dayOfEra - 719_468
        let seconds = Int64(days) * 86400 + Int64(hour * 3600 + minute * 60 + second)
        guard let value = UInt32(exactly: seconds) else { throw DNSPresentationError("time out of range") }
        return value
    }

    static func hex(_ text: String) throws(DNSPresentationError) -> [UInt8] {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.count % 2 == 0 else { throw DNSPresentationError("bad hex") }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = DNSRecordData.hexValue(digits[index]), let low = DNSRecordData.hexValue(digits[index + 1])
            else { throw DNSPresentationError("bad hex") }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    static func base64(_ text: String) throws(DNSPresentationError) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        var padding = 0
        for character in text.utf8 {
            let value: UInt8
            switch character {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = character - 65
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = character - 97 + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - 48 + 52
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            default: throw DNSPresentationError("bad base64")
            }
            guard padding == 0 else { throw DNSPresentationError("bad base64") }
            buffer = buffer << 6 | UInt32(value)
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
                buffer &= (1 << UInt32(bits)) - 1
            }
        }
        guard !bytes.isEmpty, padding <= 2, (text.utf8.count % 4 == 0 || padding == 0) else {
            throw DNSPresentationError("bad base64")
        }
        return bytes
    }

    static func base32Hex(_ text: String) throws(DNSPresentationError) -> [UInt8] {
        var bytes: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for character in text.utf8 {
            let value: UInt8
            switch DNSName.lower(character) {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = character - 48
            case UInt8(ascii: "a")...UInt8(ascii: "v"): value = DNSName.lower(character) - 97 + 10
            default: throw DNSPresentationError("bad base32hex")
            }
            buffer = buffer << 5 | UInt32(value)
            bits += 5
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
                buffer &= (1 << UInt32(bits)) - 1
            }
        }
        return bytes
    }

    /// An RFC 4034 section 4.1.2 bitmap of `types` (any order, repeats ignored).
    static func typeBitmap(_ types: [UInt16]) -> [UInt8] {
        var out: [UInt8] = []
        var windows: [UInt8: [UInt8]] = [:]
        for type in types {
            let low = Int(type & 0xFF)
            var bits = windows[UInt8(type >> 8), default: []]
            if bits.count <= low / 8 { bits += [UInt8](repeating: 0, count: low / 8 + 1 - bits.count) }
            bits[low / 8] |= 0x80 >> UInt8(low % 8)
            windows[UInt8(type >> 8)] = bits
        }
        for window in windows.keys.sorted() {
            let bits = windows[window]!
            out += [window, UInt8(bits.count)] + bits
        }
        return out
    }
}

extension FieldCursor {
    /// The remaining fields joined (base64 and hex may be split by spaces, as dig prints them).
    mutating func rest(_ what: String) throws(DNSPresentationError) -> String {
        guard !isAtEnd else { throw DNSPresentationError("missing \(what)") }
        var text = ""
        while !isAtEnd { text += try word(what) }
        return text
    }
}
