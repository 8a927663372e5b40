@testable import DNSMessage
import Testing

/// Marsaglia's xorshift64: a tiny seeded generator so every run mutates the same way.
struct Xorshift64: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

/// Applies one random mutation: a bit flip, a truncation, a byte insertion, a count overwrite,
/// a pointer overwrite, or a length-byte overwrite.
func mutate(_ packet: inout [UInt8], using rng: inout Xorshift64) {
    guard !packet.isEmpty else {
        packet.append(UInt8.random(in: 0...255, using: &rng))
        return
    }
    let position = Int.random(in: 0..<packet.count, using: &rng)
    switch Int.random(in: 0..<6, using: &rng) {
    case 0:
        packet[position] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
    case 1:
        packet.removeSubrange(position...)
    case 2:
        packet.insert(UInt8.random(in: 0...255, using: &rng), at: position)
    case 3:
        let field = 4 + 2 * Int.random(in: 0..<4, using: &rng)
        guard field + 1 < packet.count else { return }
        let value = [0, 1, 2, 20, 0xFF, 0xFFFF, UInt16.random(in: 0...0xFFFF, using: &rng)].randomElement(using: &rng)!
        packet[field] = UInt8(value >> 8)
        packet[field + 1] = UInt8(value & 0xFF)
    case 4:
        guard position + 1 < packet.count else { return }
        let target = Int.random(in: 0..<min(packet.count + 8, 0x3FFF), using: &rng)
        packet[position] = 0xC0 | UInt8(target >> 8)
        packet[position + 1] = UInt8(target & 0xFF)
    default:
        packet[position] = [0, 1, 63, 64, 0x3F, 0x7F, 0xBF, 0xFF].randomElement(using: &rng)!
    }
}

