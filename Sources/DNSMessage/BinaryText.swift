/// The text forms RDATA fields print in: base64, base32hex, hex, timestamps, type bitmaps, LOC's
/// coordinates and SVCB's parameters. Each takes bytes already bounded by its field and answers nil
/// (never traps) when they do not fit the form.
enum BinaryText {
    private static let base64Digits = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let base32HexDigits = Array("0123456789ABCDEFGHIJKLMNOPQRSTUV".utf8)
    private static let hexUpper = Array("0123456789ABCDEF".utf8)
    private static let hexLower = Array("0123456789abcdef".utf8)

    /// RFC 4648 base64 with padding.
    static func base64(_ bytes: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var index = 0
        while index < bytes.count {
            let count = min(3, bytes.count - index)
            var group: UInt32 = 0
            for offset in 0..<3 { group = group << 8 | UInt32(offset < count ? bytes[index + offset] : 0) }
            for digit in 0..<4 {
                out.append(digit <= count ? base64Digits[Int(group >> (18 - 6 * UInt32(digit)) & 0x3F)] : 0x3D)
            }
            index += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 4648 base32 with the extended hex alphabet, upper case, no padding (NSEC3, RFC 5155).
    static func base32Hex(_ bytes: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                bits -= 5
                out.append(base32HexDigits[Int(buffer >> UInt32(bits) & 0x1F)])
            }
            buffer &= (1 << UInt32(bits)) - 1
        }
        if bits > 0 { out.append(base32HexDigits[Int(buffer << UInt32(5 - bits) & 0x1F)]) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Upper-case hex, two digits a byte (as dig and kdig print digests and RFC 3597 data).
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var out: [UInt8] = []
        for byte in bytes {
            out.append(hexUpper[Int(byte >> 4)])
            out.append(hexUpper[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// One byte as two hex digits.
    static func hexByte(_ byte: UInt8, upper: Bool) -> String {
        let digits = upper ? hexUpper : hexLower
        return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]], as: UTF8.self)
    }

    /// Seconds since 1970 as `YYYYMMDDHHmmSS` in UTC (RRSIG's and SIG's times, RFC 4034 section 3.2).
    static func timestamp(_ seconds: UInt32) -> String {
        let days = Int(seconds / 86400)
        let secondOfDay = Int(seconds % 86400)
        // Days since 1970-01-01 to a civil date, counting in 400-year eras from 0000-03-01.
        let shifted = days + 719_468
        let era = shifted / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)\(two(month))\(two(day))\(two(secondOfDay / 3600))\(two(secondOfDay / 60 % 60))"
            + two(secondOfDay % 60)
    }

    /// The types an RFC 4034 section 4.1.2 bitmap holds, in order; nil when a window is out of order,
    /// repeated, or its length is not 1…32 or runs past the end. An empty bitmap holds no type.
    static func typeBitmap(_ bytes: UnsafeRawBufferPointer) -> [UInt16]? {
        var types: [UInt16] = []
        var index = 0
        var lastWindow = -1
        while index < bytes.count {
            guard index + 2 <= bytes.count else { return nil }
            let window = Int(bytes[index])
            let length = Int(bytes[index + 1])
            guard window > lastWindow, (1...32).contains(length), index + 2 + length <= bytes.count else { return nil }
            for octet in 0..<length {
                let byte = bytes[index + 2 + octet]
                for bit in 0..<8 where byte & (0x80 >> UInt8(bit)) != 0 {
                    types.append(UInt16(window << 8 | octet * 8 + bit))
                }
            }
            lastWindow = window
            index += 2 + length
        }
        return types
    }

    /// LOC RDATA (RFC 1876, version 0, 16 bytes) as dig prints it:
    /// `52 22 23.000 N 4 53 32.000 E -2.00m 1m 10000m 10m`; nil for another version, a size or
    /// precision digit above 9, or a latitude or longitude out of range.
    static func location(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard bytes.count == 16, bytes[0] == 0 else { return nil }
        func centimetres(_ byte: UInt8) -> UInt64? {
            let mantissa = UInt64(byte >> 4)
            let exponent = Int(byte & 0x0F)
            guard mantissa <= 9, exponent <= 9 else { return nil }
            var value = mantissa
            for _ in 0..<exponent { value *= 10 }
            return value
        }
        func metres(_ value: UInt64) -> String {
            value % 100 == 0 ? "\(value / 100)m" : "\(value / 100).\(value % 100 < 10 ? "0" : "")\(value % 100)m"
        }
        func word(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
        }
        func angle(_ raw: UInt32, limitDegrees: Int64, positive: String, negative: String) -> String? {
            let value = Int64(raw) - (1 << 31)
            let magnitude = abs(value)
            guard magnitude <= limitDegrees * 3_600_000 else { return nil }
            let thousandths = magnitude % 1000
            let padded = thousandths < 10 ? "00\(thousandths)" : thousandths < 100 ? "0\(thousandths)" : "\(thousandths)"
            return "\(magnitude / 3_600_000) \(magnitude / 60000 % 60) \(magnitude / 1000 % 60).\(padded) "
                + (value >= 0 ? positive : negative)
        }
        guard let size = centimetres(bytes[1]), let horizontal = centimetres(bytes[2]),
              let vertical = centimetres(bytes[3]),
              let latitude = angle(word(4), limitDegrees: 90, positive: "N", negative: "S"),
              let longitude = angle(word(8), limitDegrees: 180, positive: "E", negative: "W") else { return nil }
        let altitude = Int64(word(12)) - 10_000_000
        let altitudeText = (altitude < 0 ? "-" : "") + "\(abs(altitude) / 100)."
            + (abs(altitude) % 100 < 10 ? "0" : "") + "\(abs(altitude) % 100)m"
        return "\(latitude) \(longitude) \(altitudeText) \(metres(size)) \(metres(horizontal)) \(metres(vertical))"
    }

    private static let serviceKeyNames = ["mandatory", "alpn", "no-default-alpn", "port", "ipv4hint", "ech",
                                          "ipv6hint", "dohpath", "ohttp"]

    /// A service parameter key's name (RFC 9460 section 14.3.2), `keyNNNNN` for the others.
    static func serviceKeyName(_ key: UInt16) -> String {
        Int(key) < serviceKeyNames.count ? serviceKeyNames[Int(key)] : "key\(key)"
    }

    /// SVCB/HTTPS parameters (RFC 9460) as dig prints them: `alpn="h2,h3" port=8443 ipv4hint=…`;
    /// nil when keys are not strictly increasing or a value does not fit its key.
    static func serviceParameters(_ bytes: UnsafeRawBufferPointer) -> String? {
        var words: [String] = []
        var index = 0
        var lastKey = -1
        while index < bytes.count {
            guard index + 4 <= bytes.count else { return nil }
            let key = UInt16(bytes[index]) << 8 | UInt16(bytes[index + 1])
            let length = Int(bytes[index + 2]) << 8 | Int(bytes[index + 3])
            guard Int(key) > lastKey, index + 4 + length <= bytes.count else { return nil }
            let value = UnsafeRawBufferPointer(rebasing: bytes[(index + 4)..<(index + 4 + length)])
            guard let text = serviceValue(key, value) else { return nil }
            words.append(text.isEmpty ? serviceKeyName(key) : "\(serviceKeyName(key))=\(text)")
            lastKey = Int(key)
            index += 4 + length
        }
        return words.joined(separator: " ")
    }

    /// One parameter's value, "" for a key that has none.
    private static func serviceValue(_ key: UInt16, _ value: UnsafeRawBufferPointer) -> String? {
        func u16(_ at: Int) -> UInt16 { UInt16(value[at]) << 8 | UInt16(value[at + 1]) }
        switch key {
        case 0:  // mandatory: keys
            guard !value.isEmpty, value.count % 2 == 0 else { return nil }
            return stride(from: 0, to: value.count, by: 2).map { serviceKeyName(u16($0)) }.joined(separator: ",")
        case 1:  // alpn: character-strings, commas inside an id escaped
            var ids: [String] = []
            var at = 0
            while at < value.count {
                let count = Int(value[at])
                guard count > 0, at + 1 + count <= value.count else { return nil }
                var id = ""
                PresentationText.escape(value[(at + 1)..<(at + 1 + count)], specials: Array(",\\\"".utf8),
                                        escapeSpace: false, into: &id)
                ids.append(id.replacingBackslashComma())
                at += 1 + count
            }
            return ids.isEmpty ? nil : "\"" + ids.joined(separator: ",") + "\""
        case 2, 8:  // no-default-alpn, ohttp: no value
            return value.isEmpty ? "" : nil
        case 3:  // port
            return value.count == 2 ? String(u16(0)) : nil
        case 4:  // ipv4hint
            guard !value.isEmpty, value.count % 4 == 0 else { return nil }
            return stride(from: 0, to: value.count, by: 4).map {
                DNSIPv4Address(value[$0], value[$0 + 1], value[$0 + 2], value[$0 + 3]).description
            }.joined(separator: ",")
        case 5:  // ech
            return value.isEmpty ? nil : base64(value)
        case 6:  // ipv6hint
            guard !value.isEmpty, value.count % 16 == 0 else { return nil }
            return stride(from: 0, to: value.count, by: 16).map { start in
                DNSIPv6Address(groups: (0..<8).map { u16(start + 2 * $0) })!.description  // eight groups: never nil
            }.joined(separator: ",")
        default:  // dohpath and unknown keys: a quoted string, or nothing when empty
            return value.isEmpty ? (key == 7 ? nil : "") : PresentationText.quoted(value)
        }
    }
}

extension String {
    /// An alpn id escapes a comma as `\\,` in presentation (RFC 9460 appendix A.1): the value-list
    /// escape, then the character-string escape of its backslash.
    fileprivate func replacingBackslashComma() -> String {
        var out = ""
        var iterator = makeIterator()
        while let character = iterator.next() {
            if character == "\\", let next = iterator.next() {
                out += next == "," ? "\\\\," : "\\\(next)"
            } else {
                out.append(character)
            }
        }
        return out
    }
}
