import EventReactor

#if canImport(Glibc)
    import Glibc
#endif

/// `LogQuery.seek`: moves the query's scanner; targets that need a search (`.last`, `.relative`,
/// `.time`) run a second scanner over the same descriptor in bounded slices. `strict` fails with
/// `.notFound` where the target is gone. Corresponds to `EvtSeek`.
///
/// Loop-bound: state is touched only on the reactor thread (`@unchecked Sendable`).
final class SeekOperation: QueryOperation, @unchecked Sendable {
    private let target: LogSeekTarget
    private let strict: Bool
    private let completion: @Sendable (Result<Void, LogQueryError>) -> Void
    private var search: Search?

    /// A search in progress: a scanner and what it looks for.
    private struct Search {
        var scanner: LogScanner
        /// Records still to pass before the wanted one (relative seeks).
        var skip: Int
        /// The best record so far (`.time` in reverse keeps the newest one at or before the time).
        var found: LogRecord?
    }

    init(
        query: LogQuery, target: LogSeekTarget, strict: Bool,
        completion: @escaping @Sendable (Result<Void, LogQueryError>) -> Void
    ) {
        self.target = target
        self.strict = strict
        self.completion = completion
        super.init(query: query)
    }

    override func step(until deadline: UInt64) -> QueryStepResult {
        guard query.scanner != nil else { return finish(failing: .closed) }
        do {
            if search == nil {
                switch target {
                case .first:
                    return try moveTo(nil)
                case .bookmark(let mark), .afterBookmark(let mark):
                    return try seekBookmark(mark)
                default:
                    switch try startSearch() {
                    case .search(let started): search = started
                    case .nothingToDo: return done()
                    case .notFound: return finish(failing: .notFound)
                    }
                }
            }
            return try runSearch(until: deadline)
        } catch {
            return finish(failing: .scan(error))
        }
    }

    private func seekBookmark(_ mark: LogBookmark) throws(LogScanError) -> QueryStepResult {
        let now = try query.currentIdentity()
        guard query.bookmarkFits(mark, now) else {
            return strict ? finish(failing: .notFound) : try moveTo(nil)
        }
        let at = LogPosition(offset: mark.offset, ordinal: mark.ordinal)
        let past = LogPosition(offset: mark.offset + mark.length, ordinal: mark.ordinal + 1)
        let forward = query.direction == .forward
        switch target {
        case .bookmark: return try moveTo(forward ? at : past)
        default: return try moveTo(forward ? query.resumePosition(after: mark) : at)
        }
    }

    private enum Start {
        case search(Search)
        case nothingToDo
        case notFound
    }

    /// Makes the searching scanner, or says the seek is decided already.
    private func startSearch() throws(LogScanError) -> Start {
        let direction = query.direction
        let opposite: ScanDirection = direction == .forward ? .reverse : .forward
        switch target {
        case .last:
            return .search(Search(scanner: try query.makeScanner(opposite, at: nil), skip: 0))
        case .time(let time):
            // Records in time order: start the forward search near the time (binary search).
            let start = query.scanner?.timeBisectionStart(atOrAfter: time)
            return .search(Search(scanner: try query.makeScanner(.forward, at: start), skip: 0))
        case .relative(let n) where n > 0:
            return .search(Search(scanner: try query.makeScanner(direction, at: query.cursor), skip: n))
        case .relative(let n) where n < 0:
            // Nothing lies behind the start of the scan.
            guard let cursor = query.cursor else { return strict ? .notFound : .nothingToDo }
            return .search(Search(scanner: try query.makeScanner(opposite, at: cursor), skip: -n - 1))
        default:
            return .nothingToDo
        }
    }

    private func runSearch(until deadline: UInt64) throws(LogScanError) -> QueryStepResult {
        guard var search else { return done() }
        defer { self.search = search }
        repeat {
            switch search.scanner.advance(budgetBytes: LogQuery.readBudget, maxRecords: 4096) {
            case .records(let records):
                for record in records {
                    if let result = try consider(record, &search) { return result }
                }
            case .needMore, .counted:
                break
            case .endOfFile:
                return try searchEnded(search)
            case .error(let error):
                throw error
            }
        } while MonotonicClock.now() < deadline
        return .yield
    }

    /// Looks at one record of the search; returns the step result when the target is decided.
    private func consider(_ record: LogRecord, _ search: inout Search) throws(LogScanError) -> QueryStepResult? {
        let direction = query.direction
        switch target {
        case .time(let time):
            guard let stamp = record.timestamp else { return nil }
            if direction == .forward {
                return stamp >= time ? try moveTo(.before(record, direction)) : nil
            }
            if stamp > time { return try searchEnded(search) }
            search.found = record
            return nil
        case .relative(let n) where n < 0:
            // Searching backwards: the record `-n` back comes next again.
            guard search.skip == 0 else {
                search.skip -= 1
                return nil
            }
            return try moveTo(.before(record, direction))
        default:
            guard search.skip == 0 else {
                search.skip -= 1
                return nil
            }
            return try moveTo(.before(record, direction))
        }
    }

    /// The searching scanner reached its end without deciding.
    private func searchEnded(_ search: Search) throws(LogScanError) -> QueryStepResult {
        switch target {
        case .time:
            if let found = search.found { return try moveTo(.before(found, query.direction)) }
            if strict { return finish(failing: .notFound) }
            return try moveToEnd(search.scanner)
        case .relative(let n) where n > 0:
            // Fewer than n+1 records were left: strict only fails if fewer than n were.
            if strict, search.skip > 0 { return finish(failing: .notFound) }
            return try moveToEnd(search.scanner)
        default:
            if strict { return finish(failing: .notFound) }
            return try moveTo(nil)
        }
    }

    /// Positions the query past its last record (the next `next` ends with `.noMoreItems`); a
    /// forward search that ran to the end knows the exact boundary there.
    private func moveToEnd(_ searched: LogScanner) throws(LogScanError) -> QueryStepResult {
        if query.direction == .forward {
            let end = searched.position
            return try moveTo(LogPosition(offset: end.offset, ordinal: end.ordinal))
        }
        return try moveTo(LogPosition(offset: 0, ordinal: 0))
    }

    /// Moves the query to `position` (nil: the start of the scan) and completes.
    private func moveTo(_ position: LogPosition?) throws(LogScanError) -> QueryStepResult {
        let scanner = try query.makeScanner(query.direction, at: position, follow: query.follow)
        guard winGate() else { return .done }
        query.replaceScanner(scanner, cursor: position)
        completion(.success(()))
        return .done
    }

    private func done() -> QueryStepResult {
        guard winGate() else { return .done }
        completion(.success(()))
        return .done
    }

    override func fail(_ error: LogQueryError) {
        completion(.failure(error))
    }
}
