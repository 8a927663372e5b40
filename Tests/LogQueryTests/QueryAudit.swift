import EventReactor
import Foundation
import LogQuery
import Testing

/// Numbers the completions of the operations a test starts, for the exactly-once audit.
final class OperationLedger: Sendable {
    let ledger: CompletionLedger
    private let count = Locked(0)

    init(capacity: Int) { ledger = CompletionLedger(capacity: capacity) }

    /// How many operations were numbered (started).
    var started: Int { count.withLock { $0 } }

    /// Wraps a completion so that its runs are counted against a fresh index.
    func track<T: Sendable>(_ completion: @escaping @Sendable (T) -> Void) -> @Sendable (T) -> Void {
        let index = count.withLock { n in
            defer { n += 1 }
            return n
        }
        return { [ledger] value in
            _ = ledger.record(index)
            completion(value)
        }
    }
}

/// Runs `body` with a fresh reactor, then waits for the drain, asserts the exactly-once audit over
/// the operations numbered through the ledger, and shuts the reactor down.
func withAuditedReactor(
    capacity: Int = 10_000, configuration: Reactor.Configuration = Reactor.Configuration(),
    sourceLocation: SourceLocation = #_sourceLocation, _ body: (Reactor, OperationLedger) throws -> Void
) throws {
    let reactor = try Reactor(configuration: configuration)
    defer { reactor.shutdown() }
    let baseline = reactor.auditBaseline()
    let ledger = OperationLedger(capacity: capacity)
    try body(reactor, ledger)
    #expect(reactor.waitForDrain(), sourceLocation: sourceLocation)
    let audit = reactor.audit(since: baseline, ledger: ledger.ledger, started: ledger.started)
    #expect(audit.ok, "\(audit)", sourceLocation: sourceLocation)
}

/// A value one thread sets and another waits for.
final class Awaited<T: Sendable>: Sendable {
    private let value = Locked<T?>(nil)
    private let semaphore = DispatchSemaphore(value: 0)

    func set(_ v: T) {
        value.withLock { $0 = v }
        semaphore.signal()
    }

    /// Waits up to `seconds`; nil on timeout.
    func wait(seconds: Double = 20) -> T? {
        guard semaphore.wait(timeout: .now() + seconds) == .success else { return nil }
        return value.withLock { $0 }
    }
}

/// Runs one `next` and waits for its outcome (at most 20 s).
func nextBatch(
    _ query: LogQuery, _ ledger: OperationLedger, max: Int, timeout: Duration? = nil
) -> Result<[LogRecord], LogQueryError>? {
    let done = Awaited<Result<[LogRecord], LogQueryError>>()
    query.next(max: max, timeout: timeout, completion: ledger.track { done.set($0) })
    return done.wait()
}

/// Runs `next` until `.noMoreItems`, returning every record (nil on another ending).
func drain(_ query: LogQuery, _ ledger: OperationLedger, max: Int) -> [LogRecord]? {
    var records: [LogRecord] = []
    while true {
        switch nextBatch(query, ledger, max: max) {
        case .success(let batch)?: records += batch
        case .failure(.noMoreItems)?: return records
        default: return nil
        }
    }
}

/// `count` RFC 3164 lines numbered from `first`; every 7th is an sshd failure.
func syslogLines(_ count: Int, from first: Int = 0, padding: Int = 0) -> String {
    var text = ""
    text.reserveCapacity(count * (80 + padding))
    let pad = String(repeating: "x", count: padding)
    for n in first..<(first + count) {
        let second = n % 60
        let minute = (n / 60) % 60
        let hour = (n / 3600) % 24
        let time = "Nov 23 \(two(hour)):\(two(minute)):\(two(second))"
        if n % 7 == 0 {
            text += "<38>\(time) web1 sshd[\(100 + n % 50)]: Failed password for root seq=\(n) \(pad)\n"
        } else {
            text += "<14>\(time) web2 cron[\(200 + n % 9)]: job ran seq=\(n) \(pad)\n"
        }
    }
    return text
}

private func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }

/// The `seq=N` number of a record's message.
func sequenceNumber(_ record: LogRecord) -> Int? {
    guard let range = record.message.range(of: "seq=") else { return nil }
    return Int(record.message[range.upperBound...].prefix { $0.isNumber })
}

/// Whether `condition` becomes true within `seconds` (checked every half millisecond).
func eventually(seconds: Double = 20, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    repeat {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.0005)
    } while Date() < deadline
    return condition()
}
