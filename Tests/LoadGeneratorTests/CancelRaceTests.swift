import EventReactor
import LoadGenerator
import Testing

@Suite("evq race")
struct CancelRaceTests {
    @Test func raceOfTimersAndSocketsKeepsExactlyOnceAndEveryOutcomeAddsUp() throws {
        var configuration = CancelRaceConfiguration()
        configuration.operations = 30_000
        configuration.threads = 4
        configuration.seed = 42
        let report = try CancelRace.run(configuration)
        #expect(report.audit.ok, "\(report.audit)")
        #expect(report.started == 30_000)
        #expect(report.outcomes.values.reduce(0, +) == report.started)
        #expect(report.outcomes["failed"] == 0)
        #expect(report.cancelsWon == report.outcomes["cancelled_thread"]! + report.outcomes["cancelled_loop"]!)
        #expect(report.outcomes["timer_fired"]! > 0)
    }

    @Test func raceReportPrintsTheAuditAndBothCancelOrigins() throws {
        var configuration = CancelRaceConfiguration()
        configuration.operations = 2_000
        let text = try CancelRace.run(configuration).text
        #expect(text.contains("audit"))
        #expect(text.contains("cancel from loop"))
        #expect(text.contains("cancel from thread"))
        #expect(text.contains("OK"))
    }
}
