import EventReactor
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A subscription to the new records of a log file: an operation of the reactor that follows the
/// file through an inotify watch on its directory (one `FDWatcher` on the inotify fd) and a
/// fallback poll timer, delivering records in file order in bounded slices.
///
/// - A partial last line is held back until its newline arrives.
/// - Rotation by rename and create: the old file is read to its end (once more after the rename
///   was seen) before the new one; a follower that fell behind several rotations reads the files
///   in between by the names inotify saw them renamed to. Each switch is a `.rotated` event.
/// - Copytruncate (the size shrank, or the first line changed): a `.truncated` event reports the
///   possible gap, and reading restarts at offset 0. Records read in a slice during which the cut
///   happened are dropped rather than risk delivering a line twice (they fall in the reported gap).
///
/// It ends exactly once, through `ended`: with `.cancelled` after `cancel()`/`close()`,
/// `reactor.cancelAll()` or shutdown (after its inotify watch, fd and events are removed), or with
/// `.notFound` (strict bookmark) / `.scan(errno)`. Corresponds to `EvtSubscribe` with a callback.
///
/// Thread safety: `cancel`/`close` from any thread; the rest is touched only on the reactor thread
/// (`@unchecked Sendable`).
public final class LogSubscription: OperationBody, @unchecked Sendable {
    /// The reactor the subscription runs on.
    public let reactor: Reactor
    /// The followed path.
    public let path: String
    /// The filter records must pass.
    public let filter: LogFilter
    /// Loop time, slices and records; `maxSliceNanos` is the longest loop stall it caused.
    public let counters = LogQueryCounters()

    private let start: LogSubscriptionStart
    private let options: LogParseOptions
    private let pollNanos: UInt64
    private let sliceNanos: UInt64
    private let deliver: @Sendable (LogSubscriptionEvent) -> Void
    private let ended: @Sendable (LogQueryError) -> Void
    private let handleBox = Locked<OperationHandle?>(nil)
    /// Bytes read and records delivered, for swift-metrics (nil when the reactor publishes none).
    private let scanMetrics: ScanMetrics?

    // Loop-only state.
    private var operation: OperationHandle?
    private var watch: DirectoryWatch?
    private var watchEvent: FDWatcher?
    private var sliceEvent: LoopTimer?
    private var file: FollowedFile?
    private var counter: LineCounter?
    private var switching = false
    private var done = false
    /// Set by a consumer whose buffer is full (`pauseReading`): slices stop until `resumeReading`.
    private var paused = false
    private var startError: LogQueryError?
    private var finishedFiles: Set<FileKey> = []
    /// Test hook, loop thread only: runs each time a slice has read the current file to its end,
    /// just before the rotation check (a test writes there, where timing cannot be forced).
    package var endOfFileHook: (() -> Void)?

    private struct FileKey: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// The file being read: its descriptor, scanner, and what tells a cut.
    private final class FollowedFile {
        let fd: Int32
        var scanner: LogScanner
        var identity: FileIdentity
        var head: FileHead?
        var lastSize: Int64

        init(fd: Int32, scanner: LogScanner) {
            self.fd = fd
            self.scanner = scanner
            self.identity = scanner.identity
            self.head = FileHead.of(fileDescriptor: fd)
            self.lastSize = scanner.identity.size
        }

        var key: FileKey { FileKey(device: identity.device, inode: identity.inode) }

        deinit { Glibc.close(fd) }
    }

    init(
        reactor: Reactor, path: String, start: LogSubscriptionStart, filter: LogFilter, options: LogParseOptions,
        pollNanos: UInt64, sliceNanos: UInt64, deliver: @escaping @Sendable (LogSubscriptionEvent) -> Void,
        ended: @escaping @Sendable (LogQueryError) -> Void
    ) {
        self.reactor = reactor
        self.path = path
        self.start = start
        self.filter = filter
        self.options = options
        self.pollNanos = pollNanos
        self.sliceNanos = sliceNanos
        self.deliver = deliver
        self.ended = ended
        scanMetrics = ScanMetrics.make(on: reactor)
    }

    /// The subscription's operation handle (nil only before `subscribe` returned).
    public var handle: OperationHandle? { handleBox.withLock { $0 } }

    func setHandle(_ handle: OperationHandle) { handleBox.withLock { $0 = handle } }

