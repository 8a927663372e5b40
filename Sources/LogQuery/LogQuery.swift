import EventReactor

#if canImport(Glibc)
    import Glibc
#endif

/// A log-scan query over one file, bound to one reactor: it owns the file descriptor and the
/// scanner, and every operation on it (`next`, `seek`) is an operation of the reactor with the
/// exactly-once contract. Operations run one after the other in the order they were installed;
/// each advances in bounded slices (at most `sliceNanos` of loop time per turn) and re-arms itself
/// with a zero-timeout event, so sockets and other jobs on the loop interleave.
///
/// Corresponds to the Windows result set of `EvtQuery`, with `EvtNext`, `EvtSeek`, `EvtCancel`
/// and `EvtClose`.
///
/// Thread safety: `next`, `seek`, `cancel` and `close` may be called from any thread; the scan
/// state is touched only on the reactor thread (`@unchecked Sendable`).
public final class LogQuery: @unchecked Sendable {
    /// Bytes a scanner reads per `advance` inside a slice.
    static let readBudget = 64 * 1024
    /// The read buffer of scanners that build records: one `advance` parses one buffer, so a small
    /// one keeps a slice close to its deadline (count mode keeps the 64 KiB default: it parses little).
    static let recordBufferSize = 16 * 1024
    /// The chunk of a count (`count`): it parses only the lines holding the literal and reads a mapped
    /// window (no copy), so 256 KiB take about 30 µs; fewer chunks mean less per-chunk work.
    static let countBufferSize = 256 * 1024
    /// How often a following `next` looks at a file that has not grown.
    static let followPollNanos: UInt64 = 20_000_000

