import Testing

@testable import LogQuery

@Suite struct LiteralSearcherTests {
    /// The first `start` in `from...to - literal.count` where `literal` matches, byte by byte.
    static func naiveFind(_ literal: [UInt8], in hay: [UInt8], from: Int, to: Int) -> Int? {
        guard to - from >= literal.count else { return nil }
        return (from...(to - literal.count)).first { start in
            literal.indices.allSatisfy { hay[start + $0] == literal[$0] }
        }
    }

    /// Every literal length 1…40, every start alignment and every end edge of the range searched:
    /// `find` (`memchr` of the rarest byte, handing over to the pair loop where candidates are dense,
    /// as in this small alphabet) and the SIMD pair loop alone, with its 64- and 16-start blocks and
    /// its scalar tail, find what a naive search finds, and never a match that runs past `to` (the
    /// bytes after `to` complete a match on purpose).
    @Test func everyLengthAlignmentAndEdgeFindsWhatANaiveSearchFinds() {
        // A small alphabet so partial matches and pair-only candidates are frequent; a fixed
        // scramble instead of a random generator, so a failure replays.
        let alphabet = Array("Fwab ".utf8)
        func pick(_ i: Int, _ salt: Int) -> UInt8 {
            alphabet[Int(((UInt(i) &* 2_654_435_761 &+ UInt(salt) &* 40_503) >> 7) % 5)]
        }
        for length in 1...40 {
            let literal = (0..<length).map { pick($0, length) }
            var hay = (0..<(200 + 2 * length)).map { pick($0, length + 1_000) }
            // A few whole copies, one of them straddling every `to` tried below.
            for at in [3, 70, 131] where at + length <= hay.count {
                hay.replaceSubrange(at..<(at + length), with: literal)
            }
            let searcher = literal.withUnsafeBytes { LiteralSearcher(literal, sample: $0) }
            hay.withUnsafeBytes { raw in
                for from in 0..<70 {
                    for to in Set([from, from + length - 1, from + length, from + 31 + length, 131 + length - 1,
                        131 + length, hay.count]) where to >= from && to <= hay.count
                    {
                        let expected = Self.naiveFind(literal, in: hay, from: from, to: to)
                        let found = searcher.find(in: raw.baseAddress!, from: from, to: to)
                        #expect(found == expected, "length \(length), from \(from), to \(to)")
                        if length > 1 {
                            let paired = searcher.findPairs(in: raw.baseAddress!, from: from, to: to)
                            #expect(paired == expected, "pairs, length \(length), from \(from), to \(to)")
                        }
                    }
                }
            }
        }
    }

    /// Every occurrence is found in order by restarting after each hit, in a haystack with a hit in
    /// every lane of a 32-start block and back-to-back overlapping ones.
    @Test func restartingAfterEachHitFindsEveryOccurrenceInOrder() {
        for literal in [Array("aa".utf8), Array("Failed password".utf8), Array("aFa".utf8)] {
            let hay = Array(String(repeating: "xxFailed passwordaaFaFa aaa", count: 40).utf8)
            let searcher = literal.withUnsafeBytes { LiteralSearcher(literal, sample: $0) }
            var found: [Int] = []
            hay.withUnsafeBytes { raw in
                var from = 0
                while let hit = searcher.find(in: raw.baseAddress!, from: from, to: hay.count) {
                    found.append(hit)
                    from = hit + 1
                }
            }
            var expected: [Int] = []
            var from = 0
            while let hit = Self.naiveFind(literal, in: hay, from: from, to: hay.count) {
                expected.append(hit)
                from = hit + 1
            }
            #expect(found == expected, "\(String(decoding: literal, as: UTF8.self))")
            #expect(!found.isEmpty)
        }
    }

    /// The pair is the two rarest bytes of the sample, two different byte values when the literal has
    /// them: a February log's headers (`Feb`) make `F` common, so the pair of `Failed password` avoids it.
    @Test func thePairIsTheTwoRarestDistinctBytesOfTheSample() {
        let literal = Array("Failed password".utf8)
        var histogram = [Int](repeating: 0, count: 256)
        for line in 0..<10 {
            for byte in "Feb  1 00:00:0\(line) db1 sshd[1]: Accepted publickey for root\n".utf8 {
                histogram[Int(byte)] += 1
            }
        }
        let (first, second) = LiteralSearcher.rarestPair(literal, histogram: histogram)
        #expect(first != second)
        #expect(literal[first] != literal[second])
        #expect(![literal[first], literal[second]].contains(UInt8(ascii: "F")))
        #expect(![literal[first], literal[second]].contains(UInt8(ascii: " ")))
        let same = Array("aaaa".utf8)
        let (a, b) = LiteralSearcher.rarestPair(same, histogram: histogram)
        #expect(a != b)
        #expect(LiteralSearcher.rarestPair([7], histogram: histogram) == (0, 0))
    }
}
