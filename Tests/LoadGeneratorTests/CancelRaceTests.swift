import EventReactor
import Foundation
import LoadGenerator
import Testing

@Suite("evq race")
struct CancelRaceTests {
    @Test func raceOfTimersAndSocketsKeepsExactlyOnceAndEveryOutcomeAddsUp() throws {
        var configuration = CancelRaceConfiguration()
        configuration.operations = 30_000
        configuration.threads = 4
        configuration.seed = 42
        configuration.kinds = [.timer, .socket]
        // Every operation starts however slow the run (ThreadSanitizer beside the parallel tests
        // took more than the default 10 s); the count still bounds it.
        configuration.durationSeconds = 300
        let report = try CancelRace.run(configuration)
        #expect(report.audit.ok, "\(report.audit)")
        #expect(report.started == 30_000)
        let completions = report.outcomes.values.flatMap(\.values).reduce(0, +)
        #expect(completions == report.started)
        #expect(report.count(.timer, "failed") == 0 && report.count(.socket, "failed") == 0)
        let cancelled = [RaceKind.timer, .socket].map {
            report.count($0, "cancelled_thread") + report.count($0, "cancelled_loop")
        }.reduce(0, +)
        #expect(report.cancelsWon == cancelled)
        #expect(report.count(.timer, "completed") > 0 && report.count(.socket, "completed") > 0)
    }

    /// The run the test command's ThreadSanitizer pass makes: every kind, cancelled from the loops
    /// and from other threads, with the audit over all of them.
    @Test func raceOfEveryKindKeepsExactlyOnceAndDrivesTheCancelPathsOfEach() throws {
        var configuration = CancelRaceConfiguration()
        configuration.operations = 20_000
        configuration.threads = 4
        configuration.seed = 11
        configuration.durationSeconds = 60
        let report = try CancelRace.run(configuration)
        #expect(report.audit.ok, "\(report.audit)")
        #expect(report.started == 20_000)
        #expect(report.outcomes.values.flatMap(\.values).reduce(0, +) == report.started)
        for kind in RaceKind.allCases {
            #expect((report.startedByKind[kind.rawValue] ?? 0) > 0, "\(kind) never started")
            let total = report.outcomes[kind.rawValue]?.values.reduce(0, +) ?? 0
            #expect(total == report.startedByKind[kind.rawValue], "\(kind): \(report.outcomes[kind.rawValue] ?? [:])")
        }
        // Cancels won on the DNS queries and the scan operations, from other threads and the loops.
        #expect(report.count(.dns, "cancelled_thread") > 0 && report.count(.dns, "cancelled_loop") > 0)
        #expect(report.count(.dns, "completed") > 0)
        #expect(report.count(.scan, "cancelled_thread") + report.count(.scan, "cancelled_loop") > 0)
        #expect(report.count(.scan, "completed") > 0)
        // The faults sent queries through retransmits and TCP fallback.
        #expect(report.dnsPaths["retransmits", default: 0] > 0, "\(report.dnsPaths)")
        #expect(report.dnsPaths["tcp_fallbacks", default: 0] > 0, "\(report.dnsPaths)")
        #expect(report.scanPaths["records", default: 0] > 0, "\(report.scanPaths)")
    }

    /// A run its duration stops: the numbers the starters and scan jobs asked for after the
    /// deadline must not count as started (they were holes the audit saw as missed completions).
    @Test func raceStoppedByItsDurationKeepsTheAudit() throws {
        var configuration = CancelRaceConfiguration()
        configuration.operations = 50_000_000
        configuration.durationSeconds = 0.5
        configuration.kinds = [.timer, .scan]
        let report = try CancelRace.run(configuration)
        #expect(report.started < configuration.operations)
        #expect(report.audit.ok, "\(report.audit)")
    }

    @Test func raceReportPrintsTheAuditAndCancelLatencyPerKindAndOriginInTextAndJSON() throws {
        var configuration = CancelRaceConfiguration()
        configuration.operations = 4_000
        configuration.kinds = [.timer, .dns]
        let report = try CancelRace.run(configuration)
        let text = report.text
        #expect(text.contains("audit"))
        #expect(text.contains("cancel timer/thread"))
        #expect(text.contains("cancel dns/thread"))
        #expect(text.contains("OK"))
        let json = try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any]
        let latency = json?["cancel_latency"] as? [String: Any]
        #expect(latency?["dns/thread"] != nil)
        #expect((json?["audit"] as? [String: Any])?["double_completions"] as? Int == 0)
        #expect(json?["audit_ok"] as? Bool == true)
        #expect((json?["started_by_kind"] as? [String: Int])?["dns"] ?? 0 > 0)
    }
}
