import ArgumentParser
import Foundation
import LoadGenerator

/// `evq race`: cancel-race stress — threads start operations of the chosen kinds (timers, socket
/// readiness, DNS queries under faults, log scans on a rotating file) and cancel them while their
/// events arrive; prints throughput, outcomes per kind, cancel latency per kind and origin and the
/// exactly-once audit; exits non-zero on any violation.
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
    @Option(help: "Operations to start, across all kinds.")
    var operations = 200_000
    @Option(help: "Longest starting phase, in seconds.")
    var duration = 10.0
    @Option(help: "Seed for every random choice.")
    var seed: UInt64 = 1
    @Option(help: "Reactors (loop threads).")
    var reactors = 2
    @Option(help: "Kinds of operation to race, comma-separated: timer, socket, dns, scan.")
    var kinds = RaceKind.allCases.map(\.rawValue).joined(separator: ",")
    @Option(help: "Write the JSON report here.")
    var json: String?

    func validate() throws {
        guard threads >= 2 else { throw ValidationError("--threads must be at least 2 (one starts, one cancels)") }
        guard operations > 0, operations <= 1_000_000_000 else {
            throw ValidationError("--operations must be 1…1,000,000,000")
        }
        guard duration.isFinite, duration > 0, duration <= 86_400 else {
            throw ValidationError("--duration must be in (0, 86400] seconds")
        }
        guard (1...64).contains(reactors) else { throw ValidationError("--reactors must be 1…64") }
        _ = try parsedKinds()
    }

    private func parsedKinds() throws -> Set<RaceKind> {
        let names = kinds.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        var result = Set<RaceKind>()
        for name in names {
            guard let kind = RaceKind(rawValue: name) else {
                throw ValidationError("--kinds: unknown kind '\(name)' (expected timer, socket, dns, scan)")
            }
            result.insert(kind)
        }
        guard !result.isEmpty else { throw ValidationError("--kinds needs at least one kind") }
        return result
    }

    func run() throws {
        var config = CancelRaceConfiguration()
        config.threads = threads
        config.operations = operations
        config.durationSeconds = duration
        config.seed = seed
        config.reactors = reactors
        config.kinds = try parsedKinds()
        let report = try CancelRace.run(config)
        print(report.text)
        if let json { try report.json().write(toFile: json, atomically: true, encoding: .utf8) }
        if !report.audit.ok { throw CommandFailure(.audit, "the exactly-once audit failed (see the report's audit line)") }
    }
}
