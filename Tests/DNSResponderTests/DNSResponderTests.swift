import DNSMessage
import DNSResponder
import EventReactor
import EvqueryTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("DNSResponder: answers")
struct ResponderAnswerTests {
    @Test func synthesizedNamesGetTheSameAnswerEveryTimeAndTheQuestionCaseIsKept() throws {
        try withResponder { responder, client in
            let first = try #require(try client.ask("q42.load.evq.test.", .a))
            let again = try #require(try client.ask("Q42.LoAd.evq.test.", .a))
            #expect(first.rcode == .noError && first.answers.count == 1)
            #expect(first.answers.map(\.data) == again.answers.map(\.data))
            #expect(again.questions.first?.name.isIdentical(to: try DNSName(parsing: "Q42.LoAd.evq.test.")) == true)
            let aaaa = try #require(try client.ask("q42.load.evq.test.", .aaaa))
            let txt = try #require(try client.ask("q42.load.evq.test.", .txt))
            #expect(aaaa.answers.first?.type == .aaaa && txt.answers.first?.type == .txt)
            let mx = try #require(try client.ask("q42.load.evq.test.", .mx))
            #expect(mx.rcode == .noError && mx.answers.isEmpty)
            #expect(responder.counters().answered == 5)
        }
    }

    @Test func zoneNamesAreAnsweredMissingOnesGetNXDOMAINWithTheSOAAndOthersAreRefused() throws {
        try withResponder({ try $0.loadZone(text: exampleZone) }) { responder, client in
            let www = try #require(try client.ask("www.example.test.", .a))
            #expect(www.rcode == .noError && www.header.isAuthoritative)
            #expect(Set(www.answers.map { "\($0.data)" }) == ["192.0.2.1", "192.0.2.2"])
            let alias = try #require(try client.ask("alias.example.test.", .a))
            #expect(alias.answers.first?.type == .cname)
            let missing = try #require(try client.ask("nope.example.test.", .a))
            #expect(missing.rcode == .nxDomain && missing.authorities.first?.type == .soa)
            #expect(missing.authorities.first?.name == (try DNSName(parsing: "example.test.")))
            let noData = try #require(try client.ask("www.example.test.", .mx))
            #expect(noData.rcode == .noError && noData.answers.isEmpty && noData.authorities.count == 1)
            let outside = try #require(try client.ask("example.org.", .a))
            #expect(outside.rcode == .refused)
            let counters = responder.counters()
            #expect(counters.answered == 3 && counters.nxdomain == 1 && counters.refused == 1)
        }
    }

    @Test func answerTooBigForTheClientBufferIsTruncatedThenWholeWithABiggerBufferOrOverTCP() throws {
        try withResponder({ try $0.loadZone(text: exampleZone) }) { responder, client in
            let plain = try #require(try client.ask("big.example.test.", .txt))
            #expect(plain.header.isTruncated && plain.answers.isEmpty)
            let edns = try #require(try client.ask("big.example.test.", .txt, ednsSize: 4096))
            #expect(!edns.header.isTruncated && edns.answers.count == 12 && edns.edns?.udpPayloadSize == 1232)
            #expect(responder.counters().truncatedBySize == 1)
            // The real thing over TCP: dig, as a person would ask after a TC answer.
            let dig = try ChildProcess.run(
                "/usr/bin/dig", ["+tcp", "+short", "@127.0.0.1", "-p", "\(responder.port)", "big.example.test.", "TXT"],
                timeout: .seconds(30))
            #expect(dig.status == 0 && dig.output.split(separator: "\n").count == 12)
            #expect(responder.counters().tcpQueries >= 1)
        }
    }
}

