import EvqueryTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `evq serve --address ::1`, `evq resolve --server [::1]:PORT` and `evq load` with `--local-address`,
/// as a person runs them, and the refusals of an address that cannot work, in words, exit 64.
@Suite struct IPv6CommandTests {
    @Test func serveOnIPv6LoopbackAnswersResolveAndALoadFromASourceAddress() throws {
        let serve = try ChildProcess(Evq.executable, ["serve", "--address", "::1", "--port", "0"], stderr: .discard)
        defer {
            serve.signal(SIGTERM)
            _ = serve.wait(timeout: .seconds(30))
        }
        // "evq serve: answering on [::1]:PORT (UDP, …": the first line, written at once.
        let banner = serve.readStandardOutput(until: { $0.contains(UInt8(ascii: "\n")) })
        try #require(banner.contains(UInt8(ascii: "\n")), "evq serve ended before its banner")
        let line = String(decoding: banner, as: UTF8.self)
        let prefix = "evq serve: answering on [::1]:"
        try #require(line.hasPrefix(prefix), "\(line)")
        let port = try #require(UInt16(line.dropFirst(prefix.count).prefix { $0.isNumber }))

        let resolve = try Evq.run(["resolve", "www.load.evq.test", "AAAA", "--server", "[::1]:\(port)",
                                   "--local-address", "::1"])
        #expect(resolve.status == 0, "\(resolve.stderr)")
        #expect(resolve.stdout.contains(";; SERVER: [::1]:\(port) (UDP)"), "\(resolve.stdout)")

        let load = try Evq.run(["load", "--server", "[::1]:\(port)", "--local-address", "::1", "--queries", "300",
                                "--outstanding", "10", "--cancel-rate", "0", "--quiet"])
        #expect(load.status == 0, "\(load.stderr)")
        #expect(load.stdout.contains("evq load: evquery over udp → [::1]:\(port),"), "\(load.stdout)")
        #expect(load.stdout.contains("rcodes          NOERROR=300"), "\(load.stdout)")
    }

    @Test func aSourceAddressTheHostLacksIsAUsageErrorInWords() throws {
        // 198.18.0.0/15, the benchmarking range: no interface here has it, so nothing is sent.
        let run = try Evq.run(["load", "--local-address", "198.18.0.1", "--duration", "1"])
        #expect(run.status == 64)
        #expect(run.stderr == "evq load: --local-address 198.18.0.1: bind: Cannot assign requested address (errno 99)\n"
                + "Run 'evq load --help' for usage.\n")
    }

    @Test func aServerOfTheOtherFamilyThanTheSourceIsAUsageError() throws {
        let run = try Evq.run(["resolve", "www.example.com", "--server", "[::1]:53", "--local-address", "127.0.0.2"])
        #expect(run.status == 64)
        #expect(run.stderr.hasPrefix("evq resolve: --server [::1]:53 is IPv6, but no --local-address is IPv6\n"),
                "\(run.stderr)")
    }

    @Test func aBareIPv6ServerThatCouldHoldAPortIsAUsageErrorNamingBothForms() throws {
        let run = try Evq.run(["load", "--server", "::1:5300", "--duration", "1"])
        #expect(run.status == 64)
        #expect(run.stderr.hasPrefix("evq load: --server \"::1:5300\": \"::1:5300\" is ambiguous: write [::1]:5300 "
                + "for port 5300, or [::1:5300] for the address ::1:5300\n"), "\(run.stderr)")
    }
}
