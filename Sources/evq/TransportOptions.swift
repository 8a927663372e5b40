import ArgumentParser
import DNSQuery

/// The transport flags `evq load` and `evq resolve` share.
struct TransportOptions: ParsableArguments {
    @Option(help: "udp (with TCP after truncation), tcp, or dot (DNS over TLS; port 853 unless --server names one).")
    var transport = "udp"
    @Option(help: "tcp and dot: connections per server, queries pipelined on each.")
    var connections = 1
    @Option(help: "dot: the PEM file of the CA certificates the server's certificate is checked against (default: the system's).")
    var tlsCa: String?
    @Flag(help: "dot: accept any certificate and name (self-signed test servers).")
    var insecure = false
    @Option(help: "dot: the name the server's certificate must carry, also sent as SNI (default: its IP address).")
    var tlsName: String?

    /// The transport asked for, or a usage error naming the ones there are.
    func parsedTransport() throws -> DNSTransport {
        switch transport {
        case "udp": return .udp
        case "tcp": return .tcp
        case "dot", "tls": return .tls
        case "doh": throw ValidationError("--transport doh: DNS over HTTPS is not in evq yet; use udp, tcp or dot")
        default: throw ValidationError("--transport \(transport): use udp, tcp or dot")
        }
    }

    func validate() throws {
        _ = try parsedTransport()
        guard (1...1024).contains(connections) else { throw ValidationError("--connections must be 1…1024") }
    }

    /// The port a server given without one is asked on: 853 for DNS over TLS, else 53.
    var defaultPort: UInt16 { transport == "dot" || transport == "tls" ? 853 : 53 }

    /// Sets the engine's transport, pool and TLS settings.
    func apply(to configuration: inout DNSQueryEngine.Configuration) throws {
        configuration.transport = try parsedTransport()
        configuration.connectionsPerServer = connections
        configuration.tlsCAFile = tlsCa
        configuration.tlsVerifiesPeer = !insecure
        configuration.tlsServerName = tlsName
    }
}
