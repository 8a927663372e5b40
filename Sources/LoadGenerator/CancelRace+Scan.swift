import Atomics
import EventReactor
import Foundation
import LogQuery

#if canImport(Glibc)
import Glibc
#endif

/// The log file the scan kind of `evq race` reads: syslog lines appended by a canceller thread,
/// the last one often split over two writes (so a partial line is seen), and rotated now and then
/// by rename and create, as logrotate does without `copytruncate`.
final class RaceLog: Sendable {
    let directory: String
    let path: String
    private let writer: Locked<(fd: Int32, line: Int, tail: String)>

    /// Makes a fresh directory under the temporary folder with a file of 200 lines.
    /// - Throws: `LogScanError` naming `mkdtemp` or `open` and the errno.
    init() throws(LogScanError) {
        var template = Array((FileManager.default.temporaryDirectory.path + "/evq-race-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw LogScanError(operation: "mkdtemp", errno: errno) }
        directory = String(cString: made)
        path = directory + "/app.log"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw LogScanError(operation: "open", errno: errno) }
        writer = Locked((fd, 0, ""))
        var rng = SplitMix64(seed: 7)
        write(lines: 200, rotateOneIn: 0, rng: &rng)
    }

    private static func line(_ number: Int) -> String {
        "Dec  7 16:\(number / 60 % 60 < 10 ? "0" : "")\(number / 60 % 60):00 racehost app[\(number % 97)]: "
            + "race line \(number) status=\(number % 3 == 0 ? "error" : "ok")\n"
    }

    /// Appends `lines` lines (the last split, its tail left for the next call) and, one time in
    /// `rotateOneIn` (0: never), first rotates the file to `path.1`. Any thread.
    func write(lines: Int, rotateOneIn: Int, rng: inout SplitMix64) {
        let rotate = rotateOneIn > 0 && Int.random(in: 0..<rotateOneIn, using: &rng) == 0
        let cut = Int.random(in: 1..<20, using: &rng)
        writer.withLock { state in
            var text = state.tail
            if rotate {
                _ = Glibc.write(state.fd, text, text.utf8.count)
                text = ""
                close(state.fd)
                rename(path, path + ".1")
                state.fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            }
            for _ in 0..<lines {
                text += Self.line(state.line)
                state.line += 1
            }
            let bytes = Array(text.utf8)
            let keep = bytes.count - min(cut, bytes.count)
            state.tail = String(decoding: bytes[keep...], as: UTF8.self)
            _ = bytes.withUnsafeBytes { Glibc.write(state.fd, $0.baseAddress, keep) }
        }
    }

    /// Deletes the files and the directory.
    func remove() {
        writer.withLock { close($0.fd) }
        unlink(path)
        unlink(path + ".1")
        rmdir(directory)
    }
}

/// One scan job of the race: one `next` (a batch of 64), `count` or `subscribe` (from the oldest
/// record; it cancels itself from the loop after one or two deliveries) pending at a time on its
/// query's reactor, each numbered and audited. Other threads cancel its operations and close its
/// query; a closed or exhausted query is replaced by a fresh one on whatever file is at the path
/// then (its predecessor `.1` in the moment between a rotation's rename and create).
/// Loop-bound: every member but `current`, the atomics and `closeFromThread` is used only on
/// `reactor`'s thread (`@unchecked Sendable` so completions can carry it there).
final class RaceScanJob: @unchecked Sendable {
    let reactor: Reactor
    private let state: RaceState
    private let log: RaceLog
    private var rng: SplitMix64
    private var query: LogQuery?
    private var subscription: LogSubscription?
    private var deliveriesLeft = 0
    private var wrapping = false
    private let current = Locked<LogQuery?>(nil)
    private let finished = ManagedAtomic<Bool>(false)
    private let records = ManagedAtomic<Int>(0)
    private let rotations = ManagedAtomic<Int>(0)
    private let closedFromThread = ManagedAtomic<Int>(0)
    private let reopened = ManagedAtomic<Int>(0)

