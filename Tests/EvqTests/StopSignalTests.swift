import EvqueryTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM in the middle of `evq load`, on the engines that are not the default one: the run stops
/// starting queries, those in flight end, and the report is written marked incomplete, with its
/// audit, and `evq merge` takes it and marks the merged report incomplete.
@Suite struct StopSignalTests {
    private func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("evq-stop-\(UUID().uuidString)-\(name)").path
    }

    private func object(at path: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    @Test(arguments: ["evdns", "floor"])
    func aLoadStoppedBySIGTERMWritesAnIncompleteReportWithItsAuditThatTheMergeTakes(_ engine: String) throws {
        let partial = temporary("\(engine).json"), merged = temporary("merged.json")
        defer { for path in [partial, merged] { unlink(path) } }
        // A minute-long run against the embedded responder, a live line every 0.2 s.
        let load = try ChildProcess(Evq.executable, ["load", "--engine", engine, "--duration", "60", "--outstanding",
                                                     "20", "--interval", "0.2", "--json", partial], stdout: .discard)
        // Once it has counted queries (a live line), stop it as Kubernetes stops a pod.
        let live = load.readStandardError(until: { String(decoding: $0, as: UTF8.self).contains(" q/s") }, timeout: .seconds(60))
        try #require(String(decoding: live, as: UTF8.self).contains(" q/s"), "no live line: \(String(decoding: live, as: UTF8.self))")
        load.signal(SIGTERM)
        let ended = load.wait(timeout: .seconds(60))
        #expect(!ended.timedOut && ended.status == 128 + SIGTERM, "exit \(ended.status): \(ended.errors)")

        let report = try object(at: partial)
        #expect(report["engine"] as? String == engine)
        #expect(report["complete"] as? Bool == false)
        #expect(report["incomplete"] as? [String] == ["stopped early by SIGTERM"])
        let audit = try #require(report["audit"] as? [String: Any])
        #expect(audit["ok"] as? Bool == true, "\(audit)")
        let sent = try #require(report["sent"] as? Int)
        #expect(sent > 0 && audit["started"] as? Int == sent && audit["completed"] as? Int == sent)
        // Stopped, not run out: far fewer seconds than asked.
        #expect(try #require(report["seconds"] as? Double) < 60)

        let merge = try Evq.run(["merge", partial, "--json", merged])
        #expect(merge.status == 0, "\(merge.stderr)")
        let result = try object(at: merged)
        #expect(result["complete"] as? Bool == false)
        #expect(result["incomplete"] as? [String] == ["\(partial) is incomplete (stopped early by SIGTERM)"])
        #expect(result["sent"] as? Int == sent)
    }
}
