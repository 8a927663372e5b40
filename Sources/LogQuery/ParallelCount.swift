import Dispatch
import EventReactor

#if canImport(Glibc)
    import Glibc
#endif

/// A count split into line-aligned ranges of one file, each range counted on a thread of the
/// global dispatch pool by a count scanner with a descriptor of its own (docs/design.md: reads on a
/// small pool, handed back to the loop): a large count uses every core and none of its scanning
/// runs on the loop. The loop polls `outcome`; `stop()` makes every worker end at its next step.
/// Any thread: workers touch only their own scanner and the locked state.
final class ParallelCount: Sendable {
    /// Ranges shorter than this are not split further (a thread per megabyte at least).
    static let minimumRangeBytes: Int64 = 1 << 20

    private struct State {
        var total = 0
        var bytesRead = 0
        var running: Int
        var error: LogScanError?
    }

    private let state: Locked<State>
    private let stopped = Locked(false)

    /// Starts one worker per scanner; each scanner is already positioned at its range and stopped
    /// at its end (`reposition`, `stop(at:)`).
    init(scanners: [LogScanner]) {
        state = Locked(State(running: scanners.count))
        for scanner in scanners {
            let handed = HandedScanner(scanner: scanner)
            DispatchQueue.global().async { [self] in run(handed.scanner) }
        }
    }

    /// A scanner (not thread-safe) moved to the one worker that runs it: the loop made it for that
    /// worker and drops its own reference when this init returns, so one thread at a time uses it.
    private struct HandedScanner: @unchecked Sendable {
        let scanner: LogScanner
    }

    /// nil while a worker runs; then the total, or the first error.
    var outcome: Result<Int, LogScanError>? {
        state.withLock { state in
            guard state.running == 0 else { return nil }
            if let error = state.error { return .failure(error) }
            return .success(state.total)
        }
    }

    /// The bytes the workers that finished have read.
    var bytesRead: Int { state.withLock { $0.bytesRead } }

    /// Asks every worker to stop (the count was cancelled, timed out or its query closed).
    func stop() {
        stopped.withLock { $0 = true }
    }

    private func run(_ scanner: LogScanner) {
        var total = 0
        var failure: LogScanError?
        scan: while !stopped.withLock({ $0 }) {
            switch scanner.advance(budgetBytes: LogQuery.countBufferSize, maxRecords: 1) {
            case .counted(let n): total += n
            case .records, .needMore: break
            case .endOfFile: break scan
            case .error(let error):
                failure = error
                break scan
            }
        }
        if failure != nil { stop() }
        state.withLock { state in
            state.total += total
            state.bytesRead += scanner.bytesRead
            if state.error == nil { state.error = failure }
            state.running -= 1
        }
    }

    /// Splits `start..<end` of the file `fd` into at most `parts` ranges that begin at line starts
    /// (each cut moves forward to just past the next newline; a cut that finds none within 1 MiB is
    /// dropped). Returns the range bounds, `start` first and `end` last.
    static func cuts(fd: Int32, from start: Int64, to end: Int64, parts: Int) -> [Int64] {
        let wanted = min(parts, Int(max(1, (end - start) / minimumRangeBytes)))
        var bounds = [start]
        guard wanted > 1 else { return bounds + [end] }
        var buffer = [UInt8](repeating: 0, count: 4096)
        for part in 1..<wanted {
            var offset = max(bounds.last!, start + (end - start) * Int64(part) / Int64(wanted))
            let limit = min(end, offset + (1 << 20))
            var cut: Int64?
            while cut == nil, offset < limit {
                let count = Int(min(Int64(buffer.count), limit - offset))
                let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, count, off_t(offset)) }
                guard n > 0 else { break }
                if let newline = buffer[..<n].firstIndex(of: 0x0A) { cut = offset + Int64(newline) + 1 }
                offset += Int64(n)
            }
            if let cut, cut > bounds.last!, cut < end { bounds.append(cut) }
        }
        return bounds + [end]
    }
}
