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

    @Option(help: "Target HOST:PORT or [IPv6]:PORT, repeatable: queries go round the servers (default: the embedded responder on 127.0.0.1, a random port).")
    var server: [String] = []
    @Option(help: "A source address to send from (no port), repeatable: the sockets spread over them (e.g. 127.0.0.2 … 127.0.0.9).")
    var localAddress: [String] = []
    @Option(help: "dnsperf datafile: 'name type' per line.")
    var datafile: String?
    @Option(help: "Closed loop: queries kept in flight.")
    var outstanding: Int?
    @Option(help: "Open loop: target queries per second (with --ramp-to: the rate the ramp starts from).")
    var rate: Double?
    @Option(help: "Open loop: rise linearly from --rate to this many queries per second; the report names the knee.")
    var rampTo: Double?
    @Option(help: "Seconds the ramp takes (default: --duration).")
    var rampSeconds: Double?
    @Option(help: "The ramp's knee: the highest rate with loss ≤ 1 % and p99 under this (units ns, us, ms, s).")
    var kneeP99 = "100ms"
    @Option(help: "Closed loop: at most this many queries per second.")
    var maxRate: Double?
    @Option(help: "Seconds per live line, JSON interval and CSV row.")
    var interval = 1.0
    @Option(help: "Write the intervals as CSV here (time, sent, responses, each rcode, timeouts, cancels, errors, p50/p99).")
    var intervalCsv: String?
    @Option(help: "A malformed datafile line: skip (report it with its number and go on) or stop.")
    var datafileErrors = "stop"
    @OptionGroup var queryFlags: QueryFlagOptions
    @OptionGroup var transportOptions: TransportOptions
    @Option(help: "Seconds to run (default 5, or --ramp-seconds).")
    var duration: Double?
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
    @Option(help: "This generator's part of a fleet, I/N (I from 0): every Nth datafile line from line I and 1/N of the rate or outstanding; auto/N takes I from JOB_COMPLETION_INDEX (a Kubernetes Indexed Job).")
    var shard: String?
    @Option(help: "Start at this time, RFC 3339 (2026-12-07T20:00:00Z) or seconds since the epoch, so that a fleet starts together.")
    var startAt: String?
    @Option(help: "KEY=VALUE on the report and every metric, repeatable.")
    var label: [String] = []
    @Option(help: "Serve live Prometheus metrics at http://HOST:PORT/metrics (IPv6 as [::1]:9100) while the load runs.")
    var metricsListen: String?
    @Option(help: "Seconds to keep serving the metrics after the run, for a last scrape.")
    var metricsLinger: Double = 0
    @Option(help: "Seconds between the metrics' readings of the run (0.01…60): what a scrape lags behind it at most.")
    var metricsPeriod: Double = 1
    @Flag(help: "No live line.")
    var quiet = false
    @Flag(help: "evquery: one message per query (sendmmsg, as the floor) instead of UDP GSO for equal-length queries.")
    var noSegmentOffload = false
    @Flag(help: "evquery: read each reply alone (recvmmsg) instead of taking coalesced replies (UDP GRO).")
    var noReceiveCoalescing = false

    func validate() throws {
        if !(metricsLinger.isFinite && (0...600).contains(metricsLinger)) { throw ValidationError("--metrics-linger must be 0…600 seconds") }
        if !(metricsPeriod.isFinite && (0.01...60).contains(metricsPeriod)) { throw ValidationError("--metrics-period must be 0.01…60 seconds") }
        if outstanding != nil && rate != nil { throw ValidationError("give --outstanding (closed loop) or --rate (open loop), not both") }
        if Datafile.ErrorPolicy(rawValue: datafileErrors) == nil { throw ValidationError("--datafile-errors must be skip or stop") }
        do { try configuration().validate() } catch let failure as LoadRun.Failure { throw ValidationError(failure.description) }
    }

    /// The flags as a configuration (the datafile is read by `run`).
    private func configuration() throws -> LoadConfiguration {
        var configuration = LoadConfiguration()
        configuration.servers = server
        configuration.localAddresses = localAddress
        if let outstanding { configuration.outstanding = outstanding }
        configuration.rate = rate
        let seconds = duration ?? rampSeconds ?? 5
        guard seconds.isFinite, seconds > 0, seconds <= 86_400 else {
            throw ValidationError("--duration must be in (0, 86400] seconds")
        }
        if let rampSeconds, !(rampSeconds.isFinite && rampSeconds > 0 && rampSeconds <= 86_400) {
            throw ValidationError("--ramp-seconds must be in (0, 86400]")
        }
        configuration.duration = .seconds(seconds)
        configuration.rampTo = rampTo
        configuration.rampSeconds = rampSeconds
        guard case .fixed(let knee)? = DelayDistribution("fixed:" + kneeP99) else {
            throw ValidationError("--knee-p99: expected a duration with units (e.g. 100ms)")
        }
        configuration.kneeP99 = .nanoseconds(Int64(clamping: knee))
        configuration.maxRate = maxRate
        guard interval.isFinite, interval > 0 else { throw ValidationError("--interval must be 0.01…3600 seconds") }
        configuration.interval = .nanoseconds(Int64(min(interval, 1e7) * 1e9))
        configuration.flags = try queryFlags.flags()
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
        guard timeout.isFinite, timeout > 0, timeout <= 3600 else {
            throw ValidationError("--timeout must be in (0, 3600] seconds")
        }
        configuration.timeout = .seconds(timeout)
        configuration.seed = seed
        configuration.quiet = quiet
        configuration.segmentOffload = !noSegmentOffload
        configuration.receiveCoalescing = !noReceiveCoalescing
        configuration.transport = try transportOptions.parsedTransport()
        if configuration.transport != .udp && kind != .evquery {
            throw ValidationError("--transport \(transportOptions.transport) needs --engine evquery")
        }
        configuration.connections = transportOptions.connections
        configuration.tlsCAFile = transportOptions.tlsCa
        configuration.tlsVerifiesPeer = !transportOptions.insecure
        configuration.tlsServerName = transportOptions.tlsName
        configuration.dohPath = transportOptions.dohPath
        configuration.dohMethod = try transportOptions.parsedMethod()
        do {
            configuration.shard = try shard.map { try LoadShard(parsing: $0) }
            configuration.startAt = try startAt.map(LoadStartTime.parse)
            configuration.labels = try LoadLabels.parse(label)
        } catch let failure as LoadRun.Failure { throw ValidationError(failure.description) }
        return configuration
    }

    func run() throws {
        var configuration = try configuration()
        if let datafile {
            let text = try CommandFailure.readTextFile(datafile, flag: "--datafile")
            guard let policy = Datafile.ErrorPolicy(rawValue: datafileErrors) else {
                throw ValidationError("--datafile-errors must be skip or stop")
            }
            let parsed: Datafile.Parsed
            do { parsed = try Datafile.parse(text, errors: policy) } catch {
                throw CommandFailure(.file, "--datafile \(datafile): \(error)")
            }
            for skipped in parsed.skipped {
                FileHandle.standardError.write(Data("evq load: --datafile \(datafile): \(skipped); skipped\n".utf8))
            }
            configuration.queries = parsed.queries
            let narrowed = parsed.queries.count { configuration.flags.isNarrowed(by: $0.flags) }
            if narrowed > 0 {
                FileHandle.standardError.write(Data(("evq load: --datafile \(datafile): \(narrowed) line(s) say no-edns: "
                    + "those queries go without EDNS, so without --dnssec-ok's DO bit and --edns-size (a line's "
                    + "flags win)\n").utf8))
            }
        }
        // SIGTERM or SIGINT (a Job's pod deleted, ^C) stops starting queries; those in flight drain and the
        // reports are written, marked incomplete, before the exit status says which signal it was.
        let stopSwitch = LoadStopSwitch()
        let signals = StopSignals(stopSwitch)
        configuration.stopSwitch = stopSwitch
        let metrics = try metricsListen.map { address in
            try serveMetrics(at: address, shard: configuration.shard, labels: configuration.labels)
        }
        defer { metrics?.close() }
        configuration.metrics = metrics
        let (report, recorder) = try LoadRun.run(configuration)
        print(report.text)
        if let metrics, report.sent > 0 {
            print("  metrics         their threads used \(String(format: "%.2f", metrics.cpuSeconds)) s CPU = "
                + String(format: "%.3f", metrics.cpuSeconds / Double(report.sent) * 1e6) + " s per million queries")
        }
        if let json { try report.json().write(toFile: json, atomically: true, encoding: .utf8) }
        if let histogramLog { try recorder.histogramLog.write(toFile: histogramLog, atomically: true, encoding: .utf8) }
        if let intervalCsv { try report.intervalCSV.write(toFile: intervalCsv, atomically: true, encoding: .utf8) }
        if let plot { try SVGPlot.render(report).write(toFile: plot, atomically: true, encoding: .utf8) }
        if !report.audit.ok { throw CommandFailure(.audit, "the exactly-once audit failed (see the report's audit line)") }
        if metrics != nil && metricsLinger > 0 && signals.received == nil { usleep(UInt32(metricsLinger * 1e6)) }
        if let signal = signals.received { throw ExitCode(128 + signal) }
    }

    /// Starts the metrics endpoint on `address` (`HOST:PORT`, `[IPv6]:PORT`).
    private func serveMetrics(at address: String, shard: LoadShard?, labels: [String: String]) throws -> LoadMetrics {
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]) else {
            throw ValidationError("--metrics-listen \(address): expected HOST:PORT")
        }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        let metrics = LoadMetrics(shard: shard, labels: labels, period: .milliseconds(Int64(metricsPeriod * 1e3)))
        do {
            let bound = try metrics.listen(host: host, port: port)
            FileHandle.standardError.write(Data("evq load: metrics at http://\(address.hasSuffix(":0") ? String(address.dropLast(1)) + String(bound) : address)/metrics\n".utf8))
        } catch {
            throw CommandFailure(.unavailable, "--metrics-listen \(address): \(error)")
        }
        return metrics
    }
}

