import ArgumentParser
import DNSQuery

/// The transport flags `evq load` and `evq resolve` share.
struct TransportOptions: ParsableArguments {
    @Option(help: "udp (with TCP after truncation), tcp, dot (DNS over TLS; port 853 unless --server names one) or doh (DNS over HTTPS, HTTP/2; port 443).")
    var transport = "udp"
    @Option(help: "tcp, dot and doh: connections per server, queries pipelined (doh: on concurrent streams) on each.")
    var connections = 1
    @Option(help: "dot and doh: the PEM file of the CA certificates the server's certificate is checked against (default: the system's).")
    var tlsCa: String?
    @Flag(help: "dot and doh: accept any certificate and name (self-signed test servers).")
    var insecure = false
    @Option(help: "dot and doh: the name the server's certificate must carry, also sent as SNI and as doh's :authority (default: its IP address).")
    var tlsName: String?
    @Option(help: "doh: the path of the server's DNS endpoint.")
    var dohPath = "/dns-query"
    @Option(help: "doh: post (the message as the body) or get (base64url in ?dns=).")
    var dohMethod = "post"

    /// The transport asked for, or a usage error naming the ones there are.
    func parsedTransport() throws -> DNSTransport {
        switch transport {
        case "udp": return .udp
        case "tcp": return .tcp
        case "dot", "tls": return .tls
        case "doh": return .doh
        default: throw ValidationError("--transport \(transport): use udp, tcp, dot or doh")
        }
    }

    /// The DoH method asked for, or a usage error.
    func parsedMethod() throws -> DoHMethod {
        guard let method = DoHMethod(rawValue: dohMethod.lowercased()) else {
            throw ValidationError("--doh-method \(dohMethod): use post or get")
        }
        return method
    }

    func validate() throws {
        _ = try parsedTransport()
        _ = try parsedMethod()
        guard (1...1024).contains(connections) else { throw ValidationError("--connections must be 1…1024") }
        guard dohPath.hasPrefix("/"), !dohPath.contains(where: { $0 == " " || $0 == "#" }) else {
            throw ValidationError("--doh-path \(dohPath): a path starting with / (no spaces, no #)")
        }
    }

    /// The port a server given without one is asked on: 853 for DNS over TLS, 443 for DoH, else 53.
    var defaultPort: UInt16 { ((try? parsedTransport()) ?? .udp).defaultPort }

    /// Sets the engine's transport, pool, TLS and DoH settings.
    func apply(to configuration: inout DNSQueryEngine.Configuration) throws {
        configuration.transport = try parsedTransport()
        configuration.connectionsPerServer = connections
        configuration.tlsCAFile = tlsCa
        configuration.tlsVerifiesPeer = !insecure
        configuration.tlsServerName = tlsName
        configuration.dohPath = dohPath
        configuration.dohMethod = try parsedMethod()
    }
}
