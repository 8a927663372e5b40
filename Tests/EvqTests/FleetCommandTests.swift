import EvqueryTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `evq load --shard/--start-at/--label` and `evq merge` from the shell: the clear errors, the
/// partial report a stopped generator leaves, and the merge that marks it.
@Suite struct FleetCommandTests {
    private func temporary(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("evq-fleet-\(UUID().uuidString)-\(name)").path
    }

    @Test func aShardPastItsCountOrAStartInThePastIsAUsageError() throws {
        for (arguments, message) in [
            (["load", "--shard", "3/2"], "--shard 3/2: I counts from 0 and must be below N (0…1)"),
            (["load", "--shard", "auto/3"], "--shard auto/3: JOB_COMPLETION_INDEX is not set (a Kubernetes Indexed Job sets it)"),
            (["load", "--start-at", "2020-01-01T00:00:00Z"], "--start-at 2020-01-01T00:00:00.000Z is in the past"),
            (["load", "--label", "shard=1"], "--label shard=1: 'shard' is set by evq load itself"),
        ] {
            let run = try Evq.run(arguments)
            #expect(run.status == 64, "\(arguments)")
            #expect(run.stderr.hasPrefix("evq load: \(message)"), "\(run.stderr)")
        }
    }

    @Test func aGeneratorStoppedBySIGTERMWritesAPartialReportThatTheMergeMarksIncomplete() throws {
        let whole = temporary("whole.json"), partial = temporary("partial.json"), merged = temporary("merged.json")
        defer { for path in [whole, partial, merged] { try? FileManager.default.removeItem(atPath: path) } }
        let first = try Evq.run(["load", "--shard", "0/2", "--duration", "0.5", "--outstanding", "20", "--quiet",
                                 "--label", "run=t", "--json", whole])
        #expect(first.status == 0, "\(first.stderr)")

        let generator = try ChildProcess(
            Evq.executable, ["load", "--shard", "1/2", "--duration", "60", "--outstanding", "20", "--quiet",
                             "--label", "run=t", "--json", partial], stdout: .discard, stderr: .discard)
        // Once the run has started (its responder answers and it counts), stop it as Kubernetes would.
        usleep(1_500_000)
        generator.signal(SIGTERM)
        let stopped = generator.wait(timeout: .seconds(30))
        #expect(stopped.exited && stopped.status == 128 + SIGTERM, "\(stopped)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: partial)))
            as? [String: Any])
        #expect(report["complete"] as? Bool == false)
        #expect((report["audit"] as? [String: Any])?["ok"] as? Bool == true)

        let merge = try Evq.run(["merge", whole, partial, "--json", merged])
        #expect(merge.status == 0, "\(merge.stderr)")
        #expect(merge.stdout.contains("evq merge of 2 generators"))
        #expect(merge.stdout.contains("INCOMPLETE      \(partial) is incomplete (stopped early by SIGTERM)"))
        let result = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: merged)))
            as? [String: Any])
        #expect(result["complete"] as? Bool == false)
        #expect(result["labels"] as? [String: String] == ["run": "t"])
    }

    @Test func aReportOfAnotherVersionIsRefusedWithExit65() throws {
        let old = temporary("old.json")
        defer { try? FileManager.default.removeItem(atPath: old) }
        try #"{"report_format": 1, "sent": 10}"#.write(toFile: old, atomically: true, encoding: .utf8)
        let run = try Evq.run(["merge", old])
        #expect(run.status == 65)
        #expect(run.stderr == "evq merge: \(old): report format 1; this evq merges format 2 only\n")
        let missing = try Evq.run(["merge", "/nonexistent/shard-0.json"])
        #expect(missing.status == 66)
        #expect(missing.stderr == "evq merge: report: open /nonexistent/shard-0.json: No such file or directory (errno 2)\n")
    }
}
