#if canImport(Glibc)
    import Glibc
#endif

/// Finds a literal in raw bytes by its two rarest bytes (a "packed pair", the idea of ripgrep's
/// memchr crate). "Rarest" is measured on a sample of the file being scanned, ties broken by how
/// common a byte is in text; for `Failed password` in syslog the pair is `F` and `w`.
///
/// The search first runs glibc's `memchr` (AVX2 where the CPU has it) for the rarest byte and checks
/// the other byte and then the whole literal at each candidate. When that byte turns out common in
/// the data (candidates closer than `denseGap` bytes on average, after `denseAfter` of them: the
/// sample was not typical), it hands over to a SIMD loop that compares both bytes at their offsets
/// for 64 starts per test (`SIMD16<UInt8>`: SSE2 on x86-64, NEON on arm64; no CPU feature test), so a
/// misleading sample costs at most memory speed. A one-byte literal is found with `memchr` alone.
/// Why `memchr` comes first: docs/design.md, "Small shapes on the hot paths".
final class LiteralSearcher: @unchecked Sendable {
    // Immutable after init; `@unchecked` for the raw pointer.
    let count: Int
    private let bytes: UnsafeMutableRawPointer
    /// Offsets of the rarest and the second rarest byte of the literal (equal for a one-byte literal).
    private let firstOffset: Int
    private let secondOffset: Int
    private let firstByte: UInt8
    private let secondByte: UInt8

    /// - Parameters:
    ///   - literal: the bytes to find (non-empty).
    ///   - sample: bytes typical of the data (the start of the file); may be empty.
    init(_ literal: [UInt8], sample: UnsafeRawBufferPointer) {
        precondition(!literal.isEmpty)
        count = literal.count
        let storage = UnsafeMutableRawPointer.allocate(byteCount: literal.count, alignment: 1)
        literal.withUnsafeBytes { storage.copyMemory(from: $0.baseAddress!, byteCount: literal.count) }
        bytes = storage
        var histogram = [Int](repeating: 0, count: 256)
        for byte in sample { histogram[Int(byte)] += 1 }
        let (first, second) = Self.rarestPair(literal, histogram: histogram)
        firstOffset = first
        secondOffset = second
        firstByte = literal[first]
        secondByte = literal[second]
    }

    deinit { bytes.deallocate() }

