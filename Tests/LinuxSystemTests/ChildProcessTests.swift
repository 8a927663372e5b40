import EvqueryTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The tests' one way of running a program: output read to its end through both pipes, every wait
/// bounded, a child past its bound killed and reaped, a missing program refused in words.
@Suite struct ChildProcessTests {
    @Test func bothPipesAreReadToTheirEndWhileTheChildWritesMoreThanAPipeHolds() throws {
        // 1 MiB to each of stdout and stderr, interleaved: a reader that drained one pipe first would
        // leave the child blocked on the other.
        let script = "for i in $(seq 1 16); do head -c 65536 /dev/zero; head -c 65536 /dev/zero >&2; done"
        let run = try ChildProcess.run("/bin/sh", ["-c", script], timeout: .seconds(60))
        #expect(run.exited && run.status == 0 && !run.timedOut)
        #expect(run.stdout.count == 1 << 20 && run.stderr.count == 1 << 20)
    }

    @Test func inputIsWrittenWhileOutputIsReadAndTheExitStatusIsTheChilds() throws {
        let input = [UInt8](repeating: UInt8(ascii: "x"), count: 300_000)
        let run = try ChildProcess.run("/bin/sh", ["-c", "cat; exit 3"], input: input, timeout: .seconds(60))
        #expect(run.exited && run.status == 3)
        #expect(run.stdout == input)
    }

    @Test func aChildPastItsBoundIsKilledAndReapedAndSaysSo() throws {
        let child = try ChildProcess("/bin/sleep", ["600"])
        let run = child.wait(timeout: .milliseconds(200))
        #expect(run.timedOut && !run.exited && run.status == 128 + SIGKILL)
        // Reaped: no zombie is left under that pid.
        #expect(kill(child.pid, 0) == -1 && errno == ESRCH)
    }

    @Test func aMissingProgramIsRefusedInWords() {
        #expect(throws: ChildProcess.SpawnError.self) { try ChildProcess("/nonexistent/evq-tool", []) }
        do {
            _ = try ChildProcess("/nonexistent/evq-tool", [])
        } catch {
            #expect("\(error)" == "/nonexistent/evq-tool: No such file or directory")
        }
    }

    @Test func environmentIsAddedToTheTestProcesssOwn() throws {
        let run = try ChildProcess.run("/bin/sh", ["-c", "echo \"$EVQ_CHILD_TEST:$PATH\""],
                                       environment: ["EVQ_CHILD_TEST": "yes"])
        #expect(run.output.hasPrefix("yes:") && run.output.count > "yes:\n".count)
    }
}
