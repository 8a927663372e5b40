import EventReactor

/// `LogQuery.count`: counts matching records with the scanner's count mode (no records built),
/// in bounded slices, without moving the query.
///
/// Loop-bound: state is touched only on the reactor thread (`@unchecked Sendable`).
final class CountOperation: QueryOperation, @unchecked Sendable {
    private let completion: @Sendable (Result<Int, LogQueryError>) -> Void
    private var scanner: LogScanner?
    private var total = 0

    init(query: LogQuery, completion: @escaping @Sendable (Result<Int, LogQueryError>) -> Void) {
        self.completion = completion
        super.init(query: query)
    }

    override func step(until deadline: UInt64) -> QueryStepResult {
        guard query.scanner != nil else { return finish(failing: .closed) }
        if scanner == nil {
            do {
                let from = query.direction == .forward ? query.cursor : nil
                scanner = try query.makeScanner(.forward, at: from, countOnly: true)
            } catch {
                return finish(failing: .scan(error))
            }
        }
        guard let scanner else { return .done }
        repeat {
            switch scanner.advance(budgetBytes: LogQuery.readBudget, maxRecords: 1) {
            case .counted(let n): total += n
            case .records, .needMore: break
            case .endOfFile:
                guard winGate() else { return .done }
                completion(.success(total))
                return .done
            case .error(let error):
                return finish(failing: .scan(error))
            }
        } while MonotonicClock.now() < deadline
        return .yield
    }

    override func fail(_ error: LogQueryError) {
        completion(.failure(error))
    }
}