    /// Ends the subscription with `.cancelled` (once; later calls do nothing). Any thread.
    /// The corresponding Windows call is `EvtCancel` on the subscription handle.
    public func cancel() { handle?.cancel() }

    /// Same as `cancel()`: idempotent. The corresponding Windows call is `EvtClose`.
    public func close() { cancel() }

    /// Stops reading after the current delivery until `resumeReading()`: a consumer whose buffer is
    /// full calls it from `deliver`. The file is not read meanwhile (inotify events are drained);
    /// nothing is lost, it waits in the file. Reactor thread only.
    package func pauseReading() {
        reactor.assertInLoop()
        paused = true
    }

    /// Reading goes on where `pauseReading()` stopped it. Any thread.
    package func resumeReading() {
        reactor.execute { [self] in
            guard paused else { return }
            paused = false
            schedulePump(after: 0)
        }
    }

    // MARK: operation

    public func attach(_ operation: OperationHandle, to reactor: Reactor) {
        self.operation = operation
        do {
            let (directory, name) = Self.split(path)
            let watch = try DirectoryWatch(directory: directory, name: name)
            self.watch = watch
            let event = FDWatcher(reactor: reactor, fd: watch.fd, interest: .read) { [self] in
                self.watch?.drain()
                pump()
            }
            event.arm()
            watchEvent = event
            try openAtStart()
        } catch {
            startError = .scan(error)
        }
        reactor.setTimer(operation, afterNanos: pollNanos)
        schedulePump(after: 0)
    }

    public func timerFired(_ operation: OperationHandle, on reactor: Reactor) {
        watch?.drain()
        reactor.setTimer(operation, afterNanos: pollNanos)
        pump()
    }

    public func end(_ operation: OperationHandle, with ending: OperationEnding, on reactor: Reactor) {
        release()
        ended(LogQueryError(ending))
    }

    private func fail(_ error: LogQueryError) {
        guard let operation, reactor.finish(operation) else { return }
        release()
        ended(error.naming(path))
    }

    /// Removes the inotify watch, frees the events, closes the file.
    private func release() {
        done = true
        scanMetrics?.idle()
        watchEvent?.free()
        watchEvent = nil
        watch?.close()
        watch = nil
        sliceEvent?.free()
        sliceEvent = nil
        file = nil
        counter = nil
    }

    private static func split(_ path: String) -> (directory: String, name: String) {
        guard let slash = path.lastIndex(of: "/") else { return (".", path) }
        let directory = String(path[..<slash])
        return (directory.isEmpty ? "/" : directory, String(path[path.index(after: slash)...]))
    }

    // MARK: files

    /// Opens the file at `path` for the start position; a missing file is followed from its creation.
    private func openAtStart() throws(LogScanError) {
        guard let opened = try openFile(path) else { return }
        file = opened
        switch start {
        case .oldest:
            break
        case .future:
            counter = LineCounter(end: opened.identity.size)
        case .afterBookmark(let mark, let strict):
            // The scanner checks the mark: a `.gz` file's offsets are those of its decompressed stream.
            if opened.scanner.fits(mark, now: opened.identity) {
                let resume = opened.scanner.resumePosition(after: mark)
                opened.scanner.reposition(offset: resume.offset, ordinal: resume.ordinal)
            } else if strict {
                startError = .notFound
            }
        }
    }

