extension DNSRecordData: CustomStringConvertible {
    /// The RDATA in presentation format, as dig prints it: `192.0.2.1`, `10 mail.example.com.`,
    /// `"a" "b"`, `0 issue "ca.example"`, and `\# 3 ABCDEF` for raw data (RFC 3597); a record's type
    /// shows raw data of many more types field by field: `presentation(for:)`.
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

    /// RFC 3597 generic RDATA: `\# <length> <HEX>` (just `\# 0` when empty), upper case as dig
    /// and kdig print it.
    static func genericForm(_ bytes: [UInt8]) -> String {
        bytes.isEmpty ? "\\# 0" : "\\# \(bytes.count) \(BinaryText.hex(bytes))"
    }

    /// The RDATA in presentation format for a record of `type`: `description` for the decoded
    /// cases; for `.unknown`, the fields of a type whose layout is known as dig prints them
    /// (`rmail.example. errors.example.` for MINFO, `257 3 13 mdssw…` for DNSKEY), else, or when the
    /// bytes do not fit the layout, RFC 3597 generic data. Never holds a compression pointer.
    public func presentation(for type: DNSType) -> String {
        guard case .unknown(let bytes) = self, let layout = RDataLayout.of(type),
              let text = layout.present(bytes) else { return description }
        return text
    }
}

extension DNSResourceRecord: CustomStringConvertible {
    /// One master-file line: `example.com. 300 IN A 192.0.2.1`, or `x. 60 IN TYPE65280 \# 3 ABCDEF`.
    public var description: String { "\(name) \(ttl) \(self.class) \(type) \(data.presentation(for: type))" }
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
