extension RDataLayout {
    /// `rdata` (names uncompressed, as `decompress` leaves them) in presentation format, field by
    /// field as dig prints it, except that base64 and hex stay one word (dig breaks them every 56
    /// characters; kdig, like this, does not). Nil when the bytes do not fit the layout (a field
    /// cut short, bytes left over, a pointer where a name should be, a value out of range): the
    /// caller then prints RFC 3597 generic data. Never traps.
    func present(_ rdata: [UInt8]) -> String? {
        rdata.withUnsafeBytes { buffer in
            var cursor = Cursor(bytes: buffer)
            var words: [String] = []
            for field in fields {
                guard let word = cursor.word(field) else { return nil }
                if !word.isEmpty { words.append(word) }
            }
            return cursor.offset == buffer.count ? words.joined(separator: " ") : nil
        }
    }

    /// Reads fields in order; every read is bounds-checked and answers nil past the end.
    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        var remaining: Int { bytes.count - offset }

        mutating func take(_ count: Int) -> UnsafeRawBufferPointer? {
            guard count >= 0, count <= remaining else { return nil }
            defer { offset += count }
            return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        }

        mutating func integer(_ size: Int) -> UInt32? {
            take(size).map { $0.reduce(0) { $0 << 8 | UInt32($1) } }
        }

        mutating func rest() -> UnsafeRawBufferPointer { take(remaining)! }

        /// A name in plain wire form: labels of 1…63 bytes to the root, no pointer, ≤ 255 bytes.
        mutating func plainName() -> DNSName? {
            var wire: [UInt8] = []
            while let length = integer(1).map(Int.init) {
                wire.append(UInt8(length))
                if length == 0 { return wire.count <= 255 ? DNSName(uncheckedWire: wire) : nil }
                guard length <= 63, let label = take(length), wire.count + length < 255 else { return nil }
                wire += label
            }
            return nil
        }

        mutating func word(_ field: Field) -> String? {
            switch field {
            case .u8: return integer(1).map { String($0) }
            case .u16: return integer(2).map { String($0) }
            case .u32: return integer(4).map { String($0) }
            case .type: return integer(2).map { DNSType(UInt16($0)).description }
            case .time: return integer(4).map(BinaryText.timestamp)
            case .name: return plainName()?.description
            case .string:
                guard let count = integer(1), let bytes = take(Int(count)) else { return nil }
                return PresentationText.quoted(bytes)
            case .strings:
                var strings: [String] = []
                while remaining > 0 {
                    guard let string = word(.string) else { return nil }
                    strings.append(string)
                }
                return strings.isEmpty ? nil : strings.joined(separator: " ")
            case .text:
                return PresentationText.quoted(rest())
            case .ipv4: return integer(4).map { DNSIPv4Address($0).description }
            case .base64:
                let bytes = rest()
                return bytes.isEmpty ? nil : BinaryText.base64(bytes)
            case .hex:
                let bytes = rest()
                return bytes.isEmpty ? nil : BinaryText.hex(bytes)
            case .salt:
                guard let count = integer(1), let bytes = take(Int(count)) else { return nil }
                return bytes.isEmpty ? "-" : BinaryText.hex(bytes)
            case .base32:
                guard let count = integer(1), count > 0, let bytes = take(Int(count)) else { return nil }
                return BinaryText.base32Hex(bytes)
            case .typeBitmap:
                return BinaryText.typeBitmap(rest())?.map { DNSType($0).description }.joined(separator: " ")
            case .eui48, .eui64:
                guard let bytes = take(field == .eui48 ? 6 : 8) else { return nil }
                return bytes.map { BinaryText.hexByte($0, upper: false) }.joined(separator: "-")
            case .locator64:
                var groups: [String] = []
                for _ in 0..<4 {
                    guard let group = integer(2) else { return nil }
                    groups.append(String(group, radix: 16))
                }
                return groups.joined(separator: ":")
            case .location:
                return take(16).flatMap(BinaryText.location)
            case .serviceParameters:
                return BinaryText.serviceParameters(rest())
            }
        }
    }
}

extension RDataLayout.Field: Equatable {}
