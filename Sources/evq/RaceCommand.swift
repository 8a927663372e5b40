import ArgumentParser
import LoadGenerator

/// `evq race`: cancel-race stress — threads start operations and cancel them while timers fire and
/// datagrams arrive; prints throughput, outcomes, cancel latency per origin and the exactly-once
/// audit; exits non-zero on any violation.
struct RaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "race",
        abstract: "Cancel-race stress: start and cancel operations from many threads, then audit exactly-once.",
        discussion: """
            Example: evq race --threads 8 --operations 1000000

            """ + CommandFailure.exitCodesHelp
    )

    @Option(help: "Threads in all: half start operations, half cancel them.")
    var threads = 4
    @Option(help: "Operations to start.")
    var operations = 200_000
    @Option(help: "Longest starting phase, in seconds.")
    var duration = 10.0
    @Option(help: "Seed for every random choice.")
    var seed: UInt64 = 1
    @Option(help: "Reactors (loop threads).")
    var reactors = 2

    func validate() throws {
        guard threads >= 2 else { throw ValidationError("--threads must be at least 2 (one starts, one cancels)") }
        guard operations > 0, operations <= 50_000_000 else { throw ValidationError("--operations must be 1…50,000,000") }
        guard duration > 0 else { throw ValidationError("--duration must be positive") }
        guard (1...64).contains(reactors) else { throw ValidationError("--reactors must be 1…64") }
    }

    func run() throws {
        var config = CancelRaceConfiguration()
        config.threads = threads
        config.operations = operations
        config.durationSeconds = duration
        config.seed = seed
        config.reactors = reactors
        let report = try CancelRace.run(config)
        print(report.text)
        if !report.audit.ok { throw CommandFailure(.audit, "the exactly-once audit failed (see the report's audit line)") }
    }
}