    /// Opens `path` with a following scanner at offset 0; nil when there is no file there.
    private func openFile(_ path: String) throws(LogScanError) -> FollowedFile? {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw LogScanError(operation: "open", errno: errno, path: path)
        }
        do {
            let scanner = try LogScanner(
                fileDescriptor: fd, ownsDescriptor: false, filter: filter, options: options, follow: true,
                bufferSize: LogQuery.recordBufferSize)
            return FollowedFile(fd: fd, scanner: scanner)
        } catch {
            Glibc.close(fd)
            throw error
        }
    }

    // MARK: the slice

    private func schedulePump(after nanos: UInt64) {
        guard !done else { return }
        if sliceEvent == nil {
            sliceEvent = LoopTimer(reactor: reactor) { [self] in pump() }
        }
        sliceEvent?.arm(after: .nanoseconds(Int64(clamping: nanos)))
    }

    private enum ReadResult {
        case atEnd
        case more
        case failed(LogScanError)
    }

    /// One slice: reads what is new, handles cuts and rotations, delivers, re-arms if unfinished.
    private func pump() {
        guard !done, !paused else { return }
        if let startError { return fail(startError) }
        let started = MonotonicClock.now()
        let startedCPU = LogQueryCounters.threadCPUNanos()
        let deadline = started &+ sliceNanos
        var batch: [LogRecord] = []
        var delivered = 0
        var bytesRead = 0
        var caughtUp = false
        func flush() {
            guard !batch.isEmpty, let file else { return }
            if file.identity.firstLineHash == 0, let now = try? FileIdentity.of(fileDescriptor: file.fd) {
                file.identity = now
            }
            delivered += batch.count
            deliver(.records(batch, identity: file.identity))
            batch = []
        }
        defer {
            flush()
            counters.recordSlice(
                nanos: MonotonicClock.now() &- started, cpuNanos: LogQueryCounters.threadCPUNanos() &- startedCPU,
                records: delivered)
            if let scanMetrics {
                scanMetrics.add(.subscribe, bytes: bytesRead, records: delivered)
                // Caught up with the file, or ended: publish now rather than when more lines come.
                if caughtUp || done { scanMetrics.idle() }
            }
        }
        var first = true
        while !done && !paused {
            // A rotation or a cut starts another round: each round checks the slice's time.
            if !first, MonotonicClock.now() >= deadline {
                schedulePump(after: 0)
                return
            }
            first = false
            if file == nil {
                do {
                    guard let opened = try openFile(path) else { return }
                    file = opened
                } catch {
                    return fail(.scan(error))
                }
            }
            guard let current = file else { return }
            if counter != nil {
                guard countLines(current, until: deadline) else { return }
            }
            if wasCut(current) {
                flush()
                guard restartAfterCut(current, gapAfter: current.scanner.position.offset) else { return }
                continue
            }
            let before = batch.count
            let bytesBefore = current.scanner.bytesRead
            let result = read(current, into: &batch, until: deadline)
            bytesRead += current.scanner.bytesRead - bytesBefore
            if wasCut(current) {
                // The cut may have come during the read: drop what it read rather than risk a duplicate.
                let gapAfter = batch.count > before ? batch[before].offset : current.scanner.position.offset
                batch.removeSubrange(before...)
                flush()
                guard restartAfterCut(current, gapAfter: gapAfter) else { return }
                continue
            }
            switch result {
            case .failed(let error):
                flush()
                return fail(.scan(error))
            case .more:
                schedulePump(after: 0)
                return
            case .atEnd:
                caughtUp = true
                endOfFileHook?()
            }
            guard rotate(current, flush) else { return }
        }
    }

    /// `.future`: counts the lines present at the start; true when done (the scanner is placed).
    private func countLines(_ current: FollowedFile, until deadline: UInt64) -> Bool {
        guard var counting = counter else { return true }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: LogQuery.readBudget, alignment: 64)
        defer { buffer.deallocate() }
        repeat {
            guard counting.advance(fd: current.fd, buffer: buffer, budget: LogQuery.readBudget) else {
                fail(.scan(LogScanError(operation: "pread", errno: errno)))
                return false
            }
        } while !counting.isDone && MonotonicClock.now() < deadline
        guard counting.isDone else {
            counter = counting
            schedulePump(after: 0)
            return false
        }
        counter = nil
        current.scanner.reposition(offset: counting.lastLineStart, ordinal: counting.lines)
        return true
    }

    private func read(_ current: FollowedFile, into batch: inout [LogRecord], until deadline: UInt64) -> ReadResult {
        repeat {
            switch current.scanner.advance(budgetBytes: LogQuery.readBudget, maxRecords: 4096) {
            case .records(let records): batch.append(contentsOf: records)
            case .needMore, .counted: break
            case .endOfFile: return .atEnd
            case .error(let error): return .failed(error)
            }
        } while MonotonicClock.now() < deadline
        return .more
    }

    /// Whether the file was cut since the last look (its size shrank or its first line changed);
    /// otherwise remembers its size and head for the next look.
    private func wasCut(_ current: FollowedFile) -> Bool {
        var st = stat()
        guard fstat(current.fd, &st) == 0 else { return false }
        let size = Int64(st.st_size)
        var cut = size < current.lastSize
        if !cut, let head = current.head, size >= Int64(head.length) {
            cut = FileHead.of(fileDescriptor: current.fd) != head
        }
        if !cut {
            current.lastSize = size
            if current.head == nil { current.head = FileHead.of(fileDescriptor: current.fd) }
        }
        return cut
    }

    /// Reports a cut as a possible gap after `gapAfter` and restarts the file at offset 0.
    /// Returns false if the subscription failed.
    private func restartAfterCut(_ current: FollowedFile, gapAfter: Int64) -> Bool {
        reactor.logger.warning("followed log was cut (copytruncate): lines after the offset may be lost", metadata: [
            "path": "\(path)", "possible_gap_after": "\(gapAfter)",
        ])
        deliver(.truncated(current.identity, possibleGapAfter: gapAfter))
        do {
            current.scanner = try LogScanner(
                fileDescriptor: current.fd, ownsDescriptor: false, filter: filter, options: options, follow: true,
                bufferSize: LogQuery.recordBufferSize)
        } catch {
            fail(.scan(error))
            return false
        }
        current.identity = current.scanner.identity
        current.head = FileHead.of(fileDescriptor: current.fd)
        current.lastSize = current.identity.size
        return true
    }

    /// At the end of the current file: switches to the next one after a rename (having read the
    /// old one to its end once more after seeing the rename). Returns whether to keep reading.
    private func rotate(_ current: FollowedFile, _ flush: () -> Void) -> Bool {
        var st = stat()
        guard stat(path, &st) == 0 else { return false }  // renamed away, not created yet: wait
        let atPath = FileKey(device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        guard atPath != current.key else { return false }  // nothing new: wait for inotify or the timer
        if !switching {
            switching = true
            return true
        }
        switching = false
        flush()
        watch?.drain()
        finishedFiles.insert(current.key)
        let between = (watch?.renamedAfter(device: current.identity.device, inode: current.identity.inode) ?? [])
            .filter { !finishedFiles.contains(FileKey(device: $0.device, inode: $0.inode)) }
        var next: FollowedFile?
        do {
            for renamed in between {
                if let candidate = try openFile(renamed.path), candidate.identity.inode == renamed.inode {
                    next = candidate
                    break
                }
            }
            if next == nil { next = try openFile(path) }
        } catch {
            fail(.scan(error))
            return false
        }
        file = next
        if let next {
            reactor.logger.info("followed log rotated", metadata: ["path": "\(path)", "inode": "\(next.identity.inode)"])
            deliver(.rotated(from: current.identity, to: next.identity))
        }
        return next != nil
    }
}

