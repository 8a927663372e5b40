/// What a DoH request (RFC 8484) asks: the DNS query it carries, or the 4xx status that refuses it.
enum DoHRequest {
    /// The path the responder serves.
    static let path = "/dns-query"

    /// The query bytes of `request`, or the status for a request that is not a DoH query:
    /// 404 for another path, 405 for a method other than GET and POST, 415 for a POST whose
    /// content type is not `application/dns-message`, 413 for a body over 65,535 bytes, 400 for a
    /// GET without a `dns` parameter that decodes as base64url, or an empty message.
    static func query(of request: HTTP2Session.Request) -> Result<[UInt8], Status> {
        let parts = request.path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.first == Substring(path) else { return .failure(Status(404)) }
        switch request.method {
        case "POST":
            let type = request.contentType.split(separator: ";").first.map { $0.trimmingSpaces.lowercased() }
            guard type == "application/dns-message" else { return .failure(Status(415)) }
            guard !request.bodyTooLong else { return .failure(Status(413)) }
            return request.body.isEmpty ? .failure(Status(400)) : .success(request.body)
        case "GET":
            guard parts.count == 2 else { return .failure(Status(400)) }
            for parameter in parts[1].split(separator: "&") where parameter.hasPrefix("dns=") {
                guard let bytes = base64URLDecoded(parameter.dropFirst(4)), !bytes.isEmpty else { break }
                return .success(bytes)
            }
            return .failure(Status(400))
        default:
            return .failure(Status(405))
        }
    }

    /// An HTTP status code.
    struct Status: Error, Equatable {
        let code: Int
        init(_ code: Int) { self.code = code }
    }

    /// base64url without padding (RFC 4648 §5, as RFC 8484 sends it); padding is tolerated. Nil
    /// for any other character, a length that cannot be base64, or more than 65,535 bytes.
    static func base64URLDecoded(_ text: Substring) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var padded = false
        for character in text.utf8 {
            let value: UInt32
            switch character {
            case 0x41...0x5A: value = UInt32(character - 0x41)
            case 0x61...0x7A: value = UInt32(character - 0x61 + 26)
            case 0x30...0x39: value = UInt32(character - 0x30 + 52)
            case 0x2D: value = 62  // -
            case 0x5F: value = 63  // _
            case 0x3D:  // = padding, only at the end
                padded = true
                continue
            default: return nil
            }
            guard !padded else { return nil }
            accumulator = accumulator << 6 | value
            bits += 6
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // A lone 6-bit group cannot end a base64 text.
        guard bits < 6, bytes.count <= 65_535 else { return nil }
        return bytes
    }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