@Suite("DNSResponder: hostile input")
struct ResponderHostileInputTests {
    @Test func garbageImpossibleCountsAndPointerLoopsGetFORMERROrAreDroppedAndCountedNeverACrash() throws {
        try withResponder { responder, client in
            // 65,535 questions promised in a 30-byte packet.
            var many = ResponderClient.query("q1.load.evq.test.", .a)
            many[4] = 0xFF
            many[5] = 0xFF
            client.send(many)
            let formerr = try #require(client.receive())
            #expect(formerr.bytes.count == 12 && formerr.bytes[3] & 0x0F == 1)
            // A question whose name points at itself.
            var loop = ResponderClient.query("q1.load.evq.test.", .a)
            loop[12] = 0xC0
            loop[13] = 0x0C
            client.send(loop)
            let loopReply = try #require(client.receive())
            #expect(loopReply.bytes[3] & 0x0F == 1)
            // Shorter than a header, and a response: dropped.
            client.send([1, 2, 3, 4, 5])
            var response = ResponderClient.query("q1.load.evq.test.", .a)
            response[2] |= 0x80
            client.send(response)
            // 2,000 random packets that claim to be queries.
            var rng = SplitMix64(seed: 7)
            for _ in 0..<2000 {
                let length = Int.random(in: 0...300, using: &rng)
                var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
                if bytes.count > 2 { bytes[2] &= 0x7F }
                client.send(bytes)
            }
            // Still answering (once the replies to the packets that did parse are read), and every
            // datagram is accounted for.
            while client.receive(timeoutMs: 300) != nil {}
            let normal = try #require(try client.ask("q9.load.evq.test.", .a, id: 0x4242))
            #expect(normal.header.id == 0x4242 && normal.answers.count == 1)
            let counters = responder.counters()
            #expect(counters.received == 2005)
            #expect(counters.formerr >= 2 && counters.droppedNotAQuery >= 2)
            #expect(counters.received == counters.answered + counters.nxdomain + counters.refused + counters.formerr
                + counters.notimp + counters.droppedNotAQuery)
        }
    }

    @Test func stopLeavesNoThreadBehindAndFreesThePort() throws {
        var configuration = DNSResponder.Configuration()
        configuration.threads = 3
        configuration.threadName = "evq-rt-leak"
        let responder = try DNSResponder(configuration)
        try responder.start()
        let port = responder.port
        // Each thread names itself once it runs.
        for _ in 0..<2000 where threads(named: "evq-rt-leak") < 4 { usleep(1000) }
        #expect(threads(named: "evq-rt-leak") == 4)
        responder.stop()
        responder.stop()
        // A joined thread's /proc entry can outlive the join by a moment (seen under ThreadSanitizer
        // on a loaded machine); a thread that was not stopped stays listed for good.
        for _ in 0..<2000 where threads(named: "evq-rt-leak") > 0 { usleep(1000) }
        #expect(threads(named: "evq-rt-leak") == 0)
        // Every socket on the port is closed: a plain socket without SO_REUSEPORT binds it again,
        // which the kernel refuses while any socket of ours (all have SO_REUSEPORT) still holds it.
        #expect(bindsWithoutReusePort(port: port, type: Int32(SOCK_DGRAM.rawValue)) == 0)
        #expect(bindsWithoutReusePort(port: port, type: Int32(SOCK_STREAM.rawValue)) == 0)
    }

    /// Binds a fresh socket of `type` to 127.0.0.1:`port` with no options: 0, or the errno.
    private func bindsWithoutReusePort(port: UInt16, type: Int32) -> Int32 {
        let fd = socket(AF_INET, type, 0)
        defer { close(fd) }
        return Loopback.bind(fd, port: port)
    }

    private func threads(named prefix: String) -> Int {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.filter {
            (try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8))?.hasPrefix(prefix) == true
        }.count
    }
}

@Suite("DNSResponder: faults")
struct ResponderFaultTests {
    private func withFault<T>(_ set: (inout DNSFaults) -> Void, _ body: (DNSResponder, ResponderClient) throws -> T)
        throws -> T
    {
        try withResponder({ configuration in set(&configuration.faults) }, body)
    }

