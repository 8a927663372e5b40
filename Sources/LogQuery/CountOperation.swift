import EventReactor

/// `LogQuery.count`: counts matching records with the scanner's count mode (no records built),
/// without moving the query. A file large enough to split is counted by `ParallelCount` on the
/// global dispatch pool (the loop only polls it); a small one in bounded slices on the loop.
///
/// Loop-bound: state is touched only on the reactor thread (`@unchecked Sendable`).
final class CountOperation: QueryOperation, @unchecked Sendable {
    /// How often the loop looks at a parallel count.
    static let pollNanos: UInt64 = 1_000_000

    private let completion: @Sendable (Result<Int, LogQueryError>) -> Void
    private var scanner: LogScanner?
    private var parallel: ParallelCount?
    private var total = 0

    init(query: LogQuery, completion: @escaping @Sendable (Result<Int, LogQueryError>) -> Void) {
        self.completion = completion
        super.init(query: query)
    }

    override func step(until deadline: UInt64) -> QueryStepResult {
        guard query.scanner != nil else { return finish(failing: .closed) }
        if let parallel { return poll(parallel) }
        if scanner == nil {
            do {
                let from = query.direction == .forward ? query.cursor?.offset ?? 0 : 0
                // A .gz file is one stream: it cannot be cut into ranges of the compressed bytes.
                let scanners = query.scanner?.isCompressed == true
                    ? [try query.makeScanner(.forward, at: query.direction == .forward ? query.cursor : nil, countOnly: true)]
                    : try query.makeCountScanners(from: from)
                if scanners.count > 1 {
                    let parallel = ParallelCount(scanners: scanners)
                    self.parallel = parallel
                    return .wait(Self.pollNanos)
                }
                scanner = scanners.first
            } catch {
                return finish(failing: .scan(error))
            }
        }
        guard let scanner else { return .done }
        let bytesBefore = scanner.bytesRead
        defer { query.scanMetrics?.add(.count, bytes: scanner.bytesRead - bytesBefore, records: 0) }
        repeat {
            switch scanner.advance(budgetBytes: LogQuery.readBudget, maxRecords: 1) {
            case .counted(let n): total += n
            case .records, .needMore: break
            case .endOfFile:
                // A damaged member ends the stream like its end: the count stands, and says so.
                if let damage = scanner.damage { query.countDamage = damage }
                return succeed(with: total)
            case .error(let error): return finish(failing: .scan(error))
            }
        } while MonotonicClock.now() < deadline
        return .yield
    }

    private func poll(_ parallel: ParallelCount) -> QueryStepResult {
        switch parallel.outcome {
        case nil:
            return .wait(Self.pollNanos)
        case .success(let total)?:
            query.scanMetrics?.add(.count, bytes: parallel.bytesRead, records: 0)
            return succeed(with: total)
        case .failure(let error)?:
            return finish(failing: .scan(error))
        }
    }

    private func succeed(with total: Int) -> QueryStepResult {
        guard winGate() else { return .done }
        query.scanMetrics?.add(.count, bytes: 0, records: total)
        completion(.success(total))
        return .done
    }

    override func fail(_ error: LogQueryError) {
        parallel?.stop()
        completion(.failure(error))
    }
}
