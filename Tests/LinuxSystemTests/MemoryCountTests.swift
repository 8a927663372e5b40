import LinuxSystem
import Testing

/// `Memory.count(of:in:length:)` against a plain loop, at every length and start around the
/// 16- and 32-byte steps and the 255-step batches of its lane counters.
@Suite struct MemoryCountTests {
    @Test func countsEqualAPlainLoopAtEveryLengthAndAlignment() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let bytes = (0..<20_000).map { _ -> UInt8 in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            // About one newline in eight, and every other value too.
            return state >> 61 == 0 ? 0x0A : UInt8(truncatingIfNeeded: state >> 33)
        }
        bytes.withUnsafeBytes { raw in
            for start in 0..<33 {
                for length in Array(0..<100) + [255 * 16, 255 * 32 - 1, 255 * 32, 255 * 32 + 33, 19_000] {
                    let slice = raw[start..<(start + length)]
                    let expected = slice.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
                    #expect(Memory.count(of: 0x0A, in: raw.baseAddress! + start, length: length) == expected,
                            "start \(start), length \(length)")
                }
            }
            #expect(Memory.count(of: 0xFF, in: raw.baseAddress!, length: raw.count)
                    == raw.reduce(0) { $0 + ($1 == 0xFF ? 1 : 0) })
        }
        // All one value: every lane counter at its most (255) before it is summed.
        let newlines = [UInt8](repeating: 0x0A, count: 255 * 32 * 2 + 7)
        newlines.withUnsafeBytes { #expect(Memory.count(of: 0x0A, in: $0.baseAddress!, length: $0.count) == $0.count) }
    }
}
