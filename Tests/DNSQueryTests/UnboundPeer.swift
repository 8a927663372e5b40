import DNSQuery
import EvqueryTestSupport

#if canImport(Glibc)
import Glibc
#endif

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
    static let server: Result<Ports, PeerServer.Failure> = isInstalled
        ? PeerServer.start(script: "unbound-server.sh", name: "evq-dnsquery-unbound", ports: 3,
                           watchVariable: "UNBOUND_WATCH_PID").map {
            Ports(dns: $0.ports[0], tls: $0.ports[1], https: $0.ports[2], certificate: $0.directory + "/cert.pem")
        }
        : .failure(PeerServer.Failure("unbound is not installed (tools/install-test-peers.d/unbound.sh)"))

    /// Whether an unbound binary is on the PATH.
    static var isInstalled: Bool {
        let paths = ["/usr/sbin/unbound", "/usr/bin/unbound", "/usr/local/sbin/unbound"]
        return paths.contains { access($0, X_OK) == 0 }
    }
}
