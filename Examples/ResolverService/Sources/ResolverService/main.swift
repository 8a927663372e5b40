import DNSMessage
import DNSQuery
import EventReactor
import EvqueryLifecycle
import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle

// ResolverService: evquery inside a Swift service.
//
//   GET /resolve?name=www.example.com&type=AAAA   the answer as JSON, from the evquery engine
//   GET /metrics                                   the engine's and the reactor's metrics (Prometheus)
//
// Flags: --port P (HTTP, default 8080), --server HOST:PORT (DNS, default resolv.conf's).
// SIGTERM or SIGINT: a graceful shutdown (HTTP first, then the engine, whose outstanding queries
// complete with cancelled(shutdown)); then the exactly-once audit is printed, and the exit status
// is 0 only if it holds.

/// The command line: `--port` and `--server`.
struct Options {
    var port = 8080
    var server: DNSServer?

    init(_ arguments: [String]) throws {
        var rest = arguments.dropFirst()
        while let flag = rest.popFirst() {
            guard let value = rest.popFirst() else { throw OptionError("\(flag) needs a value") }
            switch flag {
            case "--port":
                guard let port = Int(value), (0...65_535).contains(port) else { throw OptionError("bad port \(value)") }
                self.port = port
            case "--server":
                guard let server = DNSServer(value) else { throw OptionError("bad server \(value)") }
                self.server = server
            default:
                throw OptionError("unknown flag \(flag)")
            }
        }
    }
}

struct OptionError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One resource record of an answer, as JSON.
struct RecordJSON: Codable {
    var name: String
    var type: String
    var ttl: UInt32
    var data: String
}

/// The JSON answer of `/resolve`.
struct ResolveJSON: ResponseCodable {
    var name: String
    var type: String
    var rcode: String
    var answers: [RecordJSON]
}

/// Numbers the queries the service starts and counts their completions, for the audit at exit.
final class QueryLedger: Sendable {
    let ledger = CompletionLedger(capacity: 1 << 20)
    private let next = Locked(0)
    var started: Int { next.withLock { $0 } }
    func take() -> Int? {
        next.withLock { count in
            guard count < (1 << 20) else { return nil }
            defer { count += 1 }
            return count
        }
    }
}

let options: Options
do {
    options = try Options(CommandLine.arguments)
} catch {
    FileHandle.standardError.write(Data("ResolverService: \(error)\nusage: ResolverService [--port P] [--server HOST:PORT]\n".utf8))
    exit(64)
}

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .info
    return handler
}
let logger = Logger(label: "resolver-service")
let registry = PrometheusCollectorRegistry()
let metrics = PrometheusMetricsFactory(registry: registry)

var reactorConfiguration = Reactor.Configuration()
reactorConfiguration.logger = logger
reactorConfiguration.metricsFactory = metrics
let reactor = try Reactor(configuration: reactorConfiguration)
let baseline = reactor.auditBaseline()

var engineConfiguration = DNSQueryEngine.Configuration()
if let server = options.server { engineConfiguration.servers = [server] }
engineConfiguration.metricsFactory = metrics
engineConfiguration.logger = logger
let engine = DNSQueryEngine(reactor: reactor, configuration: engineConfiguration)
let queries = QueryLedger()

let router = Router()
router.get("/resolve") { request, _ -> ResolveJSON in
    guard let name = request.uri.queryParameters.get("name") else {
        throw HTTPError(.badRequest, message: "name is missing: /resolve?name=NAME&type=TYPE")
    }
    let typeName = request.uri.queryParameters.get("type") ?? "A"
    guard let type = DNSType(mnemonic: typeName.uppercased()) else {
        throw HTTPError(.badRequest, message: "unknown type \(typeName)")
    }
    let dnsRequest: DNSQueryRequest
    do {
        dnsRequest = try DNSQueryRequest(name, type: type)
    } catch {
        throw HTTPError(.badRequest, message: "\(error)")
    }
    guard let index = queries.take() else { throw HTTPError(.serviceUnavailable) }
    let outcome: DNSQueryOutcome = await withCheckedContinuation { continuation in
        engine.start(dnsRequest) { outcome in
            queries.ledger.record(index)
            continuation.resume(returning: outcome)
        }
    }
    switch outcome {
    case .success(let result):
        let answers = result.answers.map {
            RecordJSON(name: $0.name.description, type: $0.type.description, ttl: $0.ttl, data: $0.data.presentation(for: $0.type))
        }
        return ResolveJSON(name: name, type: type.description, rcode: result.rcode.description, answers: answers)
    case .failure(.serverFailure(let rcode)):
        return ResolveJSON(name: name, type: type.description, rcode: rcode.description, answers: [])
    case .failure(let error):
        throw HTTPError(.badGateway, message: "\(error)")
    }
}
router.get("/metrics") { _, _ -> String in
    registry.emitToString()
}

let app = Application(
    router: router,
    configuration: .init(address: .hostname("127.0.0.1", port: options.port)),
    logger: logger
)
let group = ServiceGroup(
    services: [engine, app],
    gracefulShutdownSignals: [.sigterm, .sigint],
    logger: logger
)
try await group.run()

// The engine has shut down: every query it started has completed once. The audit, then the loop.
let audit = reactor.audit(since: baseline, ledger: queries.ledger, started: queries.started)
print("audit: \(audit)")
await reactor.shutdown()
exit(audit.ok ? 0 : 1)
