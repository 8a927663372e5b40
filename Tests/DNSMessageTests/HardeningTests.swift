@testable import DNSMessage
import Testing

/// A response header with the given counts.
func header(qd: UInt16 = 1, an: UInt16 = 0, ns: UInt16 = 0, ar: UInt16 = 0) -> [UInt8] {
    [0x12, 0x34, 0x81, 0x80] + [qd, an, ns, ar].flatMap { [UInt8($0 >> 8), UInt8($0 & 0xFF)] }
}

/// Expects both the full parser and the view (creation plus full iteration) to reject `bytes` for `reason`.
func expectRejected(_ bytes: [UInt8], _ reason: DNSParseError.Reason, at offset: Int? = nil, viewToo: Bool = true,
                    sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        _ = try DNSMessage(parsing: bytes)
        Issue.record("DNSMessage accepted the packet", sourceLocation: sourceLocation)
    } catch {
        #expect(error.reason == reason, sourceLocation: sourceLocation)
        if let offset { #expect(error.offset == offset, sourceLocation: sourceLocation) }
    }
    guard viewToo else { return }
    let viewError: DNSParseError? = bytes.withUnsafeBytes { buffer in
        do throws(DNSParseError) {
            var records = try DNSMessageView(buffer).records()
            while let record = try records.next() { _ = try record.decoded() }
            return nil
        } catch {
            return error
        }
    }
    #expect(viewError?.reason == reason, "view", sourceLocation: sourceLocation)
}

@Suite("Hardening: every rule with a crafted packet")
struct HardeningTests {
    let question: [UInt8] = [3] + Array("www".utf8) + [7] + Array("example".utf8) + [3] + Array("com".utf8)
        + [0, 0, 1, 0, 1]

    @Test("a pointer to itself (a loop) is rejected, not followed")
    func pointerLoop() {
        expectRejected(header() + [0xC0, 12, 0, 1, 0, 1], .badPointer, at: 12)
    }

    @Test("two pointers pointing at each other are rejected")
    func pointerCycle() {
        // Name at 12: label "a" then pointer to 17; at 17 a pointer back to 12.
        let bytes = header(qd: 1) + [1, 97, 0xC0, 17, 0, 1, 0, 1, 0xC0, 12] + [0, 0, 0, 0, 0, 0]
        expectRejected(bytes, .badPointer, at: 14)
    }

    @Test("an owner pointer to offset 12 is trusted only when a question was checked there")
    func ownerPointerToOffset12WithoutAQuestion() {
        // No question: offset 12 is the answer's own owner name, so C0 0C points at itself.
        expectRejected(header(qd: 0, an: 1) + [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1], .badPointer,
                       at: 12)
    }

    @Test("a forward pointer is rejected")
    func forwardPointer() {
        expectRejected(header() + [0xC0, 20, 0, 1, 0, 1] + [1, 97, 0], .badPointer, at: 12)
    }

    @Test("a pointer into the header is rejected")
    func pointerIntoHeader() {
        expectRejected(header(qd: 1, an: 1) + question + [0xC0, 2] + [0, 1, 0, 1, 0, 0, 0, 1, 0, 0], .badPointer)
    }

