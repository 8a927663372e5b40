import ArgumentParser
import EventReactor
import Foundation
import LoadGenerator

/// `evq load`: the load generator (docs/design.md "The command line"). With no arguments: the embedded
/// responder on 127.0.0.1, a short closed loop with some cancels, a live line per second, a final
/// report; non-zero exit if the exactly-once audit fails.
struct LoadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "DNS load: throughput, latency and cancel latency, with the exactly-once audit.",
        discussion: """
            Example: evq load --outstanding 1000 --duration 10 --cancel-rate 0.05 --json out/load.json

            """ + CommandFailure.exitCodesHelp
    )

    @Option(help: "Target HOST:PORT (default: the embedded responder on 127.0.0.1, a random port).")
    var server: String?
    @Option(help: "dnsperf datafile: 'name type' per line.")
    var datafile: String?
    @Option(help: "Closed loop: queries kept in flight.")
    var outstanding: Int?
    @Option(help: "Open loop: target queries per second.")
    var rate: Double?
    @Option(help: "Seconds to run.")
    var duration: Double = 5
    @Option(help: "Stop after this many queries.")
    var queries: Int?
    @Option(help: "Reactors (loop threads).")
    var reactors: Int = 1
    @Option(help: "Fraction of queries cancelled, 0…1.")
    var cancelRate: Double = 0.05
    @Option(help: "Delay before a cancel: fixed:D, uniform:A-B, exp:MEAN (units ns, us, ms, s).")
    var cancelAfter: String = "uniform:0us-200us"
    @Option(help: "Where cancels come from: loop, thread or mixed.")
    var cancelFrom: String = "mixed"
    @Option(help: "Log-scan jobs mixed into the load.")
    var scanJobs: Int = 0
    @Option(help: "The log file scan jobs read.")
    var scanFile: String?
    @Option(help: "The scan jobs' filter, e.g. 'message contains \"Failed\"' (default: every record).")
    var scanFilter: String?
    @Option(help: "evquery; evdns (libevent's own client, the in-run baseline); floor (sendmmsg/recvmmsg, no parsing).")
    var engine: String = "evquery"
    @Option(help: "Per-query timeout, seconds.")
    var timeout: Double = 2
    @Option(help: "Seed for every random choice.")
    var seed: UInt64 = 1
    @Option(help: "Write the JSON report here.")
    var json: String?
    @Option(help: "Write an HdrHistogram interval log here.")
    var histogramLog: String?
    @Option(help: "Write an SVG plot here.")
    var plot: String?
    @Flag(help: "No live line.")
    var quiet = false
    @Flag(help: "evquery: one message per query (sendmmsg, as the floor) instead of UDP GSO for equal-length queries.")
    var noSegmentOffload = false

    func validate() throws {
        if outstanding != nil && rate != nil { throw ValidationError("give --outstanding (closed loop) or --rate (open loop), not both") }
        do { try configuration().validate() } catch let failure as LoadRun.Failure { throw ValidationError(failure.description) }
    }

    /// The flags as a configuration (the datafile is read by `run`).
    private func configuration() throws -> LoadConfiguration {
        var configuration = LoadConfiguration()
        configuration.server = server
        if let outstanding { configuration.outstanding = outstanding }
        configuration.rate = rate
        configuration.durationSeconds = duration
        configuration.maxQueries = queries
        configuration.reactors = reactors
        configuration.cancelRate = cancelRate
        do { configuration.cancelAfter = try DelayDistribution(parsing: cancelAfter) } catch {
            throw ValidationError("--cancel-after: \(error)")
        }
        guard let source = CancelSource(rawValue: cancelFrom) else { throw ValidationError("--cancel-from must be loop, thread or mixed") }
        configuration.cancelFrom = source
        guard let kind = LoadEngineKind(rawValue: engine) else { throw ValidationError("--engine must be evquery, evdns or floor") }
        configuration.engine = kind
        configuration.scanJobs = scanJobs
        configuration.scanFile = scanFile
        configuration.scanFilter = scanFilter
        configuration.timeoutSeconds = timeout
        configuration.seed = seed
        configuration.quiet = quiet
        configuration.segmentOffload = !noSegmentOffload
        return configuration
    }

    func run() throws {
        var configuration = try configuration()
        if let datafile {
            let text = try CommandFailure.readTextFile(datafile, flag: "--datafile")
            do { configuration.queries = try Datafile.parse(text) } catch {
                throw CommandFailure(.file, "--datafile \(datafile): \(error)")
            }
        }
        let (report, recorder) = try LoadRun.run(configuration)
        print(report.text)
        if let json { try report.json().write(toFile: json, atomically: true, encoding: .utf8) }
        if let histogramLog { try recorder.histogramLog.write(toFile: histogramLog, atomically: true, encoding: .utf8) }
        if let plot { try SVGPlot.render(report).write(toFile: plot, atomically: true, encoding: .utf8) }
        if !report.audit.ok { throw CommandFailure(.audit, "the exactly-once audit failed (see the report's audit line)") }
    }
}