/// SIGTERM and SIGINT, caught for the life of a run (`evq load`, `evq scan --follow`): each is handed
/// to `onSignal` on a thread of its own; the default action (the process ends) comes back when this
/// is released.
///
/// The handler is installed by `sigaction` before `init` returns, and the two signals unblocked on
/// the calling thread, so no signal after that is lost: it writes the signal's number to a pipe (all
/// it does: `write` is async-signal-safe) and a thread of its own reads the pipe and pulls the
/// switch. (A dispatch signal source needs the signal ignored first and installs its own handler
/// later, from its manager thread: a signal in between was lost.)
final class StopSignals {
    private let caught = Locked<Int32?>(nil)
    private let readEnd: Int32
    private let writeEnd: Int32
    private let reader = DispatchSemaphore(value: 0)

    /// Pulls `stopSwitch` at the first signal (a load run).
    convenience init(_ stopSwitch: LoadStopSwitch) {
        self.init { signal in stopSwitch.pull(reason: signal == SIGTERM ? "SIGTERM" : "SIGINT") }
    }

    /// Calls `onSignal` with each signal's number, off the signal handler.
    init(_ onSignal: @escaping @Sendable (Int32) -> Void) {
        var ends: [Int32] = [-1, -1]
        if pipe(&ends) != 0 { ends = [-1, -1] }
        for end in ends where end >= 0 { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        if ends[1] >= 0 { _ = fcntl(ends[1], F_SETFL, fcntl(ends[1], F_GETFL) | O_NONBLOCK) }  // the handler never blocks
        (readEnd, writeEnd) = (ends[0], ends[1])
        stopSignalPipe = writeEnd
        let caught = caught, readEnd = readEnd, reader = reader
        Thread.detachNewThread {
            var number: UInt8 = 0
            while true {
                let count = read(readEnd, &number, 1)
                if count < 0 && errno == EINTR { continue }
                guard count == 1 else { break }  // the write end closed: released
                let signal = Int32(number)
                caught.withLock { $0 = $0 ?? signal }
                onSignal(signal)
            }
            reader.signal()
        }
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { number in
            let saved = errno
            var byte = UInt8(truncatingIfNeeded: number)
            _ = write(stopSignalPipe, &byte, 1)
            errno = saved
        }
        action.sa_flags = SA_RESTART
        sigemptyset(&action.sa_mask)
        for number in [SIGTERM, SIGINT] { sigaction(number, &action, nil) }
        // A parent may have started evq with them blocked (threads of a test runner do): this thread
        // takes them then, and one already pending arrives now.
        var signals = sigset_t()
        sigemptyset(&signals)
        for number in [SIGTERM, SIGINT] { sigaddset(&signals, number) }
        pthread_sigmask(SIG_UNBLOCK, &signals, nil)
    }

    /// The first signal caught, if any.
    var received: Int32? { caught.withLock { $0 } }

    deinit {
        signal(SIGTERM, SIG_DFL)
        signal(SIGINT, SIG_DFL)
        if writeEnd >= 0 { close(writeEnd) }
        reader.wait()
        if readEnd >= 0 { close(readEnd) }
    }
}

/// The write end of `StopSignals`' pipe, for its signal handler (a C function: it captures nothing).
nonisolated(unsafe) private var stopSignalPipe: Int32 = -1

/// The query flags `evq load` and `evq resolve` share.
struct QueryFlagOptions: ParsableArguments {
    @Flag(help: "DO: ask for DNSSEC records (a datafile line's no-edns drops it for that query).")
    var dnssecOk = false
    @Flag(help: "CD: ask the resolver not to validate DNSSEC.")
    var checkingDisabled = false
    @Option(help: "The EDNS UDP payload size to advertise, 512…65535 (default 1232).")
    var ednsSize: Int?
    @Flag(help: "Send no EDNS OPT record.")
    var noEdns = false
    @Flag(name: .customLong("0x20"), help: "Randomize the case of the name and accept only a reply echoing it.")
    var randomizeCase = false

    /// The flags as the load generator takes them.
    func flags() throws -> QueryFlags {
        if noEdns && (ednsSize != nil || dnssecOk) { throw ValidationError("--no-edns goes without --edns-size and --dnssec-ok") }
        var flags = QueryFlags()
        flags.dnssecOK = dnssecOk
        flags.checkingDisabled = checkingDisabled
        flags.noEDNS = noEdns
        flags.randomizeCase = randomizeCase
        if let ednsSize {
            guard (512...65_535).contains(ednsSize) else { throw ValidationError("--edns-size must be 512…65535") }
            flags.ednsSize = UInt16(ednsSize)
        }
        return flags
    }
}
