import ArgumentParser
import Dispatch
import Foundation
import EventReactor
import LinuxSystem
import LogQuery

#if canImport(Glibc)
    import Glibc
#endif

/// `evq scan`: the log-scan engine from the shell — prints matching records like
/// `journalctl -o short-iso` (or their count), then the final bookmark; `--follow` keeps printing
/// new records across rotations until SIGINT/SIGTERM.
struct ScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan log files with a filter: print the records (or a count) and the final bookmark.",
        discussion: """
            Example: evq scan /var/log/auth.log --filter 'app == "sshd" and message contains "Failed"' --reverse

            Filter examples: 'message contains "Failed password"', 'app == "sshd" and severity <= warning',
            'message ~ "user [a-z]+ from"', 'not (host == "web1") and time >= "2026-01-01T00:00:00Z"'.

            """ + CommandFailure.exitCodesHelp
    )

    @Argument(help: ArgumentHelp(
        "The log files or glob patterns (RFC 3164 or RFC 5424 syslog, or JSON lines).",
        discussion: """
            Several files are one history read oldest first: rotations are ordered as logrotate names them \
            (auth.log.2.gz, auth.log.1, auth.log); --reverse reads it newest first; --follow reads the older \
            files and then follows the newest.
            """))
    var files: [String]
    @Option(help: "Only records matching this filter expression.")
    var filter: String?
    @Flag(help: "Newest record first.")
    var reverse = false
    @Flag(help: "Keep printing new records (across rotations) until SIGINT or SIGTERM.")
    var follow = false
    @Option(name: .customLong("after-bookmark"), help: "Start after the record of this bookmark (evqb1-…).")
    var afterBookmark: String?
    @Flag(help: "Print the number of matching records instead of the records.")
    var count = false
    @Option(help: "Line format: auto, rfc3164, rfc5424 or json.")
    var format = "auto"
    @Option(help: ArgumentHelp(
        "How records are printed: short, iso, raw or json.",
        discussion: """
            iso (the default): '2026-12-07T10:00:01Z host app[pid]: message' (UTC); short: 'Dec 07 10:00:01 …'; \
            raw: the line as it is in the file; json: one object per record with every parsed field and its \
            bookmark (a line that is not UTF-8 also as 'line_bytes'). With raw and json the final bookmark and \
            the follow notes go to standard error.
            """))
    var output = "iso"
    @Option(parsing: .unconditional,
            help: "Only records at or after this time: RFC 3339, now, or relative to now (-1h, -30m, -2d).")
    var since: String?
    @Option(parsing: .unconditional, help: "Only records at or before this time (as --since).")
    var until: String?
    @Option(
        name: [.customShort("n"), .customLong("lines")],
        help: "Only the last N records (with --reverse: the newest N; with --follow: then the new ones).")
    var lines: Int?
    @Flag(help: "Print the scan's figures (slices, longest loop stall) on stderr.")
    var stats = false
    @Option(name: .customLong("count-threads"),
            help: "Threads a --count of a large file may use (line-aligned ranges on a pool); 1 counts on the loop.")
    var countThreads = LogQuery.defaultCountThreads
    @Option(help: "The zone RFC 3164 times (which carry none) were written in: UTC, +HH:MM, -HH:MM or a tz name (Europe/Paris).")
    var timezone: String?

    func validate() throws {
        if follow && reverse { throw ValidationError("--follow reads forward: it cannot be combined with --reverse") }
        if follow && count {
            throw ValidationError("--count counts a file as it is: it cannot be combined with --follow")
        }
        if count && afterBookmark != nil {
            throw ValidationError("--count counts the whole file: drop --after-bookmark")
        }
        guard (1...64).contains(countThreads) else { throw ValidationError("--count-threads must be 1…64") }
        if let lines {
            guard lines >= 0 else { throw ValidationError("--lines must be 0 or more, not \(lines)") }
            if count { throw ValidationError("--lines picks records to print: drop --count") }
        }
        let (since, until) = try parsedWindow()
        if let since, let until, since > until {
            throw ValidationError("--since (\(since.rfc3339)) is later than --until (\(until.rfc3339))")
        }
        _ = try parsedFormat()
        _ = try parsedOutput()
        _ = try parsedFilter()
        _ = try parsedBookmark()
        _ = try parseOptions()
    }

    /// `UTC`/`Z`, `+HH:MM`/`-HHMM`: the fixed offset; nil otherwise.
    private static func utcOffsetSeconds(parsing text: String) -> Int? {
        if ["utc", "z", "gmt"].contains(text.lowercased()) { return 0 }
        if let sign = text.first, sign == "+" || sign == "-" {
            let digits = text.dropFirst().filter { $0 != ":" }
            guard digits.count == 4, digits.allSatisfy(\.isASCII), let value = Int(digits) else { return nil }
            let (hours, minutes) = (value / 100, value % 100)
            guard hours <= 14, minutes < 60 else { return nil }
            return (sign == "-" ? -1 : 1) * (hours * 3600 + minutes * 60)
        }
        return nil
    }

    /// The parse options of `--timezone`: a fixed offset as given, or a tz name with its daylight-saving changes.
    private func parseOptions() throws -> LogParseOptions {
        var options = LogParseOptions()
        guard let timezone else { return options }
        if let offset = Self.utcOffsetSeconds(parsing: timezone) {
            options.defaultUTCOffsetSeconds = offset
        } else if let zone = TimeZone(identifier: timezone) {
            // A named zone keeps its daylight-saving changes: the offset at each record's instant.
            options.utcOffsetAt = { instant in
                zone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(instant.nanosecondsSinceEpoch) / 1e9))
            }
        } else {
            throw ValidationError("--timezone \(timezone): expected UTC, +HH:MM, -HH:MM or a tz database name")
        }
        return options
    }

    private func parsedFormat() throws -> LogFormat {
        switch format {
        case "auto": .auto
        case "rfc3164": .rfc3164
        case "rfc5424": .rfc5424
        case "json", "jsonLines": .jsonLines
        default: throw ValidationError("--format must be auto, rfc3164, rfc5424 or json, not '\(format)'")
        }
    }

    private func parsedOutput() throws -> LogOutputFormat {
        guard let format = LogOutputFormat(rawValue: output) else {
            throw ValidationError("--output must be short, iso, raw or json, not '\(output)'")
        }
        return format
    }

    /// `--since` and `--until` as times (relative ones from now).
    private func parsedWindow() throws -> (since: LogTime?, until: LogTime?) {
        func time(_ text: String?, _ name: String) throws -> LogTime? {
            guard let text else { return nil }
            guard let time = LogTime(argument: text) else {
                throw ValidationError(
                    "\(name) must be an RFC 3339 time (2026-12-07T10:00:00Z), now, or relative like -1h, not '\(text)'")
            }
            return time
        }
        return (try time(since, "--since"), try time(until, "--until"))
    }

    /// The filter with the time window: `(FILTER) and time >= SINCE and time <= UNTIL`.
    private func parsedFilter() throws -> LogFilter {
        _ = try userFilter()
        let (since, until) = try parsedWindow()
        var parts = filter.map { ["(\($0))"] } ?? []
        if let since { parts.append("time >= \"\(since.rfc3339)\"") }
        if let until { parts.append("time <= \"\(until.rfc3339)\"") }
        return parts.isEmpty ? .all : try LogFilter(parts.joined(separator: " and "))
    }

    private func userFilter() throws -> LogFilter {
        guard let filter else { return .all }
        do {
            return try LogFilter(filter)
        } catch {
            throw ValidationError("bad --filter at position \(error.position): \(error.reason)\n\(error.pointing(into: filter))")
        }
    }

    private func parsedBookmark() throws -> LogBookmark? {
        guard let afterBookmark else { return nil }
        do {
            return try LogBookmark(serialized: afterBookmark)
        } catch {
            throw ValidationError("bad --after-bookmark: \(error)")
        }
    }

    private func fileSet() throws -> LogFileSet {
        do {
            return try LogFileSet(patterns: files)
        } catch {
            throw CommandFailure(.file, "\(error)")
        }
    }

    func run() throws {
        let set = try fileSet()
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let output = ScanOutput(format: try parsedOutput())
        var counters: [LogQueryCounters] = []
        let mark = try parsedBookmark()
        // The file the bookmark names, if it is one of the set; reading starts there.
        let marked = mark.flatMap { mark in
            set.paths.firstIndex { path in
                guard let identity = try? FileIdentity.of(path: path) else { return false }
                return identity.device == mark.device && identity.inode == mark.inode
                    && identity.firstLineHash == mark.firstLineHash
            }
        }
        if mark != nil, marked == nil {
            ScanOutput.toStandardError(
                "evq scan: the bookmark names none of these files (or a cut one): reading from the start\n")
        }
        if count {
            var total = 0
            for path in set.paths { total += try countFile(path, reactor, &counters) }
            output.line("\(total)")
        } else if let lines, follow {
            // tail -n N -f: the last N records, then the newest file from after the last one printed.
            let newest = set.paths.count - 1
            let printed = try printLast(lines, of: set, after: marked.map { ($0, mark!) }, reactor, output, &counters)
            let start: LogSubscriptionStart =
                if let printed, printed.index == newest { .afterBookmark(printed.mark, strict: false) }
                else if lines == 0 { .future }
                else if marked == newest, let mark { .afterBookmark(mark, strict: false) }
                else { .oldest }  // the newest file holds no matching record (after the bookmark)
            counters.append(try runFollow(set.paths[newest], from: start, printed?.mark, reactor, output))
        } else if follow {
            let newest = set.paths.count - 1
            var last: LogBookmark?
            for index in (marked ?? 0)..<newest {
                var unlimited = Int.max
                last = try scanFile(
                    set.paths[index], after: index == marked ? mark : nil, reactor, output, &counters, limit: &unlimited)
                    ?? last
            }
            let start: LogSubscriptionStart = marked == newest ? .afterBookmark(mark!, strict: false) : .oldest
            counters.append(try runFollow(set.paths[newest], from: start, last, reactor, output))
        } else if let lines, !reverse {
            let printed = try printLast(lines, of: set, after: marked.map { ($0, mark!) }, reactor, output, &counters)
            if let printed { output.note("-- bookmark: \(printed.mark.serialized)") }
        } else {
            var order = Array(set.paths.indices)
            if reverse { order.reverse() }
            if let marked { order = Array(order.drop { $0 != marked }) }
            var last: LogBookmark?
            var left = lines ?? Int.max
            for index in order where left > 0 {
                last = try scanFile(
                    set.paths[index], after: index == marked ? mark : nil, reactor, output, &counters, limit: &left)
                    ?? last
            }
            if let last { output.note("-- bookmark: \(last.serialized)") }
        }
        output.flush()
        if stats {
            for counters in counters { printStats(counters) }
        }
    }

    private func printStats(_ counters: LogQueryCounters) {
        do {
            let s = counters.snapshot
            let mean = s.slices == 0 ? 0 : s.totalSlice.clampedNanoseconds / UInt64(s.slices) / 1000
            let line = "slices \(s.slices), longest slice \(s.maxSlice.clampedNanoseconds / 1000) µs, mean \(mean) µs, "
                + "over 1 ms: \(s.slicesOverOneMillisecond), "
                + "most CPU in one slice \(s.maxSliceCPU.clampedNanoseconds / 1000) µs\n"
            ScanOutput.toStandardError(line)
        }
    }

    private func openQuery(_ path: String, _ reactor: Reactor, reversed: Bool? = nil) throws -> LogQuery {
        do {
            return try LogQuery.open(
                path: path, filter: try parsedFilter(), direction: reversed ?? reverse ? .reverse : .forward,
                format: try parsedFormat(), countThreads: countThreads, options: try parseOptions(), on: reactor)
        } catch {
            throw failure(error, in: path)
        }
    }

    /// The number of matching records in one file.
    private func countFile(_ path: String, _ reactor: Reactor, _ counters: inout [LogQueryCounters]) throws -> Int {
        let query = try openQuery(path, reactor)
        defer { query.close() }
        counters.append(query.counters)
        switch wait({ query.count(completion: $0) }) {
        case .success(let n):
            reportDamage(query.damage, path)
            return n
        case .failure(let error): throw failure(error, in: path)
        }
    }

    /// A library error as the command's failure, naming the file.
    private func failure(_ error: any Error, in path: String) -> CommandFailure {
        let failure = CommandFailure(error)
        return CommandFailure(failure.kind, "\(path): \(failure.message)")
    }

    /// A damaged `.gz` member ends that file's stream (its records before the damage were read);
    /// the scan goes on with the next file. Said on standard error, one line per file.
    private func reportDamage(_ damage: LogStreamDamage?, _ path: String) {
        guard let damage else { return }
        ScanOutput.toStandardError("evq scan: \(path): \(damage); read up to the last whole line before it\n")
    }

    /// A one-shot scan of one file (after `mark`'s record when given): `next` until `.noMoreItems`.
    /// Returns the bookmark of the last record printed.
    private func scanFile(
        _ path: String, after mark: LogBookmark?, _ reactor: Reactor, _ output: ScanOutput,
        _ counters: inout [LogQueryCounters], limit left: inout Int
    ) throws -> LogBookmark? {
        if output.format == .raw, !reverse, mark == nil, left == .max, try parsedWindow().since == nil {
            return try printRawLines(path, output)
        }
        let query = try openQuery(path, reactor)
        defer { query.close() }
        counters.append(query.counters)
        let lines = output.needsLineBytes ? LineBytes(path: path) : nil
        if let mark {
            switch wait({ query.seek(to: .afterBookmark(mark), strict: true, completion: $0) }) {
            case .success: break
            case .failure(.notFound):
                ScanOutput.toStandardError(
                    "evq scan: the bookmark is past the end of \(path) (the file was cut): reading it from the start\n")
            case .failure(let error): throw failure(error, in: path)
            }
        } else if !reverse, let since = try parsedWindow().since {
            // Records in time order: a binary search finds the start (the filter holds the window).
            if case .failure(let error) = wait({ query.seek(to: .time(since), completion: $0) }) {
                throw failure(error, in: path)
            }
        }
        var last: LogRecord?
        scanning: while left > 0 {
            switch wait({ query.next(max: min(1024, left), completion: $0) }) {
            case .success(let batch):
                output.records(batch, in: query.identity, lines: lines)
                left -= batch.count
                last = batch.last ?? last
            case .failure(.noMoreItems):
                break scanning
            case .failure(let error):
                throw failure(error, in: path)
            }
        }
        reportDamage(query.damage, path)
        return last.map { query.bookmark(for: $0) }
    }

    /// `--output raw` of a whole file, forward: the scanner keeps the matching lines' bytes as they are
    /// in the file (read through `mmap` windows, or zlib for a `.gz` file), written as they are, one
    /// `write` per slice of 1 MiB read, no record built. Returns the bookmark of the last line.
    private func printRawLines(_ path: String, _ output: ScanOutput) throws -> LogBookmark? {
        let scanner: LogScanner
        do {
            var options = try parseOptions()
            options.format = try parsedFormat()
            scanner = try LogScanner(
                path: path, filter: try parsedFilter(), options: options, countOnly: true, keepsLines: true,
                bufferSize: 256 << 10, readMethod: .memoryMap)
        } catch {
            throw failure(error, in: path)
        }
        scanning: while true {
            let step = scanner.advance(budgetBytes: 1 << 20, maxRecords: 1)
            scanner.takeKeptLines { output.write($0) }
            switch step {
            case .endOfFile: break scanning
            case .error(let error): throw failure(error, in: path)
            case .records, .counted, .needMore: continue
            }
        }
        reportDamage(scanner.damage, path)
        return scanner.lastKeptLine.map { line in
            LogBookmark(
                device: scanner.identity.device, inode: scanner.identity.inode,
                firstLineHash: scanner.identity.firstLineHash, offset: line.offset, ordinal: line.ordinal,
                length: line.length)
        }
    }

    /// `--lines N` forward: the set read newest first until N records are found, printed oldest first.
    /// Returns the bookmark of the last record printed and the index of its file in the set.
    private func printLast(
        _ wanted: Int, of set: LogFileSet, after marked: (index: Int, mark: LogBookmark)?, _ reactor: Reactor,
        _ output: ScanOutput, _ counters: inout [LogQueryCounters]
    ) throws -> (index: Int, mark: LogBookmark)? {
        var found: [(index: Int, path: String, identity: FileIdentity, records: [LogRecord])] = []
        var left = wanted
        for index in set.paths.indices.reversed() where left > 0 && index >= (marked?.index ?? 0) {
            let path = set.paths[index]
            let query = try openQuery(path, reactor, reversed: true)
            defer { query.close() }
            counters.append(query.counters)
            var records: [LogRecord] = []
            scanning: while left > 0 {
                switch wait({ query.next(max: min(1024, left), completion: $0) }) {
                case .success(let batch):
                    // Past the bookmark's record (in its file) nothing more is wanted.
                    let kept = batch.prefix { record in
                        guard let marked, index == marked.index else { return true }
                        return record.offset > marked.mark.offset
                    }
                    records += kept
                    left -= kept.count
                    if kept.count < batch.count { break scanning }
                case .failure(.noMoreItems): break scanning
                case .failure(let error): throw failure(error, in: path)
                }
            }
            reportDamage(query.damage, path)
            found.append((index, path, query.identity, records.reversed()))
        }
        var last: (index: Int, mark: LogBookmark)?
        for (index, path, identity, records) in found.reversed() where !records.isEmpty {
            output.records(records, in: identity, lines: output.needsLineBytes ? LineBytes(path: path) : nil)
            last = (index, LogBookmark(record: records.last!, in: identity))
        }
        return last
    }

    /// `--follow` of `file`: a subscription until SIGINT/SIGTERM, then the bookmark of the last record
    /// (or `earlier`, the last one of the older files, when none came).
    private func runFollow(
        _ file: String, from start: LogSubscriptionStart, _ earlier: LogBookmark?, _ reactor: Reactor,
        _ output: ScanOutput
    ) throws -> LogQueryCounters {
        // The loop only queues what arrives; this thread formats and prints it.
        let inbox = Locked<(events: [LogSubscriptionEvent], ended: LogQueryError?)>(([], nil))
        let wake = DispatchSemaphore(value: 0)
        let subscription = LogQuery.subscribe(
            path: file, start: start, filter: try parsedFilter(), format: try parsedFormat(),
            options: try parseOptions(), on: reactor,
            deliver: { event in
                inbox.withLock { $0.events.append(event) }
                wake.signal()
            },
            ended: { error in
                inbox.withLock { $0.ended = error }
                wake.signal()
            })
        // Caught by a handler from here on (a dispatch signal source lost a signal sent early).
        let signals = StopSignals { _ in subscription.cancel() }
        // What the older files (or -n) gave is printed now, not when the first new record comes.
        output.flush()
        let lines = output.needsLineBytes ? LineBytes(path: file) : nil
        var last = earlier
        var endedWith: LogQueryError?
        while endedWith == nil {
            wake.wait()
            let (events, ended) = inbox.withLock { box in
                defer { box.events.removeAll() }
                return (box.events, box.ended)
            }
            for event in events {
                switch event {
                case .records(let records, let identity):
                    output.records(records, in: identity, lines: lines)
                    if let record = records.last { last = LogBookmark(record: record, in: identity) }
                case .rotated(let from, let to):
                    output.note("-- rotated: inode \(from.inode) → \(to.inode)")
                case .truncated(_, let gap):
                    output.note("-- truncated (copytruncate): records after byte \(gap) of the old content may be lost")
                }
            }
            output.flush()
            endedWith = ended
        }
        withExtendedLifetime(signals) {}  // released here: SIGINT and SIGTERM end the process again
        if let last { output.note("-- bookmark: \(last.serialized)") }
        switch endedWith {
        case .cancelled?, nil: return subscription.counters
        case let error?: throw failure(error, in: file)
        }
    }

    /// Starts an operation and waits for its result on this (non-loop) thread.
    private func wait<T: Sendable>(
        _ start: (@escaping @Sendable (Result<T, LogQueryError>) -> Void) -> OperationHandle
    ) -> Result<T, LogQueryError> {
        let done = DispatchSemaphore(value: 0)
        let result = Locked<Result<T, LogQueryError>?>(nil)
        _ = start { outcome in
            result.withLock { $0 = outcome }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }
}

