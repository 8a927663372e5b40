import ArgumentParser
import LoadGenerator

/// `evq cancel-latency`: cross-thread cancel latency of an idle reactor beside the raw eventfd wake
/// floor, sampled alternately in the same run, with the ratio (docs/performance.md "Targets").
struct CancelLatencyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel-latency",
        abstract: "Cross-thread cancel latency vs. the raw eventfd+epoll wake floor, same run.",
        discussion: """
            Example: evq cancel-latency --samples 2000

            """ + CommandFailure.exitCodesHelp)

    @Option(help: "Samples of each.")
    var samples = 5000
    @Option(help: "Pause before each sample, in µs, so both waiters are asleep.")
    var pauseMicros: UInt32 = 50
    @Option(help: "Reactor busy-poll before sleeping, in µs (0 = off).")
    var busyPollMicros: UInt64 = 0

    func validate() throws {
        guard (1...1_000_000).contains(samples) else { throw ValidationError("--samples must be 1…1,000,000") }
    }

    func run() throws {
        print(try CancelLatencyProbe.run(samples: samples, pauseMicros: pauseMicros, busyPollMicros: busyPollMicros).text)
    }
}
