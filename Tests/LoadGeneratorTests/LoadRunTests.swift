import EventReactor
import Foundation
import LoadGenerator
import Testing

/// `evq load` end to end against the embedded responder (real UDP on 127.0.0.1). Nothing here
/// asserts a speed: the audit, the sums, the report's shape, the pacing's count.
@Suite("evq load runs", .serialized)
struct LoadRunTests {
    private func configuration(_ change: (inout LoadConfiguration) -> Void = { _ in }) -> LoadConfiguration {
        shortLoad(duration: .milliseconds(1500), outstanding: 50, change)
    }

    /// sent = answered + nxdomain + errors + timeouts + cancelled (the DNS outcomes, not the scans').
    private func dnsOutcomes(_ report: LoadReport) -> Int {
        report.outcomes.filter { !$0.key.hasPrefix("scan_") }.values.reduce(0, +)
    }

    @Test func closedLoopWithCancelsFromBothOriginsKeepsTheAuditAndEveryOutcomeAddsUp() throws {
        let (report, recorder) = try LoadRun.run(configuration { $0.reactors = 2 })
        #expect(report.audit.ok, "\(report.audit)")
        #expect(report.sent > 0 && report.sent == dnsOutcomes(report))
        #expect((report.outcomes["answered"] ?? 0) > 0 && (report.outcomes["cancelled"] ?? 0) > 0)
        #expect(report.cancelLatencyUs.loop.count + report.cancelLatencyUs.thread.count > 0)
        // A cancel takes some time to complete whichever thread asked: a latency of 0 is a clock
        // read before the cancel (the loop's cached clock), not a measurement.
        for (origin, latency) in [("loop", report.cancelLatencyUs.loop), ("thread", report.cancelLatencyUs.thread)]
        where latency.count > 0 {
            #expect(latency.p50 > 0, "cancel from \(origin): \(latency)")
        }
        #expect(report.server.hasSuffix("(embedded responder)") && report.responder != nil)
        let sends = try #require(report.sends)
        #expect((sends["udp"] ?? 0) >= report.sent - (report.outcomes["cancelled"] ?? 0), "\(sends)")
        #expect((sends["segmented"] ?? 0) <= (sends["udp"] ?? 0), "\(sends)")
        // The JSON holds every field docs/design.md names; the plot has its three curves; the interval
        // log has a line per second.
        let root = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        for key in ["qps", "cpu_seconds_per_million", "latency_us", "cancel_latency_us", "outcomes", "audit", "sends"] {
            #expect(root[key] != nil, "missing \(key)")
        }
        let audit = try #require(root["audit"] as? [String: Any])
        for key in ["started", "completed", "double_completions", "missed", "events_after_drain", "events_baseline", "ok"] {
            #expect(audit[key] != nil, "missing audit.\(key)")
        }
        let svg = SVGPlot.render(report)
        for id in ["curve-query", "curve-cancel-loop", "curve-cancel-thread", "curve-qps"] {
            #expect(svg.contains("id=\"\(id)\""))
        }
        #expect(recorder.histogramLog.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("\"") }
            .count >= 1)
    }

    @Test func everyEngineRunsAgainstTheEmbeddedResponderWithTheAudit() throws {
        for engine in [LoadEngineKind.evdns, .floor] {
            let (report, _) = try LoadRun.run(configuration { $0.engine = engine; $0.cancelRate = 0; $0.duration = .seconds(1) })
            #expect(report.audit.ok, "\(engine): \(report.audit)")
            #expect(report.sent > 0 && report.sent == dnsOutcomes(report), "\(engine)")
        }
    }

    @Test func openLoopHoldsItsRateOverTenSeconds() throws {
        // 2,000 queries a second is well within what the responder and a debug build keep up with.
        let (report, _) = try LoadRun.run(configuration {
            $0.rate = 2000
            $0.duration = .seconds(10)
            $0.cancelRate = 0
        })
        #expect(report.audit.ok, "\(report.audit)")
        #expect(abs(Double(report.sent) - 20_000) <= 20_000 * 0.03, "sent \(report.sent) of 20,000")
        // No second without answers (a stalled pacer); the per-second rates themselves are sampled
        // by the reporter thread and jitter with the machine, so they are not held to 3 %.
        let full = report.intervals.dropLast().filter { $0.time >= 1.5 }
        #expect(full.count >= 8)
        for second in full { #expect(second.qps > 1000, "second \(second.time): \(second.qps) q/s") }
    }

    @Test func scanJobsMixedInAreAuditedAndTheirCancelsMeasured() throws {
        let path = NSTemporaryDirectory() + "evq-load-scan-\(getpid()).log"
        defer { unlink(path) }
        let lines = (0..<20_000).map { "Nov 23 08:00:\(String(format: "%02d", $0 % 60)) web1 sshd[\($0)]: line \($0)" }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let (report, _) = try LoadRun.run(configuration {
            $0.scanJobs = 3
            $0.scanFile = path
            $0.scanFilter = "app == \"sshd\""
            $0.cancelRate = 0.2
        })
        #expect(report.audit.ok, "\(report.audit)")
        #expect((report.outcomes["scan_records"] ?? 0) > 0 && (report.outcomes["scan_batches"] ?? 0) > 0)
        #expect((report.outcomes["scan_cancelled"] ?? 0) > 0)
        #expect(report.sent == dnsOutcomes(report))
    }

    @Test func badFlagsAndASilentServerGiveClearErrors() throws {
        let cases: [(LoadConfiguration, String)] = [
            (configuration { $0.outstanding = 0 }, "--outstanding"),
            (configuration { $0.rate = -1 }, "--rate"),
            (configuration { $0.reactors = 0 }, "--reactors"),
            (configuration { $0.cancelRate = 2 }, "--cancel-rate"),
            (configuration { $0.scanJobs = 1 }, "--scan-file"),
            (configuration { $0.servers = ["localhost"] }, "--server"),
            (configuration { $0.engine = .evdns; $0.rate = 100 }, "closed loop"),
        ]
        for (bad, flag) in cases {
            #expect { try bad.validate() } throws: { "\($0)".contains(flag) }
        }
        // A bound UDP socket that never answers: the probe says so before any load starts.
        let silent = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(silent) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(silent, $0, length)
                return getsockname(silent, $0, &length)
            }
        }
        let server = "127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        #expect { try LoadRun.run(configuration { $0.servers = [server] }) } throws: {
            "\($0)".contains("did not answer a probe query")
        }
    }
}
