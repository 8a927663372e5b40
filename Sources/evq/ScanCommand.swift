import ArgumentParser
import Dispatch
import Foundation
import EventReactor
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
        abstract: "Scan a log file with a filter: print the records (or a count) and the final bookmark.",
        discussion: """
            Example: evq scan /var/log/auth.log --filter 'app == "sshd" and message contains "Failed"' --reverse

            Filter examples: 'message contains "Failed password"', 'app == "sshd" and severity <= warning',
            'message ~ "user [a-z]+ from"', 'not (host == "web1") and time >= "2026-01-01T00:00:00Z"'.

            """ + CommandFailure.exitCodesHelp
    )

    @Argument(help: "The log file (RFC 3164 or RFC 5424 syslog, or JSON lines).")
    var file: String
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
        _ = try parsedFormat()
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

    private func parsedFilter() throws -> LogFilter {
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

    func run() throws {
        let reactor = try Reactor()
        defer { reactor.shutdown() }
        let output = ScanOutput()
        let counters: LogQueryCounters
        if follow {
            counters = try runFollow(reactor, output)
        } else {
            counters = try runScan(reactor, output)
        }
        output.flush()
        if stats {
            let s = counters.snapshot
            let mean = s.slices == 0 ? 0 : s.totalSliceNanos / UInt64(s.slices) / 1000
            let line = "slices \(s.slices), longest slice \(s.maxSliceNanos / 1000) µs, mean \(mean) µs, "
                + "over 1 ms: \(s.slicesOverOneMillisecond), most CPU in one slice \(s.maxSliceCPUNanos / 1000) µs\n"
            ScanOutput.toStandardError(line)
        }
    }

    /// A one-shot scan: `next` until `.noMoreItems` (or `count`).
    private func runScan(_ reactor: Reactor, _ output: ScanOutput) throws -> LogQueryCounters {
        let query: LogQuery
        do {
            query = try LogQuery.open(
                path: file, filter: try parsedFilter(), direction: reverse ? .reverse : .forward,
                format: try parsedFormat(), countThreads: countThreads, options: try parseOptions(), on: reactor)
        } catch {
            throw CommandFailure(error)
        }
        defer { query.close() }
        if count {
            switch wait({ query.count(completion: $0) }) {
            case .success(let n): output.line("\(n)")
            case .failure(let error): throw CommandFailure(error)
            }
            return query.counters
        }
        if let mark = try parsedBookmark() {
            switch wait({ query.seek(to: .afterBookmark(mark), strict: true, completion: $0) }) {
            case .success: break
            case .failure(.notFound):
                ScanOutput.toStandardError(
                    "evq scan: the bookmark names another file (or a cut one): scanning from the start\n")
            case .failure(let error): throw CommandFailure(error)
            }
        }
        var last: LogRecord?
        scanning: while true {
            switch wait({ query.next(max: 1024, completion: $0) }) {
            case .success(let batch):
                for record in batch { output.record(record) }
                last = batch.last ?? last
            case .failure(.noMoreItems):
                break scanning
            case .failure(let error):
                throw CommandFailure(error)
            }
        }
        if let last { output.line("-- bookmark: \(query.bookmark(for: last).serialized)") }
        return query.counters
    }

    /// `--follow`: a subscription until SIGINT/SIGTERM, then the bookmark of the last record.
    private func runFollow(_ reactor: Reactor, _ output: ScanOutput) throws -> LogQueryCounters {
        let mark = try parsedBookmark()
        if let mark, let identity = try? FileIdentity.of(path: file), !mark.refers(to: identity) {
            ScanOutput.toStandardError(
                "evq scan: the bookmark names another file (or a cut one): following from the start\n")
        }
        let start: LogSubscriptionStart = mark.map { .afterBookmark($0, strict: false) } ?? .oldest
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
        let signals = [SIGINT, SIGTERM].map { number -> DispatchSourceSignal in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { subscription.cancel() }
            source.resume()
            return source
        }
        var last: LogBookmark?
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
                    for record in records { output.record(record) }
                    if let record = records.last { last = LogBookmark(record: record, in: identity) }
                case .rotated(let from, let to):
                    output.line("-- rotated: inode \(from.inode) → \(to.inode)")
                case .truncated(_, let gap):
                    output.line("-- truncated (copytruncate): records after byte \(gap) of the old content may be lost")
                }
            }
            output.flush()
            endedWith = ended
        }
        signals.forEach { $0.cancel() }
        if let last { output.line("-- bookmark: \(last.serialized)") }
        switch endedWith {
        case .cancelled?, nil: return subscription.counters
        case let error?: throw CommandFailure(error)
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

/// Buffered standard output for records, formatted like `journalctl -o short-iso`.
final class ScanOutput: @unchecked Sendable {
    private var buffer: [UInt8] = []
    private let lock = Locked(())

    func record(_ record: LogRecord) {
        var text = record.timestamp.map(Self.iso) ?? "-"
        text += " " + (record.host ?? "-") + " " + (record.app ?? "-")
        if let pid = record.pid { text += "[\(pid)]" }
        text += ": " + record.message
        line(text)
    }

    func line(_ text: String) {
        lock.withLock { _ in
            buffer.append(contentsOf: text.utf8)
            buffer.append(0x0A)
            if buffer.count >= 1 << 16 { writeOut() }
        }
    }

    func flush() { lock.withLock { _ in writeOut() } }

    private func writeOut() {
        Self.write(buffer, to: 1)
        buffer.removeAll(keepingCapacity: true)
    }

    /// Writes `text` to standard error at once (unbuffered).
    static func toStandardError(_ text: String) { write(Array(text.utf8), to: 2) }

    private static func write(_ bytes: [UInt8], to fd: Int32) {
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { break }
                done += n
            }
        }
    }

    /// `2026-11-23T07:00:00Z` (UTC, seconds).
    static func iso(_ time: LogTime) -> String {
        let (year, month, day) = time.utcDate
        let seconds = Int(time.nanosecondsSinceEpoch / 1_000_000_000)
        let ofDay = ((seconds % 86_400) + 86_400) % 86_400
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(year)-\(two(month))-\(two(day))T\(two(ofDay / 3600)):\(two(ofDay / 60 % 60)):\(two(ofDay % 60))Z"
    }
}
