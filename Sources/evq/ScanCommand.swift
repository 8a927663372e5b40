import ArgumentParser
import Dispatch
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
            Filter examples: 'message contains "Failed password"', 'app == "sshd" and severity <= warning',
            'message ~ "user [a-z]+ from"', 'not (host == "web1") and time >= "2026-01-01T00:00:00Z"'.
            """
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
    @Option(help: ArgumentHelp(
        "How records are printed: short, iso, raw or json.",
        discussion: """
            iso (the default): '2026-12-07T10:00:01Z host app[pid]: message' (UTC); short: 'Dec 07 10:00:01 …'; \
            raw: the line as it is in the file; json: one object per record with every parsed field and its \
            bookmark (a line that is not UTF-8 also as 'line_bytes'). With raw and json the final bookmark and \
            the follow notes go to standard error.
            """))
    var output = "iso"
    @Flag(help: "Print the scan's figures (slices, longest loop stall) on stderr.")
    var stats = false
    @Option(name: .customLong("count-threads"),
            help: "Threads a --count of a large file may use (line-aligned ranges on a pool); 1 counts on the loop.")
    var countThreads = LogQuery.defaultCountThreads

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
        _ = try parsedOutput()
        _ = try parsedFilter()
        _ = try parsedBookmark()
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

    private func parsedFilter() throws -> LogFilter {
        guard let filter else { return .all }
        do {
            return try LogFilter(filter)
        } catch {
            let caret = String(repeating: " ", count: error.position) + "^"
            throw ValidationError(
                "bad --filter at position \(error.position): \(error.reason)\n  \(filter)\n  \(caret)")
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
        let output = ScanOutput(format: try parsedOutput())
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
                format: try parsedFormat(), countThreads: countThreads, on: reactor)
        } catch {
            throw ValidationError("cannot open \(file): \(error)")
        }
        defer { query.close() }
        let lines = output.needsLineBytes ? LineBytes(path: file) : nil
        if count {
            switch wait({ query.count(completion: $0) }) {
            case .success(let n): output.line("\(n)")
            case .failure(let error): throw ValidationError("scan of \(file) failed: \(error)")
            }
            return query.counters
        }
        if let mark = try parsedBookmark() {
            switch wait({ query.seek(to: .afterBookmark(mark), strict: true, completion: $0) }) {
            case .success: break
            case .failure(.notFound):
                ScanOutput.toStandardError(
                    "evq scan: the bookmark names another file (or a cut one): scanning from the start\n")
            case .failure(let error): throw ValidationError("seek in \(file) failed: \(error)")
            }
        }
        var last: LogRecord?
        scanning: while true {
            switch wait({ query.next(max: 1024, completion: $0) }) {
            case .success(let batch):
                output.records(batch, in: query.identity, lines: lines)
                last = batch.last ?? last
            case .failure(.noMoreItems):
                break scanning
            case .failure(let error):
                throw ValidationError("scan of \(file) failed: \(error)")
            }
        }
        if let last { output.note("-- bookmark: \(query.bookmark(for: last).serialized)") }
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
            path: file, start: start, filter: try parsedFilter(), format: try parsedFormat(), on: reactor,
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
        let lines = output.needsLineBytes ? LineBytes(path: file) : nil
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
        signals.forEach { $0.cancel() }
        if let last { output.note("-- bookmark: \(last.serialized)") }
        switch endedWith {
        case .cancelled?, nil: return subscription.counters
        case let error?: throw ValidationError("follow of \(file) ended: \(error)")
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

