import DNSMessage

/// Turns a correct answer into the faulty one a `FaultDraw` asked for, in place.
enum FaultApplier {
    /// Rewrites the answer of `length` bytes in `out` (whose question is a well-formed, uncompressed
    /// name at offset 12); returns the new length. `variant` picks the kind of malformation.
    static func apply(
        _ change: FaultDraw.Change, to out: UnsafeMutableRawBufferPointer, length: Int, variant: UInt64,
        counters: inout DNSResponderCounters
    ) -> Int {
        guard length > 12, let nameLength = AnswerWriter.uncompressedNameLength(UnsafeRawBufferPointer(out)) else {
            return length
        }
        let questionEnd = 12 + nameLength + 4
        switch change {
        case .none:
            return length
        case .truncate:
            counters.faultTruncated += 1
            out[2] |= 0x02
            out[3] &= 0xF0
            zeroCounts(out)
            return questionEnd
        case .servfail:
            counters.faultServfail += 1
            out[3] = out[3] & 0xF0 | UInt8(DNSRcode.servFail.rawValue)
            zeroCounts(out)
            return questionEnd
        case .malformed:
            counters.faultMalformed += 1
            switch variant % 3 {
            case 0:
                // Cut short inside the question.
                return 12 + nameLength / 2
            case 1:
                // The question's name becomes a pointer to itself.
                out[12] = 0xC0
                out[13] = 0x0C
                return length
            default:
                // Promises far more answers than the packet holds.
                AnswerWriter.put16(out, 6, 0xFFFF)
                return length
            }
        case .wrongID:
            counters.faultWrongID += 1
            out[0] ^= 0xA5
            return length
        case .wrongQuestion:
            counters.faultWrongQuestion += 1
            // Another first letter: a different name, whatever the case.
            guard out[12] > 0 else { return length }
            let first = out[13] | 0x20
            out[13] = first >= 0x61 && first <= 0x7A ? (first - 0x61 + 1) % 26 + 0x61 : (out[13] == 0x78 ? 0x79 : 0x78)
            return length
        }
    }

    private static func zeroCounts(_ out: UnsafeMutableRawBufferPointer) {
        for index in 6..<12 { out[index] = 0 }
    }
}
