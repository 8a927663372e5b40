import EventReactor

/// `LogQuery.next`: collects up to `max` matching records, one bounded slice per loop turn.
/// A partial batch is a success when the scan reaches the end or the timeout passes; an empty one
/// ends with `.noMoreItems` or `.timeout`. Corresponds to `EvtNext`.
///
/// Loop-bound: state is touched only on the reactor thread (`@unchecked Sendable`).
final class NextOperation: QueryOperation, @unchecked Sendable {
    private let max: Int
    private let completion: @Sendable (Result<[LogRecord], LogQueryError>) -> Void
    private var batch: [LogRecord] = []

    init(query: LogQuery, max: Int, completion: @escaping @Sendable (Result<[LogRecord], LogQueryError>) -> Void) {
        self.max = max
        self.completion = completion
        super.init(query: query)
    }

    override func step(until deadline: UInt64) -> QueryStepResult {
        guard let scanner = query.scanner else { return finish(failing: .closed) }
        guard max >= 1 else { return finish(failing: .invalidArgument("next(max: \(max)): max must be at least 1")) }
        batch.append(contentsOf: query.takeReturned(max - batch.count))
        if batch.count >= max { return succeed() }
        let bytesBefore = scanner.bytesRead
        defer { query.scanMetrics?.add(.next, bytes: scanner.bytesRead - bytesBefore, records: 0) }
        repeat {
            switch scanner.advance(budgetBytes: LogQuery.readBudget, maxRecords: max - batch.count) {
            case .records(let records):
                batch.append(contentsOf: records)
                if batch.count >= max { return succeed() }
            case .needMore, .counted:
                break
            case .endOfFile:
                if !batch.isEmpty { return succeed() }
                if query.follow { return .wait(LogQuery.followPollNanos) }
                return finish(failing: .noMoreItems)
            case .error(let error):
                return finish(failing: .scan(error))
            }
        } while MonotonicClock.now() < deadline
        return .yield
    }

    override func timedOut() {
        if batch.isEmpty {
            finish(failing: .timeout)
        } else {
            _ = succeed()
        }
    }

    private func succeed() -> QueryStepResult {
        guard winGate() else { return .done }
        query.delivered(batch)
        completion(.success(batch))
        return .done
    }

    override func fail(_ error: LogQueryError) {
        // Records already taken from the scanner go back to the query: the next `next` gets them.
        query.giveBack(batch)
        batch = []
        completion(.failure(error))
    }
}
