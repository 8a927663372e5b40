extension DNSRecordData: CustomStringConvertible {
    /// The RDATA in presentation format, as dig prints it: `192.0.2.1`, `10 mail.example.com.`,
    /// `"a" "b"`, `0 issue "ca.example"`, and `\# 3 abcdef` for raw data (RFC 3597).
    public var description: String {
        switch self {
        case .a(let address): return address.description
        case .aaaa(let address): return address.description
        case .cname(let name), .ns(let name), .ptr(let name): return name.description
        case .mx(let preference, let exchange): return "\(preference) \(exchange)"
        case .txt(let strings): return strings.map(PresentationText.quoted).joined(separator: " ")
        case .srv(let priority, let weight, let port, let target): return "\(priority) \(weight) \(port) \(target)"
        case .soa(let soa):
            return "\(soa.mname) \(soa.rname) \(soa.serial) \(soa.refresh) \(soa.retry) \(soa.expire) \(soa.minimum)"
        case .caa(let flags, let tag, let value):
            return "\(flags) \(String(decoding: tag, as: UTF8.self)) \(PresentationText.quoted(value))"
        case .unknown(let bytes): return Self.genericForm(bytes)
        }
    }

    /// RFC 3597 generic RDATA: `\# <length> <hex>` (just `\# 0` when empty).
    static func genericForm(_ bytes: [UInt8]) -> String {
        guard !bytes.isEmpty else { return "\\# 0" }
        let digits: [Character] = Array("0123456789abcdef")
        var hex = ""
        hex.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            hex.append(digits[Int(byte >> 4)])
            hex.append(digits[Int(byte & 0x0F)])
        }
        return "\\# \(bytes.count) \(hex)"
    }
}

extension DNSResourceRecord: CustomStringConvertible {
    /// One master-file line: `example.com. 300 IN A 192.0.2.1`, or `x. 60 IN TYPE65280 \# 3 abcdef`.
    public var description: String { "\(name) \(ttl) \(self.class) \(type) \(data)" }
}

extension DNSQuestion: CustomStringConvertible {
    /// dig's question line: `;example.com. IN A`.
    public var description: String { ";\(name) \(self.class) \(type)" }
}

extension DNSMessage: CustomStringConvertible {
    /// A dig-like dump: header line, flags and counts, the OPT pseudo-section, then every section.
    public var description: String {
        var flagNames: [String] = []
        if header.isResponse { flagNames.append("qr") }
        if header.isAuthoritative { flagNames.append("aa") }
        if header.isTruncated { flagNames.append("tc") }
        if header.recursionDesired { flagNames.append("rd") }
        if header.recursionAvailable { flagNames.append("ra") }
        if header.authenticData { flagNames.append("ad") }
        if header.checkingDisabled { flagNames.append("cd") }
        let opcodes = [0: "QUERY", 1: "IQUERY", 2: "STATUS", 4: "NOTIFY", 5: "UPDATE"]
        let opcode = opcodes[Int(header.opcode.rawValue)] ?? "RESERVED\(header.opcode.rawValue)"
        var lines = [
            ";; ->>HEADER<<- opcode: \(opcode), status: \(rcode), id: \(header.id)",
            ";; flags: \(flagNames.joined(separator: " ")); QUERY: \(questions.count), ANSWER: \(answers.count), "
                + "AUTHORITY: \(authorities.count), ADDITIONAL: \(additionals.count + (edns == nil ? 0 : 1))",
        ]
        if let edns {
            lines.append(";; OPT PSEUDOSECTION:")
            let flags = edns.dnssecOK ? " do" : ""
            lines.append("; EDNS: version: \(edns.version), flags:\(flags); udp: \(edns.udpPayloadSize)")
        }
        lines.append(";; QUESTION SECTION:")
        lines += questions.map(\.description)
        for (title, records) in [("ANSWER", answers), ("AUTHORITY", authorities), ("ADDITIONAL", additionals)]
        where !records.isEmpty {
            lines.append(";; \(title) SECTION:")
            lines += records.map(\.description)
        }
        return lines.joined(separator: "\n")
    }
}
