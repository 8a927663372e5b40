import EvqueryTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `evq` under each kind of failure prints one clear line on stderr (a usage error adds the pointer
/// to `--help`) and exits with the documented code.
@Suite struct ExitCodeTests {
    @Test func aMissingLogIsOneLineWithThePathAndExit66() throws {
        let run = try Evq.run(["scan", "/nonexistent/evquery/auth.log"])
        #expect(run.status == 66)
        #expect(run.stderr == "evq scan: open /nonexistent/evquery/auth.log: No such file or directory (errno 2)\n")
        #expect(run.stdout.isEmpty)
    }

    @Test func aDirectoryGivenAsTheLogIsOneLineAndExit66() throws {
        let run = try Evq.run(["scan", "/tmp"])
        #expect(run.status == 66)
        #expect(run.stderr == "evq scan: open /tmp: Is a directory (errno 21)\n")
    }

    @Test func aMissingDatafileOrZoneIsOneLineAndExit66() throws {
        let load = try Evq.run(["load", "--datafile", "/nonexistent/q.txt", "--duration", "1"])
        #expect(load.status == 66)
        #expect(load.stderr == "evq load: --datafile: open /nonexistent/q.txt: No such file or directory (errno 2)\n")
        let serve = try Evq.run(["serve", "--zone", "/nonexistent/example.com.zone"])
        #expect(serve.status == 66)
        #expect(serve.stderr
                == "evq serve: --zone: open /nonexistent/example.com.zone: No such file or directory (errno 2)\n")
    }

    @Test func aBadFilterIsAUsageErrorWithACaretAndExit64() throws {
        let run = try Evq.run(["scan", "/etc/hostname", "--filter", "app =="])
        #expect(run.status == 64)
        #expect(run.stderr == """
            evq scan: bad --filter at position 6: expected a value (a "string", a number, a severity or a time), \
            found the end of the query
              app ==
                    ^
            Run 'evq scan --help' for usage.

            """)
    }

    @Test func anUnknownFlagIsAUsageErrorWithoutTheBannerAndExit64() throws {
        let run = try Evq.run(["scan", "--bogus", "x"])
        #expect(run.status == 64)
        #expect(run.stderr == "evq scan: Unknown option '--bogus'\nRun 'evq scan --help' for usage.\n")
    }

    @Test func aDurationOrTimeoutThatIsNotAFiniteNumberOfSecondsIsAUsageErrorNotATrap() throws {
        for (arguments, message) in [
            (["load", "--timeout", "nan"], "--timeout must be in (0, 3600] seconds"),
            (["load", "--duration", "1e30"], "--duration must be in (0, 86400] seconds"),
            (["race", "--duration", "inf"], "--duration must be in (0, 86400] seconds"),
        ] {
            let run = try Evq.run(arguments)
            #expect(run.status == 64, "\(arguments)")
            #expect(run.stderr.hasPrefix("evq \(arguments[0]): \(message)\n"), "\(run.stderr)")
        }
    }

    @Test func aServerNamedByHostNameIsAUsageErrorAndExit64() throws {
        let run = try Evq.run(["resolve", "www.example.com", "--server", "localhost:53"])
        #expect(run.status == 64)
        #expect(run.stderr == """
            evq resolve: --server: server "localhost:53": "localhost" is not a numeric IPv4 or IPv6 address \
            (host names are not resolved)
            Run 'evq resolve --help' for usage.

            """)
    }

    @Test func aServerWhereNothingListensIsOneLineAndExit9() throws {
        let port = Loopback.freeUDPPort()
        let run = try Evq.run(["resolve", "www.example.com", "--server", "127.0.0.1:\(port)", "--timeout", "20"])
        #expect(run.status == 9)
        #expect(run.stderr
                == "evq resolve: www.example.com. A from 127.0.0.1:\(port): no reply: Connection refused (errno 111)\n")
        #expect(run.stdout.isEmpty)
    }

    @Test func aLoadRunAgainstAServerWhereNothingListensIsOneLineAndExit9() throws {
        let port = Loopback.freeUDPPort()
        let run = try Evq.run(["load", "--server", "127.0.0.1:\(port)", "--duration", "1", "--timeout", "5"])
        #expect(run.status == 9)
        #expect(run.stderr == "evq load: 127.0.0.1:\(port) did not answer a probe query for q0.load.evq.test: "
                + "no reply: Connection refused (errno 111); is a DNS server listening there?\n")
    }

    @Test func aPortAnotherProcessHoldsIsRefusedWithExit69() throws {
        // The holder sets SO_REUSEPORT, as a second responder would: without the check the
        // kernel would let evq serve share the port silently (and this run would not end).
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(fd) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size))
        try #require(Loopback.bind(fd) == 0)
        let port = Loopback.port(of: fd)
        let run = try Evq.run(["serve", "--port", "\(port)"], limit: .seconds(20))
        #expect(run.status == 69)
        #expect(run.stderr == "evq serve: bind: UDP port \(port) is held by another socket (set sharePort, or "
                + "evq serve --share-port, to share it): Address already in use (errno 98)\n")
    }

    @Test func scanReadsRFC3164TimesInTheZoneGiven() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("evq-tz-\(getpid()).log").path
        try "<38>Nov 23 08:00:00 web1 sshd[42]: Accepted publickey\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        let paris = try Evq.run(["scan", path, "--timezone", "+01:00"])
        #expect(paris.status == 0)
        #expect(paris.stdout.contains("-11-23T07:00:00Z web1 sshd[42]: Accepted publickey"), "\(paris.stdout)")
        let utc = try Evq.run(["scan", path])
        #expect(utc.stdout.contains("-11-23T08:00:00Z web1 sshd[42]"), "\(utc.stdout)")
        let named = try Evq.run(["scan", path, "--timezone", "Asia/Tokyo"])
        #expect(named.stdout.contains("-11-22T23:00:00Z web1 sshd[42]"), "\(named.stdout)")
        let bad = try Evq.run(["scan", path, "--timezone", "Mars/Olympus"])
        #expect(bad.status == 64)
        #expect(bad.stderr.hasPrefix("evq scan: --timezone Mars/Olympus: expected UTC, +HH:MM, -HH:MM or a tz database name\n"))
    }

    @Test(arguments: ["load", "race", "cancel-latency", "reactor-probe", "scan", "serve", "resolve", "hold"])
    func everySubcommandsHelpShowsAnExampleAndTheExitCodes(_ command: String) throws {
        let run = try Evq.run([command, "--help"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("Example: evq \(command) "))
        #expect(run.stdout.contains("Exit codes: 0 success"))
    }
}

/// The built `evq` beside this test bundle, run with a deadline.
enum Evq {
    /// `evq` in the build folder the tests run from (`swift build --build-tests` builds it).
    static var executable: String { Repository.evq }

    /// How a run ended: its exit status and what it wrote.
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Runs `evq arguments`; kills it (and fails) if it runs longer than `limit`.
    static func run(_ arguments: [String], limit: Duration = .seconds(60),
                    sourceLocation: SourceLocation = #_sourceLocation) throws -> Run {
        try #require(access(executable, X_OK) == 0, "no evq at \(executable): build with swift build --build-tests",
                     sourceLocation: sourceLocation)
        let run = try ChildProcess.run(executable, arguments, timeout: limit)
        #expect(!run.timedOut, "evq \(arguments) was killed after \(limit)", sourceLocation: sourceLocation)
        return Run(status: run.status, stdout: run.output, stderr: run.errors)
    }
}
