import ArgumentParser

/// `evq race`: the cancel-race stress run (filled in below).
struct RaceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "race")
}