    @Test("a long chain of backward pointers ends at the hop limit, not in a loop")
    func pointerChainHopLimit() {
        // A root label at 12, then 200 pointers, each pointing at the one before (the first at 12).
        var bytes = header(qd: 0) + [0]
        var previous = 12
        for _ in 0..<200 {
            let here = bytes.count
            bytes += [0xC0 | UInt8(previous >> 8), UInt8(previous & 0xFF)]
            previous = here
        }
        bytes.withUnsafeBytes { buffer in
            var walker = DNSNameWalker(buffer, at: previous, limit: buffer.count)
            #expect(throws: DNSParseError(.tooManyPointers, at: 13 + 2 * (199 - DNSNameWalker.maxPointers))) {
                _ = try walker.skip()
            }
            var shortChain = DNSNameWalker(buffer, at: 13 + 2 * (DNSNameWalker.maxPointers - 1), limit: buffer.count)
            #expect(throws: Never.self) { _ = try shortChain.skip() }
        }
    }

    @Test("a 64-byte label is rejected (length bytes 64…191 are not labels)")
    func label64() {
        expectRejected(header() + [64] + Array(repeating: 97, count: 64) + [0, 0, 1, 0, 1], .badLabelType, at: 12)
    }

    @Test("a 256-byte name is rejected even when every label is legal")
    func name256() {
        // Four 63-byte labels = 256 bytes with the root label.
        let labels = Array(repeating: [UInt8(63)] + Array(repeating: UInt8(97), count: 63), count: 4).flatMap { $0 }
        expectRejected(header() + labels + [0, 0, 1, 0, 1], .nameTooLong)
        // 255 exactly is fine: 3 × 63 + one 61-byte label + root.
        let label63: [UInt8] = [63] + Array(repeating: 97, count: 63)
        let full: [UInt8] = Array(repeating: label63, count: 3).flatMap { $0 }
        let last: [UInt8] = [61] + Array(repeating: 97, count: 61) + [0, 0, 1, 0, 1]
        let ok = full + last
        #expect(throws: Never.self) { try DNSMessage(parsing: header() + ok) }
    }

    @Test("a name that is 256 bytes only through a pointer is rejected too")
    func name256ThroughPointer() {
        let labels = Array(repeating: [UInt8(63)] + Array(repeating: UInt8(97), count: 63), count: 3).flatMap { $0 }
        let first = labels + [0]  // 193 bytes at 12
        // Second name: a 62-byte label + pointer to the first = 63 + 193 = 256.
        let second: [UInt8] = [62] + Array(repeating: 98, count: 62) + [0xC0, 12]
        expectRejected(header(qd: 2) + first + [0, 1, 0, 1] + second + [0, 1, 0, 1], .nameTooLong)
    }

    @Test("counts promising more than the packet holds fail before any record is read")
    func countsBeyondPacket() {
        expectRejected(header(qd: 1, an: 5) + question, .countsExceedPacket, at: 4)
        expectRejected(header(qd: 1, ar: 3) + question + [0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0], .countsExceedPacket)
    }

    @Test("65,535 questions promised by a small packet fail at once")
    func maxQuestions() {
        expectRejected(header(qd: 0xFFFF) + question, .countsExceedPacket, at: 4)
        expectRejected(header(qd: 0xFFFF, an: 0xFFFF, ns: 0xFFFF, ar: 0xFFFF) + question, .countsExceedPacket, at: 4)
    }

    @Test("counts that fit the size but not the content fail as truncated")
    func countsFitSizeNotContent() {
        // Claims 2 answers; 11 spare zero bytes fit one minimal record, but the second is missing.
        let answer: [UInt8] = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1]
        expectRejected(header(qd: 1, an: 3) + question + answer + Array(repeating: 0, count: 11) + [0], .truncated)
    }

    @Test("RDATA running past the packet is rejected")
    func truncatedRdata() {
        let answer: [UInt8] = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2]
        expectRejected(header(qd: 1, an: 1) + question + answer, .truncated)
    }

    @Test("RDATA whose fields do not fill RDLENGTH exactly is rejected")
    func rdataLengthMismatch() {
        let shortA: [UInt8] = [0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 3, 192, 0, 2]
        expectRejected(header(qd: 1, an: 1) + question + shortA, .badRecordData)
        // MX whose name runs past RDLENGTH.
        let mx: [UInt8] = [0xC0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 4, 0, 10, 1, 97, 0]
        expectRejected(header(qd: 1, an: 1) + question + mx, .truncated)
        // TXT string longer than what is left.
        let txt: [UInt8] = [0xC0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 0, 3, 5, 97, 97]
        expectRejected(header(qd: 1, an: 1) + question + txt, .truncated)
    }

    @Test("a truncated header is rejected by the view and the parser")
    func shortHeader() {
        for length in 0..<12 { expectRejected(Array(header().prefix(length)), .truncated) }
    }

    @Test("reserved label types 01 and 10 are rejected")
    func reservedLabelTypes() {
        expectRejected(header() + [0x40, 0, 0, 1, 0, 1], .badLabelType, at: 12)
        expectRejected(header() + [0x80, 0, 0, 1, 0, 1], .badLabelType, at: 12)
    }

    @Test("two OPT records, or an OPT in the answer section, are rejected")
    func optRules() {
        let opt: [UInt8] = [0, 0, 41, 0x10, 0, 0, 0, 0, 0, 0, 0]
        expectRejected(header(qd: 1, ar: 2) + question + opt + opt, .badOPT, viewToo: false)
        expectRejected(header(qd: 1, an: 1) + question + opt, .badOPT, viewToo: false)
    }
}
