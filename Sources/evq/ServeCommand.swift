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
        abstract: "A fast UDP/TCP DNS responder with fault injection (zone files and synthesized names).",
        discussion: """
            Example: evq serve --port 5300 --zone example.com.zone --drop 0.01 --delay exp:2ms

            """ + CommandFailure.exitCodesHelp
    )

    @Flag(name: .customLong("share-port"),
          help: "Share the port with other processes' SO_REUSEPORT sockets (default: refuse a port that is held).")
    var sharePort = false
    @Option(help: "IPv4 address to listen on.")
    var address = "127.0.0.1"
    @Option(help: "UDP and TCP port (0: the kernel chooses; it is printed).")
    var port: UInt16 = 5300
    @Option(help: "A zone file to serve (master format); repeat for more zones.")
    var zone: [String] = []
    @Option(help: "Synthesize A/AAAA/TXT answers for every name under this suffix ('none' turns it off).")
    var suffix = "load.evq.test."
    @Option(help: "UDP threads, one SO_REUSEPORT socket each.")
    var threads = 1
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
    @Option(help: "Answer at most this many UDP queries per second (all threads), dropping the rest: a server of known capacity.")
    var maxQps: Double?
    @Flag(help: "UDP: read each query alone (no GRO) and send each answer alone (no GSO), as before both offloads.")
    var noOffload = false

    func validate() throws {
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be 1…64") }
        for (flag, value) in [("--drop", drop), ("--delay-rate", delayRate), ("--truncate", truncate),
                              ("--servfail", servfail), ("--malformed", malformed), ("--wrong-id", wrongId),
                              ("--wrong-question", wrongQuestion), ("--duplicate", duplicate),
                              ("--wrong-port", wrongPort)]
        where !(0...1).contains(value) {
            throw ValidationError("\(flag) is a probability between 0 and 1")
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
        let responder = try DNSResponder(configuration)
        try responder.start()
        // Written at once (not buffered): scripts wait for this line to learn the port.
        let banner = "evq serve: answering on \(address):\(responder.port) (UDP, \(threads) thread(s); TCP)"
            + (configuration.synthesisSuffix.map { ", synthesizing under \($0)" } ?? "")
            + (faults.any ? ", faults on" : "") + "\n"
        FileHandle.standardOutput.write(Data(banner.utf8))
        var received: Int32 = 0
        sigwait(&signals, &received)
        responder.stop()
        print("evq serve: stopped by signal \(received): \(responder.counters())")
    }
}
