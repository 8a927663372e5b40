import EventReactor
import Foundation
import Histogram
import LoadGenerator
import Testing

#if canImport(FoundationXML)
import FoundationXML
#endif

/// A report from real histograms (no load run needed to check its shape).
func sampleReport(timersAfterDrain: Int = 0) -> LoadReport {
    var query = makeLatencyHistogram()
    var loop = makeLatencyHistogram()
    var thread = makeLatencyHistogram()
    var rng = SplitMix64(seed: 9)
    for _ in 0..<5000 {
        _ = query.record(UInt64.random(in: 30_000...900_000, using: &rng))
        _ = loop.record(UInt64.random(in: 200...20_000, using: &rng))
        _ = thread.record(UInt64.random(in: 4_000...60_000, using: &rng))
    }
    let audit = ExactlyOnceAudit(started: 10, completed: 10, doubleCompletions: 0, missed: 0, eventsAfterDrain: 3,
                                 eventsBaseline: 3, timersAfterDrain: timersAfterDrain)
    return LoadReport(
        engine: "evquery", server: "127.0.0.1:5353", mode: "closed", outstanding: 100, targetRate: nil, reactors: 1,
        seconds: 3, sent: 10, qps: 1234, cpuSeconds: 1.5, cpuSecondsPerMillion: 4.4, rssBytes: 1 << 20,
        latencyUs: LatencySummary(nanoseconds: query),
        cancelLatencyUs: .init(loop: LatencySummary(nanoseconds: loop), thread: LatencySummary(nanoseconds: thread)),
        outcomes: ["answered": 8, "cancelled": 2], audit: audit,
        intervals: (0..<3).map { second in
            var outcomes = [Int](repeating: 0, count: LoadOutcome.allCases.count)
            outcomes[0] = 1000 + second * 100
            return .init(time: Double(second + 1), seconds: 1, outcomes: outcomes, rcodes: [outcomes[0]], latency: query,
                         outstanding: 100)
        },
        curves: ["query": LoadReport.curve(query), "cancel_loop": LoadReport.curve(loop), "cancel_thread": LoadReport.curve(thread)])
}

@Suite("Load report, plot and datafile")
struct LoadReportTests {
    @Test func jsonReportHoldsEveryFieldTheDesignNames() throws {
        let data = Data(try sampleReport().json().utf8)
        let root = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["qps", "cpu_seconds_per_million", "latency_us", "cancel_latency_us", "outcomes", "audit"] {
            #expect(root[key] != nil, "missing \(key)")
        }
        let latency = try #require(root["latency_us"] as? [String: Any])
        for key in ["p50", "p90", "p99", "p999", "max"] { #expect(latency[key] != nil, "latency_us.\(key)") }
        let cancel = try #require(root["cancel_latency_us"] as? [String: Any])
        for origin in ["loop", "thread"] {
            let summary = try #require(cancel[origin] as? [String: Any])
            for key in ["p50", "p90", "p99", "p999", "max"] { #expect(summary[key] != nil, "\(origin).\(key)") }
        }
        let audit = try #require(root["audit"] as? [String: Any])
        for key in ["started", "completed", "double_completions", "missed", "events_after_drain", "events_baseline", "ok"] {
            #expect(audit[key] != nil, "audit.\(key)")
        }
        #expect(audit["ok"] as? Bool == true)
    }

    @Test func aTimerLeftAfterTheDrainShowsInTheReportAndFailsItsAudit() throws {
        let report = sampleReport(timersAfterDrain: 1)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        let audit = try #require(root["audit"] as? [String: Any])
        #expect(audit["timers_after_drain"] as? Int == 1)
        #expect(audit["ok"] as? Bool == false)
        #expect(report.text.contains("timers_after_drain=1 VIOLATED"))
    }

    @Test func plotIsValidSVGWithTheThreeLatencyCurvesAndThroughput() throws {
        let svg = SVGPlot.render(sampleReport())
        final class Collector: NSObject, XMLParserDelegate {
            var ids: [String] = []
            var root: String?
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                if root == nil { root = name }
                if name == "polyline", let id = attributes["id"] { ids.append(id) }
            }
        }
        let parser = XMLParser(data: Data(svg.utf8))
        let collector = Collector()
        parser.delegate = collector
        #expect(parser.parse(), "SVG must be well-formed XML: \(String(describing: parser.parserError))")
        #expect(collector.root == "svg")
        #expect(collector.ids == ["curve-query", "curve-cancel-loop", "curve-cancel-thread", "curve-qps"])
    }

    @Test func datafileReadsDnsperfFormatAndRejectsBadLinesWithTheirNumber() throws {
        let queries = try Datafile.parse("# comment\nexample.com A\n\n; other\nwww.example.com aaaa\nbare.example\n").queries
        #expect(queries == [WorkloadQuery(name: "example.com", type: "A"), WorkloadQuery(name: "www.example.com", type: "AAAA"),
                            WorkloadQuery(name: "bare.example", type: "A")])
        #expect { try Datafile.parse("ok.example A\nbad.example A extra\n") } throws: {
            "\($0)".hasPrefix("datafile line 2: unknown flag 'extra'")
        }
        #expect(throws: Datafile.ParseError.self) { try Datafile.parse("# only comments\n") }
        #expect(throws: Datafile.ParseError.self) { try Datafile.parse("x.example A-B\n") }
    }
}