    /// The offsets of the two rarest bytes of `literal` by `histogram`, ties going to the byte least
    /// common in text generally (upper case first, the space last); the second has another value than
    /// the first when the literal has one, and another offset unless the literal is one byte.
    static func rarestPair(_ literal: [UInt8], histogram: [Int]) -> (Int, Int) {
        func generalRank(_ b: UInt8) -> Int {
            switch b {
            case UInt8(ascii: " "): 5
            case UInt8(ascii: "a")...UInt8(ascii: "z"): 4
            case UInt8(ascii: "0")...UInt8(ascii: "9"): 3
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): 1
            default: 2
            }
        }
        func rarer(_ a: Int, _ b: Int) -> Bool {
            let (x, y) = (literal[a], literal[b])
            return (histogram[Int(x)], generalRank(x)) < (histogram[Int(y)], generalRank(y))
        }
        let first = literal.indices.min(by: rarer)!
        let others = literal.indices.filter { $0 != first }
        let distinct = others.filter { literal[$0] != literal[first] }
        let second = (distinct.isEmpty ? others : distinct).min(by: rarer) ?? first
        return (first, second)
    }

    /// Whether the literal starts at `p`; literals of 4…16 bytes take two overlapping unaligned
    /// compares (first and last 4 or 8 bytes) instead of a call to `memcmp`.
    @inline(__always)
    private func matches(at p: UnsafeRawPointer) -> Bool {
        if count >= 4, count < 8 {
            return p.loadUnaligned(as: UInt32.self) == bytes.loadUnaligned(as: UInt32.self)
                && p.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
                    == bytes.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)
        }
        if count >= 8, count <= 16 {
            return p.loadUnaligned(as: UInt64.self) == bytes.loadUnaligned(as: UInt64.self)
                && p.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
                    == bytes.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)
        }
        return memcmp(p, bytes, count) == 0
    }

    /// Index of the first occurrence in `hay[from..<to]`, or `nil`. Reads no byte outside it.
    func find(in hay: UnsafeRawPointer, from: Int, to: Int) -> Int? {
        guard to &- from >= count else { return nil }
        if count == 1 {
            guard let q = memchr(hay + from, Int32(firstByte), to &- from) else { return nil }
            return hay.distance(to: UnsafeRawPointer(q))
        }
        var candidate = from &+ firstOffset
        let lastCandidate = to &- count &+ firstOffset
        var misses = 0
        while candidate <= lastCandidate {
            let rest = lastCandidate &+ 1 &- candidate
            guard let q = memchr(hay + candidate, Int32(firstByte), rest) else { return nil }
            let at = hay.distance(to: UnsafeRawPointer(q))
            let start = at &- firstOffset
            if hay.load(fromByteOffset: start &+ secondOffset, as: UInt8.self) == secondByte,
                matches(at: hay + start)
            {
                return start
            }
            candidate = at &+ 1
            misses &+= 1
            if misses >= Self.denseAfter, candidate &- from < misses &* Self.denseGap {
                return findPairs(in: hay, from: start &+ 1, to: to)
            }
        }
        return nil
    }

    /// Candidates of the rarest byte after which `find` judges their density.
    static let denseAfter = 16
    /// The mean distance (bytes) between candidates under which `find` switches to the pair loop.
    static let denseGap = 64

    /// `find` by the SIMD loop over both bytes of the pair (no `memchr`).
    func findPairs(in hay: UnsafeRawPointer, from: Int, to: Int) -> Int? {
        var start = from
        let one = SIMD16<UInt8>(repeating: firstByte)
        let two = SIMD16<UInt8>(repeating: secondByte)
        // Each lane is 0xFF where both bytes match, read as two 64-bit words per 16 starts.
        @inline(__always)
        func lanes(_ at: Int) -> SIMD2<UInt64> {
            let a = hay.loadUnaligned(fromByteOffset: at &+ firstOffset, as: SIMD16<UInt8>.self)
            let b = hay.loadUnaligned(fromByteOffset: at &+ secondOffset, as: SIMD16<UInt8>.self)
            return unsafeBitCast((a .== one) .& (b .== two), to: SIMD2<UInt64>.self)
        }
        // Blocks of 64 starts (one test per block), then of 16, while each start of a block leaves
        // room for the whole literal before `to`; the rest one by one.
        while start <= to &- 63 &- count {
            let l0 = lanes(start)
            let l1 = lanes(start &+ 16)
            let l2 = lanes(start &+ 32)
            let l3 = lanes(start &+ 48)
            let any = (l0 | l1) | (l2 | l3)
            if any[0] | any[1] != 0,
                let hit = firstMatch(hay, start, l0) ?? firstMatch(hay, start &+ 16, l1)
                    ?? firstMatch(hay, start &+ 32, l2) ?? firstMatch(hay, start &+ 48, l3)
            {
                return hit
            }
            start &+= 64
        }
        while start <= to &- 15 &- count {
            let l = lanes(start)
            if l[0] | l[1] != 0, let hit = firstMatch(hay, start, l) {
                return hit
            }
            start &+= 16
        }
        let lastStart = to &- count
        while start <= lastStart {
            if hay.load(fromByteOffset: start &+ firstOffset, as: UInt8.self) == firstByte,
                hay.load(fromByteOffset: start &+ secondOffset, as: UInt8.self) == secondByte,
                matches(at: hay + start)
            {
                return start
            }
            start &+= 1
        }
        return nil
    }

    /// The first start of `base + 0…15` whose lane is set in `lanes` (one byte per start, 0xFF or 0)
    /// and where the whole literal matches.
    @inline(__always)
    private func firstMatch(_ hay: UnsafeRawPointer, _ base: Int, _ lanes: SIMD2<UInt64>) -> Int? {
        firstMatch(hay, base, lanes[0]) ?? firstMatch(hay, base &+ 8, lanes[1])
    }

    /// The first start of `base + 0…7` whose lane is set in `lanes` (one byte per start) and where
    /// the whole literal matches.
    @inline(__always)
    private func firstMatch(_ hay: UnsafeRawPointer, _ base: Int, _ lanes: UInt64) -> Int? {
        var lanes = lanes
        while lanes != 0 {
            let bit = lanes.trailingZeroBitCount
            let start = base &+ bit &>> 3
            if matches(at: hay + start) { return start }
            lanes &= ~(0xFF &<< UInt64(bit))
        }
        return nil
    }
}
