import DNSMessage
import DNSQuery
import Testing

/// What a reply must be to answer a query, beyond its id and source: the question exactly as asked
/// (with 0x20, in the case sent), the query's opcode; and what bytes after its last record do.
/// Each test plays the server: the reply under test, then the right one, so a reply wrongly taken
/// shows in the outcome and the counters, and a reply rightly dropped leaves the query answered.
@Suite struct ReplyCheckTests {
    /// The offsets of the question name's letters in a packet (the name starts at 12, uncompressed).
    private func letterOffsets(_ query: ScriptedServer.Query) -> [Int] {
        let wire = query.message.questions[0].name.wire
        return (0..<wire.count).filter { wire[$0] | 0x20 >= 0x61 && wire[$0] | 0x20 <= 0x7A }.map { 12 + $0 }
    }

    @Test func withCaseRandomizationAReplyEchoingTheQuestionWithEveryLetterFlippedIsDropped() throws {
        var request = try DNSQueryRequest("case.check.example.test.", type: .a)
        request.options.randomizeCase = true
        let (outcome, counters) = try scriptedQuery(request) { server in
            let query = try #require(server.receive())
            var flipped = ScriptedServer.answer(query, address: DNSIPv4Address(198, 51, 100, 66))
            let letters = letterOffsets(query)
            #expect(letters.count == 20)
            for offset in letters { flipped[offset] ^= 0x20 }
            server.send(flipped, to: query)
            server.send(ScriptedServer.answer(query), to: query)
        }
        #expect(counters.droppedWrongQuestion == 1)
        let answer = try #require(outcome?.result?.message?.answers.first)
        #expect(answer.data == .a(DNSIPv4Address(192, 0, 2, 1)))
    }

    @Test func withoutCaseRandomizationTheSameFlippedReplyIsTheAnswer() throws {
        let request = try DNSQueryRequest("case.check.example.test.", type: .a)
        let (outcome, counters) = try scriptedQuery(request) { server in
            let query = try #require(server.receive())
            var flipped = ScriptedServer.answer(query, address: DNSIPv4Address(198, 51, 100, 66))
            for offset in letterOffsets(query) { flipped[offset] ^= 0x20 }
            server.send(flipped, to: query)
        }
        #expect(counters.droppedWrongQuestion == 0)
        #expect(outcome?.result?.message?.answers.first?.data == .a(DNSIPv4Address(198, 51, 100, 66)))
    }

    @Test(arguments: [DNSOpcode.notify, .update, .status, DNSOpcode(rawValue: 15)])
    func aReplyWithAnotherOpcodeThanTheQuerysIsDroppedAndCounted(_ opcode: DNSOpcode) throws {
        let request = try DNSQueryRequest("opcode.example.test.", type: .a)
        let (outcome, counters) = try scriptedQuery(request) { server in
            let query = try #require(server.receive())
            var other = ScriptedServer.answer(query, address: DNSIPv4Address(198, 51, 100, 66))
            other[2] = other[2] & 0x87 | opcode.rawValue << 3
            server.send(other, to: query)
            server.send(ScriptedServer.answer(query), to: query)
        }
        #expect(counters.droppedWrongOpcode == 1 && counters.dropped == 1)
        #expect(outcome?.result?.message?.answers.first?.data == .a(DNSIPv4Address(192, 0, 2, 1)))
    }

    @Test(arguments: [1, 2, 300])
    func bytesAfterTheLastRecordAreCountedAndFlaggedAndTheAnswerKept(_ count: Int) throws {
        let request = try DNSQueryRequest("trailing.example.test.", type: .a)
        let (outcome, counters) = try scriptedQuery(request) { server in
            let query = try #require(server.receive())
            server.send(ScriptedServer.answer(query) + [UInt8](repeating: 0xC0, count: count), to: query)
        }
        let result = try #require(outcome?.result)
        #expect(result.summary.trailingBytes == UInt16(count))
        #expect(counters.repliesWithTrailingBytes == 1 && counters.dropped == 0)
        #expect(result.message?.answers.first?.data == .a(DNSIPv4Address(192, 0, 2, 1)))
    }

    @Test func aWellFormedReplyHasNoTrailingBytes() throws {
        let request = try DNSQueryRequest("exact.example.test.", type: .a)
        let (outcome, counters) = try scriptedQuery(request) { server in
            let query = try #require(server.receive())
            server.send(ScriptedServer.answer(query), to: query)
        }
        #expect(outcome?.result?.summary.trailingBytes == 0)
        #expect(counters.repliesWithTrailingBytes == 0)
    }
}
