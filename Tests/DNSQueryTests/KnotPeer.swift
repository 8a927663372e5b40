import DNSQuery
import EvqueryTestSupport

/// A private knotd on 127.0.0.1 serving `example.test.`, started once for the test run by
/// `tools/knot-server.sh` (installed by `tools/install-test-peers.d/dns-peers.sh`) and stopped when
/// the process exits.
enum KnotPeer {
    static let zone = """
        $ORIGIN example.test.
        $TTL 300
        @        IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
        @        IN NS  ns1
        ns1      IN A   127.0.0.1
        www      IN A   192.0.2.10
        www      IN AAAA 2001:db8::10
        MixedCase IN A  192.0.2.20
        \(bigTXT)
        \(KnotRDataTests.zoneLines)
        """

    /// 12 TXT records of 200 bytes: about 2.6 KB, over the 1232-byte EDNS size, so UDP is truncated.
    static let bigTXT = (0..<12).map { index in
        "big      IN TXT \"\(String(repeating: Character(UnicodeScalar(UInt8(97 + index))), count: 200))\""
    }.joined(separator: "\n")

    /// The server's address, or the reason it could not start.
    static let server: Result<DNSServer, PeerServer.Failure> = PeerServer.start(
        script: "knot-server.sh", name: "evq-dnsquery-knot", ports: 1, watchVariable: "KNOT_WATCH_PID",
        files: ["example.test.zone": zone], more: { ["\($0)/example.test.zone"] }
    ).map { DNSServer(ipv4: 127, 0, 0, 1, port: $0.ports[0]) }
}
