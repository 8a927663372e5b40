import ArgumentParser
import DNSMessage
import DNSResponder
import EventReactor
import Foundation

/// `evq serve`: the DNS responder on its own (docs/design.md "The command line"), until SIGINT or
/// SIGTERM; then it prints what it did.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "A fast DNS responder over UDP, TCP, TLS and HTTPS with fault injection (zone files and synthesized names).",
        discussion: """
            Example: evq serve --port 5300 --zone example.com.zone --drop 0.01 --delay exp:2ms
            DoT and DoH: evq serve --tls-cert cert.pem --tls-key key.pem --dot-port 8853 --doh-port 8443 --tcp-threads 2

            Faults apply on every transport; --truncate, --wrong-port and --max-qps are UDP's alone (TC means
            nothing over a stream), --reset and --split the streams' alone; over DoH a duplicate cannot be
            sent, --reset resets the HTTP/2 stream and --split sends two DATA frames.

            """ + CommandFailure.exitCodesHelp
    )

    @Flag(name: .customLong("share-port"),
          help: "Share the port with other processes' SO_REUSEPORT sockets (default: refuse a port that is held).")
    var sharePort = false
    @Option(help: "The IPv4 or IPv6 address to listen on (127.0.0.1, ::1).")
    var address = "127.0.0.1"
    @Option(help: "UDP and TCP port (0: the kernel chooses; it is printed).")
    var port: UInt16 = 5300
    @Option(help: "A zone file to serve (master format); repeat for more zones.")
    var zone: [String] = []
    @Option(help: "Synthesize A/AAAA/TXT answers for every name under this suffix ('none' turns it off).")
    var suffix = "load.evq.test."
    @Option(help: "UDP threads, one SO_REUSEPORT socket each.")
    var threads = 1
    @Option(name: .customLong("tcp-threads"), help: "Stream threads (TCP, DoT, DoH), each with its own listeners.")
    var tcpThreads = 1
    @Option(name: .customLong("max-connections"), help: "Open stream connections at most (TCP, DoT and DoH together).")
    var maxConnections = 4096
    @Option(name: .customLong("idle-timeout"), help: "Close a stream connection idle this many seconds (RFC 7766).")
    var idleTimeout = 10.0
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain for DoT and DoH.")
    var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key of --tls-cert.")
    var tlsKey: String?
    @Option(name: .customLong("dot-port"), help: "Serve DNS over TLS (RFC 7858) on this port (0: the kernel chooses).")
    var dotPort: UInt16?
    @Option(name: .customLong("doh-port"), help: "Serve DNS over HTTPS (RFC 8484, HTTP/2, /dns-query) on this port (0: the kernel chooses).")
    var dohPort: UInt16?
    @Option(help: "Seed of the fault draws.")
    var seed: UInt64 = 1
    @Option(help: "Fault: probability of answering nothing.")
    var drop = 0.0
    @Option(help: "Fault: delay answers by fixed:D, uniform:A-B or exp:MEAN (units ns, us, ms, s).")
    var delay: String?
    @Option(help: "Fault: the fraction of answers delayed by --delay (default 1).")
    var delayRate = 1.0
    @Option(help: "Fault: probability of an answer with TC set and no records.")
    var truncate = 0.0
    @Option(help: "Fault: probability of SERVFAIL.")
    var servfail = 0.0
    @Option(help: "Fault: probability of a malformed answer.")
    var malformed = 0.0
    @Option(help: "Fault: probability of an answer with a wrong transaction id.")
    var wrongId = 0.0
    @Option(help: "Fault: probability of an answer to another question.")
    var wrongQuestion = 0.0
    @Option(help: "Fault: probability of answering twice.")
    var duplicate = 0.0
    @Option(help: "Fault: probability of answering from another port.")
    var wrongPort = 0.0
    @Option(help: "Fault (streams): probability of sending half an answer, then resetting the connection.")
    var reset = 0.0
    @Option(help: "Fault (streams): probability of sending an answer in two writes, a millisecond apart.")
    var split = 0.0
    @Option(help: "Answer at most this many UDP queries per second (all threads), dropping the rest: a server of known capacity.")
    var maxQps: Double?
    @Flag(help: "UDP: read each query alone (no GRO) and send each answer alone (no GSO), as before both offloads.")
    var noOffload = false

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1…64") }
        for (flag, value) in [("--drop", drop), ("--delay-rate", delayRate), ("--truncate", truncate),
                              ("--servfail", servfail), ("--malformed", malformed), ("--wrong-id", wrongId),
                              ("--wrong-question", wrongQuestion), ("--duplicate", duplicate),
                              ("--wrong-port", wrongPort), ("--reset", reset), ("--split", split)]
        where !(0...1).contains(value) {
            throw ValidationError("\(flag) is a probability between 0 and 1")
        }
        guard (1...64).contains(tcpThreads) else { throw ValidationError("--tcp-threads must be 1…64") }
        guard (1...1_000_000).contains(maxConnections) else { throw ValidationError("--max-connections must be 1…1,000,000") }
        guard idleTimeout.isFinite, idleTimeout > 0, idleTimeout <= 86_400 else {
            throw ValidationError("--idle-timeout must be more than 0 and at most 86,400 seconds")
        }
        if (dotPort != nil || dohPort != nil) && (tlsCert == nil || tlsKey == nil) {
            throw ValidationError("--dot-port and --doh-port need --tls-cert and --tls-key")
        }
        if let maxQps, !(maxQps >= 1 && maxQps <= 100_000_000) { throw ValidationError("--max-qps must be 1…100,000,000") }
        if let delay {
            do { _ = try DelayDistribution(parsing: delay) } catch { throw ValidationError("--delay: \(error)") }
        }
    }

    func run() throws {
        var configuration = DNSResponder.Configuration()
        configuration.sharePort = sharePort
        configuration.receiveCoalescing = !noOffload
        configuration.segmentOffload = !noOffload
        configuration.address = address
        configuration.port = port
        configuration.threads = threads
        configuration.seed = seed
        configuration.tcpThreads = tcpThreads
        configuration.maxTCPConnections = maxConnections
        configuration.streamIdleTimeout = .milliseconds(Int64(idleTimeout * 1000))
        configuration.tlsCertificatePath = tlsCert
        configuration.tlsKeyPath = tlsKey
        configuration.dotPort = dotPort
        configuration.dohPort = dohPort
        configuration.synthesisSuffix = nil
        if suffix != "none" {
            guard let name = try? DNSName(parsing: suffix) else {
                throw ValidationError("--suffix \(suffix) is not a name")
            }
            configuration.synthesisSuffix = name
        }
        for path in zone {
            // Without $ORIGIN the zone is named after its file (example.com.zone → example.com.).
            let base = (path as NSString).lastPathComponent.replacingOccurrences(of: ".zone", with: "")
            do {
                try configuration.loadZone(path: path, origin: (try? DNSName(parsing: base + ".")) ?? .root)
            } catch { throw CommandFailure(.file, "--zone: \(error.detail)") }
        }
        var faults = DNSFaults()
        faults.drop = drop
        if let delay {
            faults.delay = DelayDistribution(delay)!
            faults.delayed = delayRate
        }
        faults.truncate = truncate
        faults.servfail = servfail
        faults.malformed = malformed
        faults.wrongID = wrongId
        faults.wrongQuestion = wrongQuestion
        faults.duplicate = duplicate
        faults.wrongSourcePort = wrongPort
        faults.maxQPS = maxQps
        faults.reset = reset
        faults.split = split
        configuration.faults = faults

        // Signals are taken by sigwait on this thread: block them before any thread starts. A
        // signal ignored since exec (a background job of a script ignores SIGINT) never reaches
        // sigwait, so both get their default disposition first.
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGINT)
        sigaddset(&signals, SIGTERM)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        let responder: DNSResponder
        do {
            responder = try DNSResponder(configuration)
        } catch {
            // A certificate or key that cannot be read is a file error, as a zone file is.
            guard error.operation == "tls" else { throw error }
            throw CommandFailure(.file, "\(error)")
        }
        try responder.start()
        // Written at once (not buffered): scripts wait for this line to learn the port.
        let host = address.contains(":") && !address.hasPrefix("[") ? "[\(address)]" : address
        let banner = "evq serve: answering on \(host):\(responder.port) (UDP, \(threads) thread(s); TCP"
            + (responder.dotPort.map { ", DoT on \($0)" } ?? "") + (responder.dohPort.map { ", DoH on \($0)" } ?? "")
            + ", \(tcpThreads) stream thread(s))"
            + (configuration.synthesisSuffix.map { ", synthesizing under \($0)" } ?? "")
            + (faults.any ? ", faults on" : "") + "\n"
        FileHandle.standardOutput.write(Data(banner.utf8))
        var received: Int32 = 0
        sigwait(&signals, &received)
        responder.stop()
        print("evq serve: stopped by signal \(received): \(responder.counters())")
    }
}