    @Test func dropAnswersNothingAndCountsIt() throws {
        try withFault({ $0.drop = 1 }) { responder, client in
            client.send(ResponderClient.query("q1.load.evq.test.", .a))
            #expect(client.receive(timeoutMs: 300) == nil)
            #expect(responder.counters().faultDropped == 1)
        }
    }

    @Test func delayedAnswerStillComesAndIsCounted() throws {
        try withFault({ $0.delayed = 1; $0.delay = .fixed(30_000_000) }) { responder, client in
            let reply = try #require(try client.ask("q1.load.evq.test.", .a))
            #expect(reply.answers.count == 1)
            #expect(responder.counters().faultDelayed == 1)
        }
    }

    @Test func truncateSetsTCWithNoRecordsAndServfailSaysSo() throws {
        try withFault({ $0.truncate = 1 }) { responder, client in
            let reply = try #require(try client.ask("q1.load.evq.test.", .a))
            #expect(reply.header.isTruncated && reply.answers.isEmpty)
            #expect(responder.counters().faultTruncated == 1)
        }
        try withFault({ $0.servfail = 1 }) { responder, client in
            let reply = try #require(try client.ask("q1.load.evq.test.", .a))
            #expect(reply.rcode == .servFail)
            #expect(responder.counters().faultServfail == 1)
        }
    }

    @Test func malformedAnswersFailToParseInEachOfTheirThreeForms() throws {
        try withFault({ $0.malformed = 1 }) { responder, client in
            for index in 0..<3 {
                client.send(ResponderClient.query("q\(index).load.evq.test.", .a))
                let reply = try #require(client.receive())
                #expect(throws: DNSParseError.self) { try DNSMessage(parsing: reply.bytes) }
            }
            #expect(responder.counters().faultMalformed == 3)
        }
    }

    @Test func wrongIDAndWrongQuestionAnswersDoNotMatchTheQuery() throws {
        try withFault({ $0.wrongID = 1 }) { responder, client in
            let reply = try #require(try client.ask("q1.load.evq.test.", .a, id: 0x0101))
            #expect(reply.header.id != 0x0101)
            #expect(responder.counters().faultWrongID == 1)
        }
        try withFault({ $0.wrongQuestion = 1 }) { responder, client in
            for name in ["q1.load.evq.test.", "x1.load.evq.test.", "91.load.evq.test."] {
                let reply = try #require(try client.ask(name, .a))
                #expect(reply.questions.first?.name != (try DNSName(parsing: name)))
            }
            #expect(responder.counters().faultWrongQuestion == 3)
        }
    }

    @Test func duplicateAnswersTwiceAndWrongPortAnswersFromAnotherPort() throws {
        try withFault({ $0.duplicate = 1 }) { responder, client in
            client.send(ResponderClient.query("q1.load.evq.test.", .a))
            let first = try #require(client.receive())
            let second = try #require(client.receive())
            #expect(first.bytes == second.bytes)
            #expect(responder.counters().faultDuplicated == 1)
        }
        try withFault({ $0.wrongSourcePort = 1 }) { responder, client in
            client.send(ResponderClient.query("q1.load.evq.test.", .a))
            let reply = try #require(client.receive())
            #expect(reply.sourcePort != responder.port)
            #expect(responder.counters().faultWrongSourcePort == 1)
        }
    }

    @Test func faultDrawsReplayUnderTheSameSeed() throws {
        func run() throws -> [Bool] {
            try withResponder({ $0.faults.drop = 0.5; $0.seed = 99 }) { _, client in
                (0..<40).map { index in
                    client.send(ResponderClient.query("q\(index).load.evq.test.", .a))
                    return client.receive(timeoutMs: 100) != nil
                }
            }
        }
        let first = try run()
        #expect(first.contains(true) && first.contains(false))
        #expect(try run() == first)
    }
}
