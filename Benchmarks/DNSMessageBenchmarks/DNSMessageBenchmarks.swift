import Benchmark
import DNSMessage

// DNSMessage micro-benchmarks (docs/performance.md, "DNSMessage"):
// `swift package benchmark --target DNSMessageBenchmarks`.
// Each iteration of the scaled loop is one message, so "(K)" rows read as ns and mallocs per message ÷ 1,000.

/// The query the load generator would send, and knot-like replies to it.
struct Packets {
    static let name: DNSName = "www.example.com."
    static let query: [UInt8] = {
        var buffer = [UInt8](repeating: 0, count: 512)
        let count = buffer.withUnsafeMutableBytes {
            DNSQueryBuilder.write(into: $0, id: 0x1234, name: name, type: .a, edns: .init(udpPayloadSize: 1232))
        }!
        return Array(buffer.prefix(count))
    }()

    static func reply(answers: Int, owner: DNSName) -> [UInt8] {
        var header = DNSHeader(id: 0x1234, flags: 0x8500)
        header.recursionDesired = true
        let records = (0..<answers).map { index in
            DNSResourceRecord(name: owner, ttl: 300, data: .a(DNSIPv4Address(192, 0, 2, UInt8(index + 1))))
        }
        return DNSMessage(header: header, questions: [DNSQuestion(name: owner, type: .a)], answers: records,
                          edns: DNSEDNS(udpPayloadSize: 1232)).serialized()
    }

    /// A typical response: one A answer and an OPT record (60 bytes).
    static let typical = reply(answers: 1, owner: name)
    /// Twenty A records whose owners are pointers to the question name.
    static let twenty = reply(answers: 20, owner: "many.example.com.")
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .mallocCountTotal, .instructions, .throughput],
        timeUnits: .nanoseconds, warmupIterations: 10, scalingFactor: .kilo, maxDuration: .seconds(2),
        maxIterations: 1_000_000
    )

    Benchmark("Parse+match typical A response (view, question check, answers)") { benchmark in
        Packets.query.withUnsafeBytes { queryBytes in
            Packets.typical.withUnsafeBytes { replyBytes in
                let query = try! DNSMessageView(queryBytes)
                benchmark.startMeasurement()
                for _ in benchmark.scaledIterations {
                    guard let view = try? DNSMessageView(replyBytes), view.id == query.id,
                          view.questionMatches(query: query, caseSensitive: true) else { fatalError("no match") }
                    var records = view.records()
                    while let record = try? records.next() { blackHole(record.ipv4Address) }
                }
                benchmark.stopMeasurement()
            }
        }
    }

    fullParseBenchmark("Parse typical A response into DNSMessage (full, allocating)", Packets.typical)

    Benchmark("Parse 20-record compressed response (view, every record)") { benchmark in
        Packets.twenty.withUnsafeBytes { replyBytes in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations {
                let view = try! DNSMessageView(replyBytes)
                var records = view.records()
                while let record = try! records.next() { blackHole(record.ipv4Address) }
            }
            benchmark.stopMeasurement()
        }
    }

    fullParseBenchmark("Parse 20-record compressed response into DNSMessage (full, allocating)", Packets.twenty)

    Benchmark("Build query into reused buffer (EDNS)") { benchmark in
        var buffer = [UInt8](repeating: 0, count: 512)
        let name = Packets.name
        buffer.withUnsafeMutableBytes { out in
            benchmark.startMeasurement()
            for index in benchmark.scaledIterations {
                blackHole(DNSQueryBuilder.write(into: out, id: UInt16(truncatingIfNeeded: index), name: name, type: .a,
                                                edns: .init(udpPayloadSize: 1232)))
            }
            benchmark.stopMeasurement()
        }
    }

    Benchmark("Serialize 20-record answer with compression") { benchmark in
        let message = try! DNSMessage(parsing: Packets.twenty)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations { blackHole(message.serialized()) }
        benchmark.stopMeasurement()
    }
}

/// Registers a benchmark that parses `packet` into a `DNSMessage` once per scaled iteration.
func fullParseBenchmark(_ name: String, _ packet: [UInt8]) {
    Benchmark(name) { benchmark in
        packet.withUnsafeBytes { bytes in
            benchmark.startMeasurement()
            for _ in benchmark.scaledIterations { blackHole(try! DNSMessage(parsing: bytes)) }
            benchmark.stopMeasurement()
        }
    }
}