extension LogQuery {
    /// Follows `path` on `reactor` (see `LogSubscription`). Any thread; returns at once.
    /// - Parameters:
    ///   - path: the file followed by its path: after a rotation, the new file at that path.
    ///   - start: `.future`, `.oldest` or `.afterBookmark(_, strict:)`.
    ///   - filter: records not passing it are skipped.
    ///   - format: `.auto` (decided from the first lines, or the first bytes of an empty file).
    ///   - pollNanos: the fallback poll period (default 100 ms), should an inotify event be missed.
    ///   - sliceNanos: the longest loop time one slice takes (default 0.25 ms).
    ///   - options: the UTC offset (or zone) and the year assumed for RFC 3164 timestamps (its
    ///     `format` is replaced by `format`).
    ///   - reactor: the loop the subscription runs on.
    ///   - deliver: records and rotation facts, in order, on the reactor thread.
    ///   - ended: runs exactly once, on the reactor thread, when the subscription ends.
    /// The corresponding Windows call is `EvtSubscribe` (callback form).
    public static func subscribe(
        path: String, start: LogSubscriptionStart = .future, filter: LogFilter = .all, format: LogFormat = .auto,
        pollNanos: UInt64 = 100_000_000, sliceNanos: UInt64 = 250_000, options: LogParseOptions = LogParseOptions(),
        on reactor: Reactor,
        deliver: @escaping @Sendable (LogSubscriptionEvent) -> Void,
        ended: @escaping @Sendable (LogQueryError) -> Void
    ) -> LogSubscription {
        var options = options
        options.format = format
        let subscription = LogSubscription(
            reactor: reactor, path: path, start: start, filter: filter, options: options, pollNanos: pollNanos,
            sliceNanos: sliceNanos, deliver: deliver, ended: ended)
        subscription.setHandle(reactor.start(subscription))
        return subscription
    }
}
