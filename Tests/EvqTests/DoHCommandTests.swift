import EvqueryTestSupport
import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `evq resolve` and `evq load` with `--transport doh`, as a person runs them against `evq serve`'s
/// DoH port: the answers are kdig's (`+https`), the load's report names the transport and counts its
/// handshakes, reconnects and stream resets, and a wrong flag is a usage error in words.
@Suite struct DoHCommandTests {
    /// `evq serve` with a fresh certificate and its DoH port, for `body`; stopped after.
    private func withDoHServe(_ body: (_ port: UInt16, _ certificate: String) throws -> Void) throws {
        let certificate = try TestCertificate()
        let port = Loopback.freeUDPPort()  // the TCP port of that number is as free on a quiet loopback
        let serve = try ChildProcess(Evq.executable,
                                     ["serve", "--port", "0", "--tls-cert", certificate.certificate, "--tls-key",
                                      certificate.key, "--doh-port", "\(port)"], stderr: .discard)
        defer {
            serve.signal(SIGTERM)
            _ = serve.wait(timeout: .seconds(10))
        }
        let banner = serve.readStandardOutput(until: { $0.contains(UInt8(ascii: "\n")) })
        try #require(String(decoding: banner, as: UTF8.self).contains("DoH on \(port)"),
                     "evq serve's banner: \(String(decoding: banner, as: UTF8.self))")
        try body(port, certificate.certificate)
    }

    @Test func resolveOverDoHAnswersAsKdigOverHTTPS() throws {
        try withDoHServe { port, certificate in
            for method in ["post", "get"] {
                let resolve = try Evq.run(["resolve", "www.load.evq.test", "A", "--server", "127.0.0.1:\(port)",
                                           "--transport", "doh", "--doh-method", method, "--tls-ca", certificate])
                #expect(resolve.status == 0, "\(resolve.stderr)")
                #expect(resolve.stdout.contains(";; SERVER: 127.0.0.1:\(port) (DOH)"), "\(resolve.stdout)")
                let ours = resolve.stdout.split(separator: "\n").filter { $0.hasPrefix("www.load.evq.test.") }
                    .compactMap { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).last.map(String.init) }
                let theirs = try ChildProcess.run(
                    "/usr/bin/kdig", ["@127.0.0.1", "-p", "\(port)", "+https", "+tls-ca=\(certificate)", "+short",
                                      "+timeout=5", "www.load.evq.test", "A"], timeout: .seconds(30)).output
                #expect(!ours.isEmpty && ours == theirs.split(separator: "\n").map(String.init), "\(ours) \(theirs)")
            }
        }
    }

    @Test func loadOverDoHReportsTheTransportHandshakesAndStreamResets() throws {
        try withDoHServe { port, certificate in
            let json = NSTemporaryDirectory() + "evq-doh-load-\(getpid()).json"
            defer { unlink(json) }
            let load = try Evq.run(["load", "--server", "127.0.0.1:\(port)", "--transport", "doh", "--tls-ca",
                                    certificate, "--connections", "2", "--outstanding", "50", "--queries", "2000",
                                    "--cancel-rate", "0.1", "--json", json])
            #expect(load.status == 0, "\(load.stderr)")
            #expect(load.stdout.contains("over doh"), "\(load.stdout)")
            let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as? [String: Any]
            #expect(report?["transport"] as? String == "doh")
            let connections = try #require(report?["connections"] as? [String: Int])
            #expect(connections["tls_handshakes"] == 2 && connections["failures"] == 0, "\(connections)")
            #expect(connections["stream_resets"] != nil && connections["reconnects"] == 0, "\(connections)")
        }
    }

    @Test func aDoHMethodOtherThanPostOrGetIsAUsageError() throws {
        let run = try Evq.run(["resolve", "www.example.test", "--transport", "doh", "--doh-method", "put"])
        #expect(run.status == 64)
        #expect(run.stderr.hasPrefix("evq resolve: --doh-method put: use post or get\n"), "\(run.stderr)")
    }
}
