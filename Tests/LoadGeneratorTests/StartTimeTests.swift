import EventReactor
import Foundation
@testable import LoadGenerator
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `evq load --start-at`: one wait for a deadline on the wall clock, which never ends before it,
/// and which the stop switch (SIGTERM) ends at once.
@Suite struct StartTimeTests {
    /// The wall clock, as the kernel keeps it.
    private func realtime() -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return now
    }

    @Test func theWaitEndsNotBeforeTheTimeEvenAtAFractionOfASecond() {
        for offset in [0.05, 0.2004, 0.3000001] {
            let now = realtime()
            let startAt = Double(now.tv_sec) + Double(now.tv_nsec) / 1e9 + offset
            #expect(LoadStartTime.wait(until: startAt))
            let woke = realtime()
            // The deadline in whole nanoseconds, rounded up: the wake is at or after it.
            let seconds = Int(startAt.rounded(.down))
            let nanoseconds = Int(((startAt - startAt.rounded(.down)) * 1e9).rounded(.up))
            #expect((woke.tv_sec, woke.tv_nsec) >= (seconds, nanoseconds), "woke \(woke) before \(startAt)")
        }
    }

    @Test func aPulledStopSwitchEndsTheWaitForAStartAnHourAway() {
        let inAnHour = Date().timeIntervalSince1970 + 3600
        let pulled = LoadStopSwitch()
        pulled.pull(reason: "SIGTERM")
        #expect(!LoadStartTime.wait(until: inAnHour, or: pulled))

        let stop = LoadStopSwitch()
        let ended = DispatchSemaphore(value: 0)
        let result = Locked<Bool?>(nil)
        Thread.detachNewThread {
            result.withLock { $0 = LoadStartTime.wait(until: inAnHour, or: stop) }
            ended.signal()
        }
        usleep(50_000)
        stop.pull(reason: "SIGTERM")
        // Bounded only so that a broken wait fails the test instead of holding it for an hour.
        #expect(ended.wait(timeout: .now() + 60) == .success)
        #expect(result.withLock { $0 } == false)
    }

    @Test(arguments: [LoadEngineKind.evquery, .evdns, .floor])
    func aRunStoppedWhileWaitingForItsStartStartsNoQueryAndSaysSo(_ engine: LoadEngineKind) throws {
        let stop = LoadStopSwitch()
        var configuration = LoadConfiguration()
        configuration.engine = engine
        configuration.duration = .seconds(1)
        configuration.outstanding = 10
        configuration.quiet = true
        configuration.startAt = Date().timeIntervalSince1970 + 3600
        configuration.stopSwitch = stop
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { stop.pull(reason: "SIGTERM") }
        let (report, _) = try LoadRun.run(configuration)
        #expect(report.sent == 0)
        #expect(report.audit.ok, "\(report.audit)")
        #expect(!report.complete && report.incomplete == ["stopped early by SIGTERM"])
    }
}
