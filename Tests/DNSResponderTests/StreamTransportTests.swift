import DNSMessage
import DNSResponder
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Every stream connection the responder accepted ended one way, once.
private func expectEveryConnectionClosedOnce(_ counters: DNSResponderCounters) {
    for (name, transport) in [("tcp", counters.tcp), ("dot", counters.dot), ("doh", counters.doh)] {
        #expect(transport.closed == transport.connections, "\(name): \(transport)")
    }
}

private func kdig(_ arguments: [String]) throws -> String {
    try runTool("/usr/bin/kdig", ["+short", "+timeout=3", "+retry=0"] + arguments).output
        .trimmingCharacters(in: .whitespacesAndNewlines)
}

private func curl(_ arguments: [String], input: Data? = nil) throws -> (status: Int32, output: String, data: Data) {
    try runTool("/usr/bin/curl", ["-sk", "--http2", "--max-time", "5"] + arguments, input: input)
}

@Suite("DNSResponder: TCP, DoT and DoH")
struct StreamTransportTests {
    @Test func kdigGetsTheUDPAnswerOverTCPOverTLSVerifiedOrNotAndOverHTTPS() throws {
        let (_, counters) = try withStreamResponder({ $0.tcpThreads = 2 }) { responder, certificate in
            let udp = try #require(try ResponderClient(port: responder.port).ask("www.load.evq.test.", .a))
            guard case .a(let address) = try #require(udp.answers.first).data else {
                Issue.record("no A record over UDP")
                return
            }
            let expected = "\(address)"
            let name = ["www.load.evq.test.", "A"]
            let verified = ["+tls-ca=\(certificate.certificate)", "+tls-hostname=localhost"]
            #expect(try kdig(["@127.0.0.1", "-p", "\(responder.port)", "+tcp"] + name) == expected)
            #expect(try kdig(["@127.0.0.1", "-p", "\(responder.dotPort!)", "+tls"] + name) == expected)
            #expect(try kdig(["@127.0.0.1", "-p", "\(responder.dotPort!)", "+tls"] + verified + name) == expected)
            #expect(try kdig(["@127.0.0.1", "-p", "\(responder.dohPort!)", "+https"] + verified + name) == expected)
            // A zone answer and NXDOMAIN over DoH as well.
            #expect(try kdig(["@127.0.0.1", "-p", "\(responder.dohPort!)", "+https", "+tls-ca=\(certificate.certificate)",
                              "+tls-hostname=localhost", "x.load.evq.test.", "TXT"]).hasPrefix("\"evq-"))
        }
        #expect(counters.tcp.queries == 1 && counters.tcp.answers == 1)
        #expect(counters.dot.handshakes == 2 && counters.dot.queries == 2 && counters.dot.answers == 2)
        #expect(counters.doh.handshakes == 2 && counters.doh.answers == 2 && counters.doh.badRequests == 0)
        expectEveryConnectionClosedOnce(counters)
    }

    @Test func aHundredPipelinedQueriesOnOneConnectionAreAllAnsweredDelayedOnesOutOfOrder() throws {
        let (order, counters) = try withStreamResponder({
            $0.faults.delayed = 0.3
            $0.faults.delay = .fixed(30_000_000)
        }) { responder, _ in
            let client = try StreamClient(port: responder.port)
            var batch: [UInt8] = []
            for id in 0..<100 {
                batch += StreamClient.framed(ResponderClient.query("q\(id).load.evq.test.", .a, id: UInt16(id)))
            }
            client.send(batch)
            var order: [UInt16] = []
            while order.count < 100, let reply = client.readMessage() {
                let message = try DNSMessage(parsing: reply)
                #expect(message.questions.first?.name == (try DNSName(parsing: "q\(message.header.id).load.evq.test.")))
                order.append(message.header.id)
            }
            return order
        }
        #expect(Set(order) == Set(0..<100) && order.count == 100)
        #expect(order != order.sorted(), "delayed answers come after later ones")
        #expect(counters.tcp.queries == 100 && counters.tcp.answers == 100 && counters.tcp.connections == 1)
        #expect(counters.faultDelayed > 0 && counters.faultDelayed < 100)
        expectEveryConnectionClosedOnce(counters)
    }

    /// Each answer-changing fault, drawn for every query, over TCP; truncate is UDP's alone.
    @Test(arguments: ["servfail", "truncate", "malformed", "wrongID", "wrongQuestion", "duplicate", "drop"])
    func everyFaultAppliesOverTCP(_ fault: String) throws {
        let (_, counters) = try withStreamResponder({
            switch fault {
            case "servfail": $0.faults.servfail = 1
            case "truncate": $0.faults.truncate = 1
            case "malformed": $0.faults.malformed = 1
            case "wrongID": $0.faults.wrongID = 1
            case "wrongQuestion": $0.faults.wrongQuestion = 1
            case "duplicate": $0.faults.duplicate = 1
            default: $0.faults.drop = 1
            }
        }) { responder, _ in
            let client = try StreamClient(port: responder.port, timeoutMs: 500)
            client.send(StreamClient.framed(ResponderClient.query("www.load.evq.test.", .a, id: 0x4242)))
            let reply = client.readMessage()
            switch fault {
            case "drop":
                #expect(reply == nil)
            case "malformed":
                #expect(throws: (any Error).self) { try DNSMessage(parsing: try #require(reply)) }
            default:
                let message = try DNSMessage(parsing: try #require(reply))
                switch fault {
                case "servfail": #expect(message.rcode == .servFail)
                case "truncate": #expect(!message.header.isTruncated && message.answers.count == 1)
                case "wrongID": #expect(message.header.id != 0x4242)
                case "wrongQuestion":
                    #expect(message.questions.first?.name != (try DNSName(parsing: "www.load.evq.test.")))
                default:
                    let second = try DNSMessage(parsing: try #require(client.readMessage()))
                    #expect(second.header.id == 0x4242 && message.header.id == 0x4242)
                }
            }
        }
        let faulted = [counters.faultServfail, counters.faultTruncated, counters.faultMalformed, counters.faultWrongID,
                       counters.faultWrongQuestion, counters.faultDuplicated, counters.faultDropped]
        #expect(faulted.reduce(0, +) == (fault == "truncate" ? 0 : 1) && counters.tcp.queries == 1)
        expectEveryConnectionClosedOnce(counters)
    }

    @Test func theResetFaultSendsHalfAnAnswerThenResetsTheConnection() throws {
        let (ending, counters) = try withStreamResponder({ $0.faults.reset = 1 }) { responder, _ in
            let client = try StreamClient(port: responder.port)
            let query = ResponderClient.query("www.load.evq.test.", .a)
            client.send(StreamClient.framed(query) + StreamClient.framed(query))
            return client.readToEnd()
        }
        #expect(ending.errno == ECONNRESET)
        #expect(ending.bytes.count > 0 && ending.bytes.count < 2 + Int(ending.bytes[0]) << 8 | Int(ending.bytes[1]))
        #expect(counters.faultReset == 1 && counters.tcp.resets == 1 && counters.tcp.answers == 0)
        expectEveryConnectionClosedOnce(counters)
    }

    @Test func theSplitFaultSendsEachAnswerInTwoWritesAndTheStreamStillParsesInOrder() throws {
        let (ids, counters) = try withStreamResponder({ $0.faults.split = 1 }) { responder, _ in
            let client = try StreamClient(port: responder.port)
            return try (1...3).map { id in
                client.send(StreamClient.framed(ResponderClient.query("s.load.evq.test.", .a, id: UInt16(id))))
                return try DNSMessage(parsing: try #require(client.readMessage())).header.id
            }
        }
        #expect(ids == [1, 2, 3])
        #expect(counters.faultSplit == 3 && counters.tcp.answers == 3)
        expectEveryConnectionClosedOnce(counters)
    }

    @Test func aLengthPrefixLongerThanItsDataIsClosedAtTheIdleTimeoutWhileOtherConnectionsGoOn() throws {
        let (ending, counters) = try withStreamResponder({ $0.streamIdleTimeout = .milliseconds(300) }) { responder, _ in
            let quiet = try StreamClient(port: responder.port, timeoutMs: 10_000)
            quiet.send([0x00, 0x40] + [UInt8](repeating: 0, count: 10))
            let busy = try StreamClient(port: responder.port)
            busy.send(StreamClient.framed(ResponderClient.query("www.load.evq.test.", .a)))
            #expect(busy.readMessage() != nil)
            return quiet.readToEnd()
        }
        #expect(ending.errno == 0 && ending.bytes.isEmpty)
        #expect(counters.tcp.idleClosed >= 1 && counters.tcp.answers == 1)
        expectEveryConnectionClosedOnce(counters)
    }

    @Test func connectionsOverTheLimitAreClosedAtOnceAndCounted() throws {
        let (ending, counters) = try withStreamResponder({ $0.maxTCPConnections = 2 }) { responder, _ in
            let first = try StreamClient(port: responder.port)
            let second = try StreamClient(port: responder.port)
            for client in [first, second] {
                client.send(StreamClient.framed(ResponderClient.query("www.load.evq.test.", .a)))
                #expect(client.readMessage() != nil)
            }
            return try StreamClient(port: responder.port).readToEnd()
        }
        #expect(ending.bytes.isEmpty && ending.errno == 0)
        #expect(counters.tcp.refused == 1 && counters.tcp.connections == 2)
        expectEveryConnectionClosedOnce(counters)
    }

    @Test func garbageInsteadOfAClientHelloFailsTheHandshakeAndTheNextClientIsAnswered() throws {
        let (answer, counters) = try withStreamResponder { responder, _ in
            for port in [responder.dotPort!, responder.dohPort!] {
                let client = try StreamClient(port: port)
                client.send([UInt8](repeating: 0x42, count: 300))
                #expect(client.readToEnd().errno != EAGAIN, "closed, not left hanging")
            }
            return try kdig(["@127.0.0.1", "-p", "\(responder.dotPort!)", "+tls", "www.load.evq.test.", "A"])
        }
        #expect(answer.hasPrefix("198.1"))  // 198.18.0.0/15
        #expect(counters.dot.handshakeFailures == 1 && counters.doh.handshakeFailures == 1)
        #expect(counters.dot.handshakes == 1 && counters.dot.answers == 1)
        expectEveryConnectionClosedOnce(counters)
    }

    @Test func junkInsteadOfHTTP2FramesClosesTheConnectionAndTheNextClientIsAnswered() throws {
        let (status, counters) = try withStreamResponder { responder, _ in
            let sClient = ["s_client", "-quiet", "-alpn", "h2", "-connect", "127.0.0.1:\(responder.dohPort!)"]
            // Not the HTTP/2 preface; then the preface followed by a frame of an impossible length.
            try runTool("/usr/bin/openssl", sClient, input: Data("GET / HTTP/1.1\r\nHost: x\r\n\r\n".utf8), timeout: 10)
            let preface = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)
            try runTool("/usr/bin/openssl", sClient, input: Data(preface + [0xFF, 0xFF, 0xFF, 0x00, 0x00, 0, 0, 0, 0]),
                        timeout: 10)
            let query = Data(ResponderClient.query("www.load.evq.test.", .a))
            return try curl(["-o", "/dev/null", "-w", "%{http_code}", "-H", "content-type: application/dns-message",
                             "--data-binary", "@-", "https://127.0.0.1:\(responder.dohPort!)/dns-query"], input: query)
                .output
        }
        #expect(status == "200")
        #expect(counters.doh.handshakes == 3 && counters.doh.resets == 2 && counters.doh.answers == 1, "\(counters.doh)")
        expectEveryConnectionClosedOnce(counters)
    }

    @Test func dohRefusesAWrongMethodPathContentTypeOrBodyWithTheRightStatusAndAnswersGETAndPOST() throws {
        let (statuses, counters) = try withStreamResponder { responder, _ in
            let base = "https://127.0.0.1:\(responder.dohPort!)"
            let query = ResponderClient.query("www.load.evq.test.", .a, id: 0)
            let encoded = Data(query).base64EncodedString().replacingOccurrences(of: "+", with: "-")
                .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            let status = ["-o", "/dev/null", "-w", "%{http_code}"]
            let dns = ["-H", "content-type: application/dns-message"]
            var statuses: [String: String] = [:]
            statuses["put"] = try curl(status + dns + ["-X", "PUT", "--data-binary", "@-", base + "/dns-query"],
                                       input: Data(query)).output
            statuses["text"] = try curl(status + ["-H", "content-type: text/plain", "--data-binary", "@-",
                                                  base + "/dns-query"], input: Data(query)).output
            statuses["path"] = try curl(status + [base + "/other?dns=" + encoded]).output
            statuses["base64"] = try curl(status + [base + "/dns-query?dns=!!!"]).output
            statuses["empty"] = try curl(status + dns + ["--data-binary", "@-", base + "/dns-query"], input: Data()).output
            statuses["response"] = try curl(status + dns + ["--data-binary", "@-", base + "/dns-query"],
                                            input: Data(AnswerFixture.reply(to: query))).output
            let get = try curl([base + "/dns-query?dns=" + encoded]).data
            let post = try curl(dns + ["--data-binary", "@-", base + "/dns-query"], input: Data(query)).data
            for body in [get, post] {
                let message = try DNSMessage(parsing: Array(body))
                #expect(message.rcode == .noError && message.answers.count == 1)
            }
            return statuses
        }
        #expect(statuses == ["put": "405", "text": "415", "path": "404", "base64": "400", "empty": "400",
                             "response": "400"])
        #expect(counters.doh.badRequests == 6 && counters.doh.answers == 2 && counters.doh.queries == 8)
        expectEveryConnectionClosedOnce(counters)
    }

    @Test func dohFaultsResetAStreamAndSplitAnAnswerOverTwoDataFrames() throws {
        let (results, counters) = try withStreamResponder({ $0.faults.reset = 0.5 }) { responder, _ in
            var results: [Int32] = []
            for id in 0..<8 {
                let query = Data(ResponderClient.query("r\(id).load.evq.test.", .a))
                results.append(try curl(["-o", "/dev/null", "-H", "content-type: application/dns-message",
                                         "--data-binary", "@-", "https://127.0.0.1:\(responder.dohPort!)/dns-query"],
                                        input: query).status)
            }
            return results
        }
        // curl exits 92 for a stream reset (HTTP/2 INTERNAL_ERROR), 0 for an answer.
        #expect(results.filter { $0 == 92 }.count == counters.faultReset && counters.faultReset > 0)
        #expect(results.filter { $0 == 0 }.count == counters.doh.answers)
        #expect(counters.doh.streamResets == counters.faultReset)
        expectEveryConnectionClosedOnce(counters)

        let (split, splitCounters) = try withStreamResponder({ $0.faults.split = 1 }) { responder, _ in
            try curl(["-H", "content-type: application/dns-message", "--data-binary", "@-",
                      "https://127.0.0.1:\(responder.dohPort!)/dns-query"],
                     input: Data(ResponderClient.query("www.load.evq.test.", .a))).data
        }
        #expect(try DNSMessage(parsing: Array(split)).answers.count == 1)
        #expect(splitCounters.faultSplit == 1 && splitCounters.doh.answers == 1)
        expectEveryConnectionClosedOnce(splitCounters)
    }

    @Test func aTLS12SessionTicketResumesTheSession() throws {
        let (reused, counters) = try withStreamResponder { responder, certificate in
            let session = certificate.directory + "/session.pem"
            let connect = ["s_client", "-tls1_2", "-connect", "127.0.0.1:\(responder.dotPort!)"]
            try runTool("/usr/bin/openssl", connect + ["-sess_out", session], input: Data(), timeout: 10)
            return try runTool("/usr/bin/openssl", connect + ["-sess_in", session], input: Data(), timeout: 10).output
        }
        #expect(reused.contains("Reused, TLSv1.2"))
        #expect(counters.dot.handshakes == 2 && counters.dot.resumed == 1)
        expectEveryConnectionClosedOnce(counters)
    }
}

/// A query turned into a response (QR set), which a server must not answer.
enum AnswerFixture {
    static func reply(to query: [UInt8]) -> [UInt8] {
        var reply = query
        reply[2] |= 0x80
        return reply
    }
}
