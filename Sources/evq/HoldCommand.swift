import ArgumentParser
import DNSMessage
import DNSQuery
import EvdnsBaseline
import EventReactor
import Foundation
import LinuxSystem

/// `evq hold` (hidden): holds N DNS queries outstanding on one loop against a UDP socket that is
/// bound but never read, and prints the resident memory they cost — the RSS-per-outstanding-query
/// figure of docs/performance.md "Targets", measured the same way for evquery and for libevent's evdns
/// (tools/rss-per-query.sh runs both). Each query asks a distinct name (`h<i>.load.evq.test.`)
/// built after the baseline, so names count; then every query is cancelled (evdns: freed) and the
/// completions are counted (each exactly once).
struct HoldCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Hold N queries outstanding against a silent server and print RSS per query.",
        discussion: """
            Example: evq hold --outstanding 100000

            """ + CommandFailure.exitCodesHelp,
        shouldDisplay: false
    )

    enum Engine: String, ExpressibleByArgument, CaseIterable {
        case evquery, evdns
    }

    @Option(help: "evquery or evdns.")
    var engine = Engine.evquery
    @Option(help: "Queries to hold outstanding.")
    var outstanding = 100_000
    @Option(help: "Seconds to let the loop send them before measuring.")
    var settle = 2.0

    func validate() throws {
        guard (1...1_000_000).contains(outstanding) else { throw ValidationError("--outstanding is 1…1,000,000") }
        guard (0...60).contains(settle) else { throw ValidationError("--settle is 0…60 seconds") }
    }

    func run() throws {
        let sink = try SilentUDPServer()
        defer { sink.close() }
        var rssBefore = 0
        var rssHeld = 0
        var completed = 0
        switch engine {
        case .evquery:
            (rssBefore, rssHeld, completed) = try holdEvquery(port: sink.port)
        case .evdns:
            rssBefore = ProcessUsage.residentBytes()
            completed = try EvdnsHold.hold(server: "127.0.0.1:\(sink.port)", outstanding: outstanding,
                                           suffix: "load.evq.test", settleSeconds: settle) {
                rssHeld = ProcessUsage.residentBytes()
            }
        }
        let perQuery = Double(rssHeld - rssBefore) / Double(outstanding)
        print("engine=\(engine.rawValue) outstanding=\(outstanding) rss_before=\(rssBefore) rss_held=\(rssHeld) "
              + "bytes_per_query=\(String(format: "%.1f", perQuery)) completed=\(completed)")
        if completed != outstanding {
            throw CommandFailure(.audit, "\(completed) of \(outstanding) queries completed: each must complete once")
        }
    }

    private func holdEvquery(port: UInt16) throws -> (Int, Int, Int) {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        var configuration = DNSQueryEngine.Configuration()
        configuration.servers = [DNSServer(ipv4: 127, 0, 0, 1, port: port)]
        configuration.resolvConfPath = "/nonexistent"
        configuration.timeout = .seconds(3600)
        configuration.retransmitInterval = configuration.timeout
        configuration.maxRetransmitInterval = configuration.timeout
        configuration.attempts = 1
        let engine = DNSQueryEngine(reactor: reactor, configuration: configuration)
        defer { engine.shutdown() }
        let completions = Locked(0)
        // One closure for every query: the caller's completion context is not the engine's memory.
        let completion: @Sendable (DNSQueryOutcome) -> Void = { _ in completions.withLock { $0 += 1 } }
        let count = outstanding
        let before = ProcessUsage.residentBytes()
        let refused = reactor.syncOnLoop { () -> Int in
            var options = DNSQueryOptions()
            options.resultDetail = .summary
            var refused = 0
            for index in 0..<count {
                guard let request = try? DNSQueryRequest("h\(index).load.evq.test.", type: .a, options: options) else {
                    refused += 1
                    continue
                }
                engine.start(request, completion: completion)
            }
            return refused
        }
        guard refused == 0 else { throw ValidationError("\(refused) names could not be made") }
        let deadline = MonotonicClock.now() + 60_000_000_000
        while engine.counters().sentUDP < count && MonotonicClock.now() < deadline { usleep(10_000) }
        usleep(UInt32(settle * 1e6))
        let held = ProcessUsage.residentBytes()
        engine.cancelAll()
        while completions.withLock({ $0 }) < count && MonotonicClock.now() < deadline + 10_000_000_000 {
            usleep(10_000)
        }
        return (before, held, completions.withLock { $0 })
    }
}

/// A UDP socket on 127.0.0.1 (kernel-chosen port) that is never read: a server that never answers.
private struct SilentUDPServer {
    let fd: Int32
    let port: UInt16

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw CommandFailure(.unavailable, "socket: \(String(cString: strerror(errno))) (errno \(errno))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let socketFD = fd
        let status = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(socketFD, pointer, length) == 0 ? getsockname(socketFD, pointer, &length) : -1
            }
        }
        guard status == 0 else {
            let code = errno
            Glibc.close(fd)
            throw CommandFailure(.unavailable, "bind 127.0.0.1: \(String(cString: strerror(code))) (errno \(code))")
        }
        port = UInt16(bigEndian: address.sin_port)
    }

    func close() { Glibc.close(fd) }
}