@Suite("Deterministic mutation run")
struct MutationTests {
    @Test("100,000 mutated real packets never trap; whatever parses re-serializes and parses back equal")
    func mutatedPacketsNeverTrap() throws {
        var rng = Xorshift64(state: 0x5EED_0D45)
        let seeds = Fixture.all.flatMap { [$0.reply, $0.query] }
        var parsed = 0
        var rejected: [DNSParseError.Reason: Int] = [:]
        for round in 0..<100_000 {
            var packet = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &rng) { mutate(&packet, using: &rng) }
            do {
                let message = try DNSMessage(parsing: packet)
                parsed += 1
                let again = try DNSMessage(parsing: message.serialized())
                #expect(again == message)
                if round % 16 == 0 { _ = message.description }
            } catch {
                rejected[error.reason, default: 0] += 1
            }
            packet.withUnsafeBytes { bytes in
                guard let view = try? DNSMessageView(bytes) else { return }
                _ = view.questionMatches(name: "www.example.com.", type: .a)
                var records = view.records()
                while let record = try? records.next() {
                    _ = record.ipv4Address
                    _ = try? record.decoded()
                }
            }
        }
        // The run must exercise both outcomes and most rejection reasons, or it tests nothing.
        #expect(parsed > 5_000)
        #expect(rejected.values.reduce(0, +) > 20_000)
        #expect(rejected.keys.count >= 6, "\(rejected)")
    }

    @Test("bytesEqual finds a difference at any position, for every length up to 40 and every offset up to 8")
    func bytesEqualFindsEveryDifference() {
        var rng = Xorshift64(state: 0xB17E_5E01)
        for count in 0...40 {
            for offset in 0...8 {
                let expected = (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
                var bytes = (0..<offset).map { _ in UInt8.random(in: 0...255, using: &rng) } + expected + [0xEE]
                bytes.withUnsafeBytes { b in expected.withUnsafeBytes { #expect(DNSMessageView.bytesEqual(b, at: offset, $0)) } }
                for position in 0..<count {
                    bytes[offset + position] ^= 0x20
                    bytes.withUnsafeBytes { b in
                        expected.withUnsafeBytes {
                            #expect(!DNSMessageView.bytesEqual(b, at: offset, $0), "length \(count), byte \(position)")
                        }
                    }
                    bytes[offset + position] ^= 0x20
                }
            }
        }
    }

    @Test("DNSMessageView.reply reads every mutated packet as init plus questionMatches do: same view, errors and verdict")
    func replyViewAgreesWithInitAndQuestionMatches() throws {
        var rng = Xorshift64(state: 0x4E91_7A5E)
        let seeds = try Fixture.all.map(\.reply).filter { try DNSMessage(parsing: $0).questions.count == 1 }
        var fastMatches = 0, mismatches = 0, refused = 0
        for round in 0..<100_000 {
            var packet = seeds[round % seeds.count]
            let asked = try DNSMessage(parsing: packet).questions[0]
            for _ in 0..<Int.random(in: 0...3, using: &rng) { mutate(&packet, using: &rng) }
            let caseSensitive = round % 2 == 0
            asked.name.wire.withUnsafeBytes { name in
                packet.withUnsafeBytes { bytes in
                    let view = try? DNSMessageView(bytes)
                    let expected = view?.questionMatches(plainName: name, type: asked.type, class: asked.class,
                                                         caseSensitive: caseSensitive)
                    let reply = try? DNSMessageView.reply(bytes, askedName: name, type: asked.type,
                                                          class: asked.class, caseSensitive: caseSensitive)
                    #expect(reply?.view.answerOffset == view?.answerOffset, "round \(round)")
                    #expect(reply?.questionMatches == expected, "round \(round)")
                    switch reply?.questionMatches {
                    case true?: fastMatches += 1
                    case false?: mismatches += 1
                    case nil: refused += 1
                    }
                }
            }
        }
        #expect(fastMatches > 10_000 && mismatches > 1_000 && refused > 10_000,
                "\(fastMatches) matched, \(mismatches) did not, \(refused) refused")
    }

    @Test("checkRecords accepts exactly the mutated packets the record iterator walks, with the same OPT rcode bits or error")
    func checkRecordsAgreesWithTheIterator() {
        var rng = Xorshift64(state: 0xC4EC_4EC5)
        let seeds = Fixture.all.flatMap { [$0.reply, $0.query] }
        var accepted = 0, refused = 0, withExtendedRcode = 0
        for round in 0..<100_000 {
            var packet = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 0...3, using: &rng) { mutate(&packet, using: &rng) }
            packet.withUnsafeBytes { bytes in
                guard let view = try? DNSMessageView(bytes) else { return }
                // The iterator's verdict (the last OPT record's extended rcode bits, or its error).
                var walked: Result<UInt8, DNSParseError> = .success(0)
                var records = view.records()
                do throws(DNSParseError) {
                    while let record = try records.next() {
                        if record.section == .additional, let edns = record.ednsHeader {
                            walked = .success(edns.extendedRcode)
                        }
                    }
                } catch {
                    walked = .failure(error)
                }
                #expect(Result { () throws(DNSParseError) in try view.checkRecords() } == walked, "round \(round)")
                let checked = try? view.checkRecords()
                if let checked {
                    accepted += 1
                    if checked != 0 { withExtendedRcode += 1 }
                } else {
                    refused += 1
                }
            }
        }
        // Both verdicts, and OPT records with extended rcode bits, must occur, or this tests nothing.
        #expect(accepted > 10_000 && refused > 10_000 && withExtendedRcode > 100,
                "\(accepted) accepted, \(refused) refused, \(withExtendedRcode) with extended rcode bits")
    }
}

@Suite("Deterministic mutation run: zone text")
struct ZoneMutationTests {
    @Test("50,000 mutated zone lines never trap: each parses or throws a DNSPresentationError")
    func mutatedZoneLinesNeverTrap() {
        var rng = Xorshift64(state: 0x2011_E5EE)
        let lines = Fixture.zoneText.split(separator: "\n").map { Array($0.utf8) }
        let alphabet = Array("\\\"();@$ \t\n.0123456789abcdefABCDEF#:".utf8)
        var parsed = 0
        for round in 0..<50_000 {
            var line = lines[round % lines.count] + [0x0A] + lines[(round * 7 + 3) % lines.count]
            for _ in 0..<Int.random(in: 1...3, using: &rng) {
                guard !line.isEmpty else { break }
                let position = Int.random(in: 0..<line.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: line[position] = alphabet.randomElement(using: &rng)!
                case 1: line.insert(alphabet.randomElement(using: &rng)!, at: position)
                default: line.removeSubrange(position..<min(line.count, position + 4))
                }
            }
            if let records = try? DNSZoneParser.parse(String(decoding: line, as: UTF8.self), origin: "example.com.",
                                                      defaultTTL: 60) {
                parsed += 1
                for record in records { _ = record.description }
            }
        }
        #expect(parsed > 2_000, "\(parsed)")
        #expect(DNSZoneParser.ttlValue(String(repeating: "4294967295w", count: 8000)) == nil)
    }
}