    init(state: RaceState, log: RaceLog, reactor: Reactor, index: Int) {
        self.state = state
        self.log = log
        self.reactor = reactor
        rng = SplitMix64(seed: state.configuration.seed ^ 0x5CA4_0000 &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Whether the job has closed its query after the run was over. Any thread.
    var isFinished: Bool { finished.load(ordering: .acquiring) }

    /// What the job went through. Read once it finished.
    var paths: [String: Int] {
        ["records": records.load(ordering: .relaxed), "rotations": rotations.load(ordering: .relaxed),
         "closed_from_thread": closedFromThread.load(ordering: .relaxed), "reopened": reopened.load(ordering: .relaxed)]
    }

    /// Starts the job. Any thread.
    func begin() { reactor.execute { [self] in step() } }

    /// Ends a pending subscription once the run is over (nothing else would). Any thread.
    func wrapUp() {
        reactor.execute { [self] in
            wrapping = true
            subscription?.cancel()
        }
    }

    /// Closes the job's current query from another thread: its pending operation completes with
    /// `.cancelled`, and the job's next operation on it with `.closed`. Any thread.
    func closeFromThread() {
        guard let query = current.withLock({ $0 }) else { return }
        closedFromThread.wrappingIncrement(ordering: .relaxed)
        query.close()
    }

    private func step() {
        guard !wrapping, let index = state.claim(.scan) else { return finish() }
        let choice = rng.next() % 8
        if choice >= 6 {
            deliveriesLeft = Int.random(in: 1...2, using: &rng)
            let subscription = LogQuery.subscribe(
                path: log.path, start: .oldest, on: reactor,
                deliver: { [self] event in delivered(event) },
                ended: { [self] error in
                    self.subscription = nil
                    ended(index, .failure(error))
                })
            self.subscription = subscription
            state.publish(subscription.handle!, index: index)
            return
        }
        guard let query = openIfNeeded() else {
            state.ended(.scan, index, .failed, windowed: false)
            return reactor.execute { [self] in step() }
        }
        let handle = choice < 4
            ? query.next(max: 64) { [self] result in
                ended(index, result.map { records.wrappingIncrement(by: $0.count, ordering: .relaxed) })
            }
            : query.count { [self] result in ended(index, result.map { _ in () }) }
        state.publish(handle, index: index)
    }

    private func delivered(_ event: LogSubscriptionEvent) {
        switch event {
        case .records(let batch, _):
            records.wrappingIncrement(by: batch.count, ordering: .relaxed)
            deliveriesLeft -= 1
            if deliveriesLeft == 0 { subscription?.cancel() }
        case .rotated:
            rotations.wrappingIncrement(ordering: .relaxed)
        case .truncated:
            break
        }
    }

    private func ended(_ index: Int, _ result: Result<Void, LogQueryError>) {
        switch result {
        case .success:
            state.ended(.scan, index, .completed, windowed: false)
        case .failure(.cancelled(let info)):
            state.ended(.scan, index, RaceOutcome(info), cancel: info, windowed: false)
        case .failure(.noMoreItems):
            state.ended(.scan, index, .noMoreItems, windowed: false)
            dropQuery()
        case .failure(.closed):
            state.ended(.scan, index, .closed, windowed: false)
            dropQuery()
        case .failure:
            state.ended(.scan, index, .failed, windowed: false)
            dropQuery()
        }
        step()
    }

    private func openIfNeeded() -> LogQuery? {
        if let query { return query }
        let opened = (try? LogQuery.open(path: log.path, on: reactor))
            ?? (try? LogQuery.open(path: log.path + ".1", on: reactor))
        guard let opened else { return nil }
        reopened.wrappingIncrement(ordering: .relaxed)
        query = opened
        current.withLock { $0 = opened }
        return opened
    }

    private func dropQuery() {
        current.withLock { $0 = nil }
        query?.close()
        query = nil
    }

    private func finish() {
        guard !finished.load(ordering: .relaxed) else { return }
        dropQuery()
        finished.store(true, ordering: .releasing)
    }
}
