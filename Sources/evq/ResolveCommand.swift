import ArgumentParser
import DNSMessage
import DNSQuery
import EventReactor
import Foundation
import LoadGenerator

#if canImport(Glibc)
import Glibc
#endif

/// `evq resolve NAME [TYPE]`: one query through the DNSQuery engine, printed like `dig` — the
/// header with its status and flags, every section in presentation format, then the server, the
/// transport, the attempts and the time. A query that gets no answer is one line on stderr (the
/// errno's text for a network error: a closed port is `Connection refused`, not a timeout) and exit
/// 9, dig's "no reply" status.
struct ResolveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve",
        abstract: "Ask one DNS question with the evquery engine and print the answer like dig.",
        discussion: """
            Example: evq resolve www.example.com AAAA --server 127.0.0.1:5300

            A name is ASCII: a space or another special byte is written as an RFC 1035 escape (\\032), an \
            internationalized name as its IDNA A-label (xn--…).

            """ + CommandFailure.exitCodesHelp
    )

    @Argument(help: "The name to ask (a trailing dot is optional).")
    var name: String
    @Argument(help: "The type: any IANA type name (A, MX, DNSKEY, NSEC3PARAM, HTTPS, …), TYPEnnn or a number.")
    var type = "A"
    @Option(help: "Server HOST:PORT, [IPv6]:PORT or an address alone (default: the nameservers of /etc/resolv.conf).")
    var server: String?
    @Option(help: "A source address to send from (no port), repeatable: the sockets spread over them.")
    var localAddress: [String] = []
    @Flag(help: "Ask over TCP from the start.")
    var tcp = false
    @OptionGroup var queryFlags: QueryFlagOptions
    @OptionGroup var transportOptions: TransportOptions
    @Flag(help: "Clear RD (no recursion).")
    var norecurse = false
    @Option(help: "The whole query's deadline, seconds.")
    var timeout = 5.0
    @Option(help: "Sends at most (retransmissions and other servers included).")
    var attempts = 3

    func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be in (0, 3600] seconds") }
        guard (1...255).contains(attempts) else { throw ValidationError("--attempts must be 1…255") }
        if let server {
            do { _ = try DNSServer(parsing: server, defaultPort: transportOptions.defaultPort) } catch {
                throw ValidationError("--server: \(error)")
            }
        }
        _ = try sources()
        _ = try queryFlags.flags()
        if queryType == nil { throw ValidationError("unknown type \(type): use a mnemonic, TYPEnnn or 0…65535") }
    }

    /// `--local-address` parsed and checked (bound once), and of the server's family.
    private func sources() throws -> [DNSServer] {
        let sources = try localAddress.map { text in
            let source: DNSServer
            do throws(DNSServerParseError) { source = try DNSServer(parsingSource: text) } catch {
                throw ValidationError("--local-address \"\(text)\": \(error.reason)")
            }
            do { try source.checkSourceAddress() } catch { throw ValidationError("--local-address \(text): \(error)") }
            return source
        }
        if let server, !sources.isEmpty, let target = try? DNSServer(parsing: server),
            !sources.contains(where: { $0.isIPv6 == target.isIPv6 })
        {
            let family = target.isIPv6 ? "IPv6" : "IPv4"
            throw ValidationError("--server \(target) is \(family), but no --local-address is \(family)")
        }
        return sources
    }

    private var queryType: DNSType? { DNSType(mnemonic: type) ?? UInt16(type).map { DNSType($0) } }

    func run() throws {
        var options = DNSQueryOptions()
        options.tcpOnly = tcp
        options.recursionDesired = !norecurse
        let flags = try queryFlags.flags()
        options.dnssecOK = flags.dnssecOK
        options.checkingDisabled = flags.checkingDisabled
        options.randomizeCase = flags.randomizeCase
        if let size = flags.ednsSize { options.ednsPayloadSize = size }
        if flags.noEDNS { options.ednsPayloadSize = nil }
        let nanos = UInt64(timeout * 1e9)
        var request: DNSQueryRequest
        do {
            request = try DNSQueryRequest(name, type: queryType!, options: options,
                                          timeout: .nanoseconds(Int64(nanos)), attempts: attempts)
        } catch {
            throw ValidationError("\(error)")
        }
        var configuration = DNSQueryEngine.Configuration()
        if let server { configuration.servers = [try DNSServer(parsing: server, defaultPort: transportOptions.defaultPort)] }
        configuration.localAddresses = try sources()
        try transportOptions.apply(to: &configuration)
        configuration.timeout = .nanoseconds(Int64(nanos))
        configuration.attempts = attempts
        configuration.maxRetransmitInterval = min(configuration.maxRetransmitInterval, configuration.timeout)
        configuration.retransmitInterval = min(configuration.retransmitInterval, configuration.timeout)

        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let engine = DNSQueryEngine(reactor: reactor, configuration: configuration)
        defer { engine.shutdown() }
        let done = DispatchSemaphore(value: 0)
        let outcome = Locked<DNSQueryOutcome?>(nil)
        engine.start(request) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        let asked = "\(request.name) \(request.type)"
        switch outcome.withLock({ $0 })! {
        case .success(let result):
            print(Self.digText(result, asked: asked))
        case .failure(let error):
            let servers = server ?? "the nameservers of /etc/resolv.conf"
            throw CommandFailure(.dns, "\(asked) from \(servers): \(error)")
        }
    }

    /// The answer as dig prints it: banner, the message (header, flags, OPT, sections), then the
    /// facts of the exchange.
    static func digText(_ result: DNSQueryResult, asked: String) -> String {
        let millis = Double(result.elapsedNanos) / 1e6
        let message: DNSMessage? = result.message
        let trailing = result.summary.trailingBytes == 0 ? ""
            : "\n;; WARNING: \(result.summary.trailingBytes) bytes after the last record (ignored)"
        return """
            ; <<>> evq resolve <<>> \(asked)
            ;; Got answer:
            \(message.map(\.description) ?? ";; status: \(result.rcode)")\(trailing)

            ;; Query time: \(String(format: "%.3f", millis)) msec
            ;; SERVER: \(result.server) (\(result.transport))
            ;; ATTEMPTS: \(result.attempts)
            """
    }
}
