import ArgumentParser
import LoadGenerator

/// `evq reactor-probe`: the reactor figures compared with SwiftNIO (docs/performance.md): start+cancel on the
/// loop, cancel one of 1,000,000, RSS per outstanding operation; `tools/compare-reactor.sh` runs
/// it beside the same probes on NIO and prints the ratios.
struct ReactorProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reactor-probe", abstract: "Reactor figures to compare with SwiftNIO (tools/compare-reactor.sh).",
        discussion: """
            Example: evq reactor-probe --rounds 5

            """ + CommandFailure.exitCodesHelp)

    @Option(help: "Rounds per measure (the median is printed).")
    var rounds = 15

    func validate() throws {
        guard (1...100).contains(rounds) else { throw ValidationError("--rounds must be 1…100") }
    }

    func run() throws { print(try ReactorProbe.run(rounds: rounds).text) }
}
