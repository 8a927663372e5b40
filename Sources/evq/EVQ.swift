import ArgumentParser

/// `evq`: the evquery command line — load runs, cancel-race stress, the responder, one-off queries
/// and log scans.
@main
struct EVQ: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evq",
        abstract: "evquery: many thousands of cancellable DNS queries and log scans on libevent.",
        subcommands: [
            RaceCommand.self, CancelLatencyCommand.self, LoadCommand.self, ReactorProbeCommand.self, ScanCommand.self,
            ServeCommand.self, ResolveCommand.self, HoldCommand.self,
        ],
        defaultSubcommand: LoadCommand.self
    )
}
