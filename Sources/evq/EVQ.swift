import ArgumentParser
import DNSQuery
import DNSResponder
import Foundation
import LinuxSystem
import LoadGenerator
import LogQuery

/// `evq`: the evquery command line — load runs, cancel-race stress, the responder, one-off queries
/// and log scans.
///
/// What a failure prints and the exit status (`CommandFailure.Kind`): a usage error (a bad flag,
/// a bad filter) prints its message and a pointer to `--help` and exits 64; a runtime failure
/// prints one line, the error alone, and exits with its kind's code.
@main
struct EVQ: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evq",
        abstract: "evquery: many thousands of cancellable DNS queries and log scans on libevent.",
        discussion: CommandFailure.exitCodesHelp,
        subcommands: [
            RaceCommand.self, CancelLatencyCommand.self, LoadCommand.self, ReactorProbeCommand.self, ScanCommand.self,
            ServeCommand.self, ResolveCommand.self, HoldCommand.self, MergeCommand.self,
        ],
        defaultSubcommand: LoadCommand.self
    )

    /// Parses, runs, and turns every error into one clear line and its exit status.
    static func main() {
        let arguments = Array(CommandLine.arguments.dropFirst())
        var command: ParsableCommand
        do {
            command = try parseAsRoot(arguments)
        } catch {
            // --help, --version and the like print and exit 0 as the parser does.
            if exitCode(for: error) == .success { exit(withError: error) }
            usageFailure(message(for: error), in: commandName(guessedFrom: arguments))
        }
        let name = type(of: command).configuration.commandName ?? "evq"
        do {
            try command.run()
        } catch let exit as ExitCode {
            Foundation.exit(exit.rawValue)
        } catch let error as ValidationError {
            usageFailure(error.message, in: name)
        } catch let failure as CommandFailure {
            fail("evq \(name): \(failure.message)", code: failure.kind.rawValue)
        } catch where exitCode(for: error) == .success {
            exit(withError: error)  // `evq help CMD` and the like
        } catch where exitCode(for: error) == .validationFailure {
            usageFailure(message(for: error), in: name)
        } catch {
            let failure = CommandFailure(error)
            fail("evq \(name): \(failure.message)", code: failure.kind.rawValue)
        }
    }

    /// The subcommand a command line that did not parse was meant for (the default, `load`, when
    /// its first word is not a subcommand's name).
    private static func commandName(guessedFrom arguments: [String]) -> String {
        let names = configuration.subcommands.compactMap { $0.configuration.commandName }
        if let first = arguments.first, names.contains(first) { return first }
        return LoadCommand.configuration.commandName ?? "load"
    }

    private static func usageFailure(_ message: String, in name: String) -> Never {
        fail("evq \(name): \(message)\nRun 'evq \(name) --help' for usage.", code: CommandFailure.usageExitCode)
    }

    private static func fail(_ text: String, code: Int32) -> Never {
        FileHandle.standardError.write(Data((text + "\n").utf8))
        Foundation.exit(code)
    }
}

/// A runtime failure of a subcommand: the one line `evq` prints and the exit status of its kind.
struct CommandFailure: Error, CustomStringConvertible {
    /// The kinds of runtime failure, each with its exit status (documented in `--help`).
    enum Kind: Int32 {
        /// The exactly-once audit failed (load, race, hold).
        case audit = 1
        /// The DNS server gave no usable answer: unreachable, refused, timed out, or a failure rcode
        /// (dig's "no reply" status).
        case dns = 9
        /// Input that could not be used as it is: reports or histograms of another format or with
        /// other settings (merge), sysexits' `EX_DATAERR`.
        case data = 65
        /// A file could not be opened or read (scan's log, --datafile, --zone).
        case file = 66
        /// A port or socket could not be had (serve: the port is taken).
        case unavailable = 69
        /// Anything else.
        case other = 70
    }

    /// The status of a usage error (a bad flag or value), sysexits' `EX_USAGE`.
    static let usageExitCode: Int32 = 64

    /// The exit codes, for the `--help` discussions.
    static let exitCodesHelp = """
        Exit codes: 0 success; 1 the exactly-once audit failed; 9 the DNS server gave no usable \
        answer (unreachable, refused, timed out, a failure rcode); 64 usage error (bad flag or value); \
        65 reports that cannot be merged (another format, other histogram settings); 66 a file could not be read; 69 a port could not be had (taken); 70 any other failure.
        """

    let kind: Kind
    let message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// Classifies a library error by what it concerns.
    init(_ error: any Error) {
        switch error {
        case let failure as CommandFailure: self = failure
        case is DNSQueryError: self.init(.dns, "\(error)")
        case let error as LoadRun.Failure where error.serverDidNotAnswer: self.init(.dns, "\(error)")
        case is LogScanError: self.init(.file, "\(error)")
        case let error as DNSResponderError where error.errno != 0: self.init(.unavailable, "\(error)")
        case let error as LogQueryError:
            if case .scan = error { self.init(.file, "\(error)") } else { self.init(.other, "\(error)") }
        default: self.init(.other, "\(error)")
        }
    }

    var description: String { message }
}

extension CommandFailure {
    /// The text of the file at `path` (UTF-8, invalid bytes replaced), or a `.file` failure that
    /// names the call, the path and the errno in words (`open q.txt: No such file or directory
    /// (errno 2)`), after `flag` (`--datafile: open …`).
    static func readTextFile(_ path: String, flag: String) throws(CommandFailure) -> String {
        func failure(_ call: String, _ code: Int32) -> CommandFailure {
            CommandFailure(.file, "\(flag): \(call) \(path): \(String(cString: strerror(code))) (errno \(code))")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", errno) }
        defer { close(fd) }
        do { return String(decoding: try FileContents.readAll(fd: fd), as: UTF8.self) } catch {
            throw failure(error.call, error.errno)
        }
    }
}