    /// The reactor every operation of the query runs on.
    public let reactor: Reactor
    /// The file's path as given to `open`.
    public let path: String
    /// The filter records must pass.
    public let filter: LogFilter
    /// The scan's direction.
    public let direction: ScanDirection
    /// Whether `next` waits for the file to grow at its end instead of ending with `.noMoreItems`.
    public let follow: Bool
    /// The file's identity when it was opened (bookmarks name it).
    public let identity: FileIdentity
    /// Loop time, slices and records of this query; `maxSliceNanos` is the longest loop stall it caused.
    public let counters = LogQueryCounters()
    /// The longest time one slice may hold the loop before yielding (nanoseconds).
    public let sliceNanos: UInt64
    /// Threads a `count` of a large file may use (its line-aligned ranges are counted on the global
    /// dispatch pool, off the loop); 1 counts in slices on the loop.
    public let countThreads: Int
    /// The default `countThreads`: the active cores, at most 4.
    public static var defaultCountThreads: Int { max(1, min(4, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))) }

    let pending = PendingOperations()
    let options: LogParseOptions
    /// Bytes read and records matched, for swift-metrics (nil when the reactor publishes none).
    let scanMetrics: ScanMetrics?
    private let fd: Int32

    // Loop-only state.
    var scanner: LogScanner?
    private var queue: [QueryOperation] = []
    private var sliceEvent: LoopTimer?
    private var loopClosed = false
    private var returned: [LogRecord] = []
    /// Where the query stands: past the last record delivered, or where a seek put it; nil at the
    /// start of the scan. `seek(.relative)` counts from it.
    var cursor: LogPosition?
    /// The damage the last `count` of a `.gz` file met (the count reads with a scanner of its own).
    var countDamage: LogStreamDamage?

    private init(
        reactor: Reactor, path: String, fd: Int32, scanner: LogScanner, follow: Bool, options: LogParseOptions,
        sliceNanos: UInt64, countThreads: Int
    ) {
        self.countThreads = countThreads
        self.reactor = reactor
        self.path = path
        self.fd = fd
        self.scanner = scanner
        self.filter = scanner.filter
        self.direction = scanner.direction
        self.identity = scanner.identity
        self.follow = follow
        self.options = options
        self.sliceNanos = sliceNanos
        scanMetrics = ScanMetrics.make(on: reactor)
    }

    /// Opens `path` for a query on `reactor`. Any thread; reads only the identity and a format sample.
    /// - Parameters:
    ///   - path: the log file.
    ///   - filter: records not passing it are skipped.
    ///   - direction: `.forward` (oldest first) or `.reverse` (newest first, reading blocks backwards).
    ///   - format: `.auto` (decided from the first lines) or a fixed format.
    ///   - follow: forward only: at the end of the file `next` waits for new lines (until its
    ///     timeout) instead of ending with `.noMoreItems`; a partial last line is held back.
    ///   - sliceNanos: the longest loop time one slice takes before yielding (default 0.25 ms).
    ///   - countThreads: the threads a large `count` is split over (default: the cores, at most 4).
    ///   - options: the facts lines may lack: the UTC offset (or zone) and the year assumed for
    ///     RFC 3164 timestamps (its `format` is replaced by `format`).
    ///   - reactor: the loop the query's operations run on.
    /// - Throws: `LogQueryError.scan` with the path and the errno of `open`, `fstat` or `pread`
    ///   (a directory is `EISDIR`); `.invalidArgument` for a reverse query that follows or
    ///   `countThreads` below 1.
    /// The corresponding Windows call is `EvtQuery`.
    public static func open(
        path: String, filter: LogFilter = .all, direction: ScanDirection = .forward, format: LogFormat = .auto,
        follow: Bool = false, sliceNanos: UInt64 = 250_000, countThreads: Int = LogQuery.defaultCountThreads,
        options: LogParseOptions = LogParseOptions(), on reactor: Reactor
    ) throws(LogQueryError) -> LogQuery {
        guard direction == .forward || !follow else {
            throw .invalidArgument("open \(path): only a forward query can follow (follow with direction .reverse)")
        }
        guard countThreads >= 1 else {
            throw .invalidArgument("open \(path): countThreads must be at least 1, not \(countThreads)")
        }
        var options = options
        options.format = format
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw .scan(LogScanError(operation: "open", errno: errno, path: path)) }
        var status = stat()
        if fstat(fd, &status) == 0, status.st_mode & S_IFMT == S_IFDIR {
            Glibc.close(fd)
            throw .scan(LogScanError(operation: "open", errno: EISDIR, path: path))
        }
        do {
            let scanner = try LogScanner(
                fileDescriptor: fd, ownsDescriptor: false, filter: filter, direction: direction, options: options,
                follow: follow, bufferSize: recordBufferSize)
            return LogQuery(
                reactor: reactor, path: path, fd: fd, scanner: scanner, follow: follow, options: options,
                sliceNanos: sliceNanos, countThreads: countThreads)
        } catch {
            Glibc.close(fd)
            var error = error
            error.path = error.path ?? path
            throw .scan(error)
        }
    }

    deinit {
        if scanner != nil { Glibc.close(fd) }
    }

    /// Fetches up to `max` matching records. Any thread; returns at once.
    ///
    /// The completion runs exactly once, on the reactor thread, with a batch of 1…`max` records
    /// (a partial batch when the scan reached the end, or the timeout passed with some records),
    /// or `.noMoreItems`, `.timeout`, `.cancelled`, `.closed`, `.scan(errno)`.
    /// - Parameters:
    ///   - max: the batch size (≥ 1; below 1 the completion gets `.invalidArgument`).
    ///   - timeout: `nil` waits as long as the scan takes (or forever when following).
    ///   - completion: the batch or the error, once, on the reactor thread.
    /// The corresponding Windows call is `EvtNext`.
    @discardableResult
    public func next(
        max: Int, timeout: Duration? = nil,
        completion: @escaping @Sendable (Result<[LogRecord], LogQueryError>) -> Void
    ) -> OperationHandle {
        return start(NextOperation(query: self, max: max, completion: completion), timeout: timeout)
    }

    /// `next(max:timeout:completion:)` as `async`; Swift task cancellation cancels the operation.
    /// - Throws: `LogQueryError` (`.noMoreItems`, `.timeout`, `.cancelled`, …).
    public func next(max: Int, timeout: Duration? = nil) async throws(LogQueryError) -> [LogRecord] {
        try await awaitOperation { completion in next(max: max, timeout: timeout, completion: completion) }
    }

    /// Moves the query (see `LogSeekTarget`). Any thread; returns at once. The completion runs
    /// exactly once, on the reactor thread: success, or `.notFound` (only when `strict` and the
    /// target is gone: another file or a cut one under a bookmark, fewer records than asked),
    /// `.cancelled`, `.closed`, `.scan(errno)`. Without `strict` a missing target moves to the
    /// nearest place (the start for a bookmark of another file, the end past the last record).
    /// Searches (`.last`, `.relative`, `.time`) run in bounded slices like `next`.
    /// The corresponding Windows call is `EvtSeek` (`EvtSeekStrict`).
    @discardableResult
    public func seek(
        to target: LogSeekTarget, strict: Bool = false, timeout: Duration? = nil,
        completion: @escaping @Sendable (Result<Void, LogQueryError>) -> Void
    ) -> OperationHandle {
        start(SeekOperation(query: self, target: target, strict: strict, completion: completion), timeout: timeout)
    }

    /// `seek(to:strict:timeout:completion:)` as `async`; Swift task cancellation cancels it.
    /// - Throws: `LogQueryError` (`.notFound`, `.cancelled`, …).
    public func seek(to target: LogSeekTarget, strict: Bool = false) async throws(LogQueryError) {
        try await awaitOperation { completion in seek(to: target, strict: strict, completion: completion) }
    }

    /// Counts the matching records without building them (the scanner's count mode: in slices on
    /// the loop, or for a file of several MiB in line-aligned ranges on up to `countThreads` threads
    /// of the global dispatch pool, which the loop polls):
    /// in a forward query from its position to the end, in a reverse query the whole file, as it is
    /// when the count starts (lines appended meanwhile are not counted; it reads `mmap` windows,
    /// safe against truncation: see `LogReadMethod.memoryMap`). Does not move the query. Any thread;
    /// the completion runs exactly once on the reactor thread.
    @discardableResult
    public func count(
        timeout: Duration? = nil, completion: @escaping @Sendable (Result<Int, LogQueryError>) -> Void
    ) -> OperationHandle {
        start(CountOperation(query: self, completion: completion), timeout: timeout)
    }

    /// `count(timeout:completion:)` as `async`; Swift task cancellation cancels it.
    public func count() async throws(LogQueryError) -> Int {
        try await awaitOperation { completion in count(completion: completion) }
    }

    /// The bookmark of `record`, a record this query returned. Any thread.
    public func bookmark(for record: LogRecord) -> LogBookmark {
        LogBookmark(record: record, in: identity)
    }

    /// Cancels every operation of this query pending now; each completes once with `.cancelled`.
    /// Any thread; returns at once. The corresponding Windows call is `EvtCancel(handle)`.
    public func cancel() {
        for handle in pending.all { handle.cancel() }
    }

    /// Cancels what is pending and releases the file and the loop event. Idempotent, any thread;
    /// later operations complete with `.closed`. The corresponding Windows call is `EvtClose`.
    public func close() {
        let (first, handles) = pending.close()
        for handle in handles { handle.cancel() }
        guard first else { return }
        // Cancels posted above run on the loop before this job (same queue, in order). An operation
        // that was installed before `close()` but registered its handle after it is still queued:
        // cancel it here, so that nothing waits on a pump that will not run again.
        reactor.execute { [self] in
            for operation in queue { operation.handle?.cancel() }
            loopClosed = true
            sliceEvent?.free()
            sliceEvent = nil
            scanner = nil
            returned = []
            Glibc.close(fd)
        }
    }

    /// Starts `body` and registers its handle for `cancel`/`close`.
    func start(_ body: QueryOperation, timeout: Duration?) -> OperationHandle {
        let handle = reactor.start(body, timeout: timeout)
        pending.register(body.id, handle)
        return handle
    }

    // MARK: loop side

    /// Queues an installed operation; the pump runs it on a later loop turn.
    func enqueue(_ operation: QueryOperation) {
        // After `close()` (even before its loop job ran) an operation ends: `.cancelled` when it was
        // started before the close (whichever thread's cancel wins), `.closed` when started after.
        if loopClosed || pending.isClosed {
            if pending.startedBeforeClose(operation.id) {
                operation.handle?.cancel()
            } else {
                reactor.execute { operation.finish(failing: .closed) }
            }
            return
        }
        queue.append(operation)
        if queue.count == 1 { schedulePump(after: 0) }
    }

    /// Removes an ended operation from the queue (idempotent); with nothing left, disarms the slice
    /// event, so that the loop is back to its baseline once every operation has completed.
    func dequeue(_ operation: QueryOperation) {
        queue.removeAll { $0 === operation }
        if queue.isEmpty {
            sliceEvent?.disarm()
            scanMetrics?.idle()
        }
    }

    /// Records handed to a completion.
    func delivered(_ records: [LogRecord]) {
        if let last = records.last { cursor = .after(last, direction) }
        deliveredCount += records.count
        scanMetrics?.add(.next, bytes: 0, records: records.count)
    }

    private var deliveredCount = 0

    /// Records a cancelled `next` had taken: the next `next` returns them first.
    func giveBack(_ records: [LogRecord]) {
        returned.insert(contentsOf: records, at: 0)
    }

    /// Up to `max` given-back records.
    func takeReturned(_ max: Int) -> [LogRecord] {
        guard !returned.isEmpty else { return [] }
        let taken = Array(returned.prefix(max))
        returned.removeFirst(taken.count)
        return taken
    }

    /// A scanner over the query's descriptor with its filter and format, at `position` (nil: the
    /// start of a scan in `direction`).
    func makeScanner(
        _ direction: ScanDirection, at position: LogPosition?, follow: Bool = false, countOnly: Bool = false
    ) throws(LogScanError) -> LogScanner {
        let scanner = try LogScanner(
            fileDescriptor: fd, ownsDescriptor: false, filter: filter, direction: direction, options: options,
            follow: follow, countOnly: countOnly, bufferSize: countOnly ? Self.countBufferSize : Self.recordBufferSize,
            readMethod: countOnly && direction == .forward && !follow ? .memoryMap : .read)
        if let position {
            if direction == .forward {
                scanner.reposition(offset: position.offset, ordinal: position.ordinal)
            } else {
                scanner.reposition(endOffset: position.offset, lastOrdinal: position.ordinal - 1)
            }
        }
        return scanner
    }

    /// Count scanners for a count from `start` to the file's end, one per line-aligned range
    /// (`ParallelCount.cuts`), each with a descriptor of its own (a `dup`, closed with the scanner),
    /// so that workers on other threads never share the query's descriptor, which `close()` closes.
    /// A single scanner when the file is too small to split (or `countThreads` is 1).
    func makeCountScanners(from start: Int64) throws(LogScanError) -> [LogScanner] {
        var status = stat()
        guard fstat(fd, &status) == 0 else { throw LogScanError(operation: "fstat", errno: errno) }
        let bounds = ParallelCount.cuts(fd: fd, from: start, to: Int64(status.st_size), parts: countThreads)
        var scanners: [LogScanner] = []
        for index in 0..<(bounds.count - 1) {
            let copy = dup(fd)
            guard copy >= 0 else { throw LogScanError(operation: "dup", errno: errno) }
            let scanner: LogScanner
            do {
                scanner = try LogScanner(
                    fileDescriptor: copy, ownsDescriptor: true, filter: filter, direction: .forward, options: options,
                    countOnly: true, bufferSize: Self.countBufferSize, readMethod: .memoryMap)
            } catch {
                Glibc.close(copy)
                throw error
            }
            scanner.reposition(offset: bounds[index], ordinal: 0)
            scanner.stop(at: bounds[index + 1])
            scanners.append(scanner)
        }
        return scanners
    }

    /// Installs a repositioned scanner (a seek): records given back by a cancelled `next` are dropped.
    func replaceScanner(_ scanner: LogScanner, cursor: LogPosition?) {
        self.scanner = scanner
        self.cursor = cursor
        returned.removeAll()
    }

    /// The identity of the open file now.
    func currentIdentity() throws(LogScanError) -> FileIdentity {
        try FileIdentity.of(fileDescriptor: fd)
    }

    /// Whether a line starts at `offset` (the start of the file, or just after a newline).
    func isLineStart(_ offset: Int64) -> Bool {
        guard offset > 0 else { return offset == 0 }
        var byte: UInt8 = 0
        return pread(fd, &byte, 1, off_t(offset - 1)) == 1 && byte == 0x0A
    }

    /// Where a forward read resumes after `mark`'s record (see `LogBookmark.resumePosition(in:)`).
    /// A `.gz` file does not grow: its last line is whole as it is.
    func resumePosition(after mark: LogBookmark) -> LogPosition {
        if scanner?.isCompressed == true { return LogPosition(offset: mark.offset + mark.length, ordinal: mark.ordinal + 1) }
        let (offset, ordinal) = mark.resumePosition(in: fd)
        return LogPosition(offset: offset, ordinal: ordinal)
    }

    private func schedulePump(after nanos: UInt64) {
        if sliceEvent == nil {
            sliceEvent = LoopTimer(reactor: reactor) { [self] in pump() }
        }
        sliceEvent?.arm(after: .nanoseconds(Int64(clamping: nanos)))
    }

    /// One slice: runs the head operations until the slice's time is used, then re-arms.
    private func pump() {
        let started = MonotonicClock.now()
        let startedCPU = LogQueryCounters.threadCPUNanos()
        let deliveredBefore = deliveredCount
        let deadline = started &+ sliceNanos
        var again: UInt64?
        while let head = queue.first {
            // A cancel that won meanwhile ends the operation (its `end` is queued): skip its work.
            if let handle = head.handle, !reactor.isPending(handle) {
                dequeue(head)
                continue
            }
            switch head.step(until: deadline) {
            case .done:
                dequeue(head)
                if MonotonicClock.now() >= deadline, !queue.isEmpty { again = 0 }
            case .yield:
                again = 0
            case .wait(let nanos):
                again = nanos
            }
            if again != nil { break }
        }
        counters.recordSlice(
            nanos: MonotonicClock.now() &- started, cpuNanos: LogQueryCounters.threadCPUNanos() &- startedCPU,
            records: deliveredCount - deliveredBefore)
        if queue.isEmpty { scanMetrics?.idle() }
        if let again, !loopClosed, !queue.isEmpty { schedulePump(after: again) }
    }
}
