import DNSQuery
import Foundation

/// A private unbound on 127.0.0.1 with UDP/TCP, TLS and HTTPS ports and a self-signed certificate,
/// started once for the test run by `tools/unbound-server.sh` (installed by
/// `tools/install-test-peers.d/unbound.sh`) and stopped when the process exits. It serves
/// `www.example.test.` (A 192.0.2.10, AAAA 2001:db8::10) and `n0…n999.example.test.` A.
enum UnboundPeer {
    struct Ports: Sendable {
        var dns: UInt16
        var tls: UInt16
        var https: UInt16
        /// The server's certificate, its own CA (names dns.evq.test and 127.0.0.1).
        var certificate: String
        var plain: DNSServer { DNSServer(ipv4: 127, 0, 0, 1, port: dns) }
        var overTLS: DNSServer { DNSServer(ipv4: 127, 0, 0, 1, port: tls) }
    }

    /// The server, or why it could not start (tests then skip with this message).
    static let server: Result<Ports, KnotPeer.KnotError> = start()

    /// Whether an unbound binary is on the PATH.
    static var isInstalled: Bool {
        ["/usr/sbin/unbound", "/usr/bin/unbound", "/usr/local/sbin/unbound"].contains {
            FileManager.default.isExecutableFile(atPath: $0)
        }
    }

    private static func start() -> Result<Ports, KnotPeer.KnotError> {
        guard isInstalled else {
            return .failure(KnotPeer.KnotError(description: "unbound is not installed (tools/install-test-peers.d/unbound.sh)"))
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("evq-dnsquery-unbound-\(getpid())")
        setenv("UNBOUND_WATCH_PID", "\(getpid())", 1)
        for _ in 0..<3 {
            let ports = (KnotPeer.freePort(), KnotPeer.freePort(), KnotPeer.freePort())
            let status = run(["start", directory.path, "\(ports.0)", "\(ports.1)", "\(ports.2)"])
            if status == 0 {
                stopDirectory = directory.path
                atexit { UnboundPeer.stop() }
                return .success(Ports(dns: ports.0, tls: ports.1, https: ports.2,
                                      certificate: directory.appendingPathComponent("cert.pem").path))
            }
        }
        return .failure(KnotPeer.KnotError(description: "tools/unbound-server.sh start failed"))
    }

    nonisolated(unsafe) private static var stopDirectory: String?

    private static func stop() {
        guard let directory = stopDirectory else { return }
        _ = run(["stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `bash tools/unbound-server.sh ARGUMENTS` and waits for it.
    static func run(_ arguments: [String]) -> Int32 { KnotPeer.run(arguments, script: "tools/unbound-server.sh") }
}
