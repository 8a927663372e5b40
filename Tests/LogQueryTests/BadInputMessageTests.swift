import EventReactor
import EvqueryTestSupport
import Foundation
import LogQuery
import Testing

/// What a caller meets when the input is wrong: errors in words with the exact text pinned, and no
/// trap for a value a caller passes (each former precondition has its test here).
@Suite struct LogBadInputMessageTests {
    @Test func nextWithMaxZeroEndsWithInvalidArgumentNotATrap() throws {
        try withLogFile(syslogLines(10)) { path in
            try withAuditedReactor { reactor, ledger in
                let query = try LogQuery.open(path: path, on: reactor)
                defer { query.close() }
                let outcome = Awaited<Result<[LogRecord], LogQueryError>>()
                query.next(max: 0, completion: ledger.track { outcome.set($0) })
                let result = try #require(outcome.wait())
                #expect(result == .failure(.invalidArgument("next(max: 0): max must be at least 1")))
                #expect(String(describing: LogQueryError.invalidArgument("next(max: 0): max must be at least 1"))
                        == "next(max: 0): max must be at least 1")
                // The query goes on after the refused call.
                #expect(drain(query, ledger, max: 4)?.count == 10)
            }
        }
    }

    @Test func aReverseQueryThatFollowsIsRefusedNotATrap() throws {
        try withLogFile(syslogLines(3)) { path in
            try withAuditedReactor { reactor, _ in
                #expect(throws: LogQueryError.invalidArgument(
                    "open \(path): only a forward query can follow (follow with direction .reverse)")) {
                    try LogQuery.open(path: path, direction: .reverse, follow: true, on: reactor)
                }
                #expect(throws: LogQueryError.invalidArgument("open \(path): countThreads must be at least 1, not 0")) {
                    try LogQuery.open(path: path, countThreads: 0, on: reactor)
                }
            }
        }
    }

    @Test func aScannerGivenImpossibleSettingsThrowsEINVALInWords() throws {
        try withLogFile(syslogLines(3)) { path in
            #expect(throws: LogScanError(operation: "scan (follow and count read forward only)", errno: EINVAL, path: path)) {
                try LogScanner(path: path, direction: .reverse, follow: true)
            }
            #expect(throws: LogScanError(operation: "scan (bufferSize and maxLineLength must be at least 1)",
                                         errno: EINVAL, path: path)) {
                try LogScanner(path: path, bufferSize: 0)
            }
            #expect(throws: LogScanError(operation: "scan (memoryMap reads forward, without follow)", errno: EINVAL, path: path)) {
                try LogScanner(path: path, direction: .reverse, readMethod: .memoryMap)
            }
            let scanner = try LogScanner(path: path)
            #expect(scanner.advance(budgetBytes: 1 << 16, maxRecords: 0)
                    == .error(LogScanError(operation: "advance (maxRecords must be at least 1)", errno: EINVAL)))
            #expect(try collect(scanner).count == 3)
        }
    }

    @Test func aRepositionThatDoesNotFitTheDirectionIsAnErrorOfTheNextAdvance() throws {
        try withLogFile(syslogLines(3)) { path in
            let reverse = try LogScanner(path: path, direction: .reverse)
            reverse.reposition(offset: 0, ordinal: 0)
            #expect(reverse.advance(budgetBytes: 1 << 16, maxRecords: 10) == .error(LogScanError(
                operation: "reposition(offset:ordinal:) (a reverse scan moves with reposition(endOffset:lastOrdinal:))",
                errno: EINVAL)))
            reverse.stop(at: 0)
            #expect(reverse.advance(budgetBytes: 1 << 16, maxRecords: 10)
                    == .error(LogScanError(operation: "stop(at:) (it ends forward scans only)", errno: EINVAL)))
            #expect(try collect(reverse).count == 3)
            let forward = try LogScanner(path: path)
            forward.reposition(endOffset: 0, lastOrdinal: 0)
            #expect(forward.advance(budgetBytes: 1 << 16, maxRecords: 10) == .error(LogScanError(
                operation: "reposition(endOffset:lastOrdinal:) (a forward scan moves with reposition(offset:ordinal:))",
                errno: EINVAL)))
            #expect(try collect(forward).count == 3)
        }
    }

    @Test func aMissingLogOrADirectoryIsNamedWithTheErrnoText() throws {
        try withAuditedReactor { reactor, _ in
            let missing = "/nonexistent/evquery/auth.log"
            do {
                _ = try LogQuery.open(path: missing, on: reactor)
                Issue.record("opened \(missing)")
            } catch {
                #expect(String(describing: error) == "open \(missing): No such file or directory (errno 2)")
            }
            do {
                _ = try LogQuery.open(path: "/tmp", on: reactor)
                Issue.record("opened a directory")
            } catch {
                #expect(String(describing: error) == "open /tmp: Is a directory (errno 21)")
            }
        }
    }

    @Test(arguments: [
        ("app ==", "filter error at position 6: expected a value (a \"string\", a number, a severity or a time), "
            + "found the end of the query"),
        ("foo == \"x\"", "filter error at position 0: unknown field \"foo\": expected one of time, host, app, pid, "
            + "msgid, severity, facility, message, sd.ID.NAME, sd.NAME, extra.NAME"),
        ("app == 'sshd'", "filter error at position 7: unexpected character \"'\": expected a field, an operator or a value"),
        ("app \"x\"", "filter error at position 4: expected an operator (==, !=, <, <=, >, >=, contains, ~), found \"x\""),
        ("time contains \"x\"", "filter error at position 5: the operator contains does not apply to the field time: "
            + "a time is compared with ==, !=, <, <=, >, >="),
        ("app == x)", "filter error at position 8: unexpected ')' after a complete expression"),
        ("severity <= loud", "filter error at position 12: \"loud\" is not a severity: expected emerg, alert, crit, "
            + "err, warning, notice, info, debug or 0…7"),
    ])
    func aFilterErrorIsASentenceAtItsPosition(_ query: String, _ message: String) {
        do {
            _ = try LogFilter(query)
            Issue.record("\(query) compiled")
        } catch {
            #expect(error.description == message)
        }
    }

    @Test func aFilterErrorPointsACaretAtItsPosition() {
        #expect(LogFilterError(position: 6, reason: .emptyQuery).pointing(into: "app ==") == "  app ==\n        ^")
    }

    @Test func everyBookmarkErrorHasADescription() {
        #expect(LogBookmarkError.notABookmark.description
                == "not a bookmark: expected text starting with evqb1- (as evq scan prints it)")
        #expect(throws: LogBookmarkError.notABookmark) { try LogBookmark(serialized: "xyz") }
        #expect(LogBookmarkError.checksumMismatch.description
                == "the bookmark's check byte does not match: the text was altered or cut")
    }

    @Test func aLogTimePrintsAsRFC3339AndConvertsToAndFromDate() throws {
        let time = try #require(LogTime(year: 2026, month: 11, day: 23, hour: 7, minute: 0, second: 0))
        #expect(time.description == "2026-11-23T07:00:00Z")
        #expect(LogTime(nanosecondsSinceEpoch: time.nanosecondsSinceEpoch + 250_000_000).description
                == "2026-11-23T07:00:00.25Z")
        #expect(time.rfc3339(utcOffsetSeconds: 3600) == "2026-11-23T08:00:00+01:00")
        #expect(time.rfc3339(utcOffsetSeconds: -5 * 3600 - 1800) == "2026-11-23T01:30:00-05:30")
        #expect(LogTime(rfc3339: time.rfc3339(utcOffsetSeconds: -5 * 3600 - 1800)) == time)
        #expect(LogTime(nanosecondsSinceEpoch: -1).description == "1969-12-31T23:59:59.999999999Z")
        #expect(time.date == Date(timeIntervalSince1970: Double(time.nanosecondsSinceEpoch / 1_000_000_000)))
        #expect(LogTime(time.date) == time)
        #expect(LogTime(Date(timeIntervalSince1970: 1.5))?.nanosecondsSinceEpoch == 1_500_000_000)
        #expect(LogTime(Date.distantFuture) == nil)
        #expect(LogTime(nanosecondsSinceEpoch: .max).rfc3339(utcOffsetSeconds: 3600) == "2262-04-11T23:47:16.854775807Z")
    }

    @Test func subscribeTakesTheZoneAndYearOfRFC3164Times() throws {
        try withLogFile("<38>Nov 23 08:00:00 web1 sshd[42]: Accepted publickey\n") { path in
            try withAuditedReactor { reactor, ledger in
                let log = SubscriptionLog()
                let options = LogParseOptions(yearForMonth: { _ in 2025 }, defaultUTCOffsetSeconds: -5 * 3600)
                let subscription = LogQuery.subscribe(
                    path: path, start: .oldest, options: options, on: reactor, deliver: { log.take($0) },
                    ended: ledger.track { log.ended.set($0) })
                #expect(eventually { !log.records.isEmpty })
                subscription.cancel()
                #expect(log.ended.wait() != nil)
                #expect(log.records.first?.timestamp?.description == "2025-11-23T13:00:00Z")
            }
        }
    }

    @Test func aZoneWithDaylightSavingGivesEachRecordTheOffsetOfItsDate() throws {
        // A zone of +1 h before 2025-03-30T01:00:00Z and +2 h from then (Central Europe's change).
        let change = try #require(LogTime(rfc3339: "2025-03-30T01:00:00Z"))
        let options = LogParseOptions(yearForMonth: { _ in 2025 }, utcOffsetAt: { $0 < change ? 3600 : 7200 })
        let text = "<38>Mar 29 12:00:00 web1 cron[1]: before\n<38>Mar 30 12:00:00 web1 cron[1]: after\n"
        try withLogFile(text) { path in
            try withAuditedReactor { reactor, ledger in
                let query = try LogQuery.open(path: path, options: options, on: reactor)
                defer { query.close() }
                let records = try #require(drain(query, ledger, max: 10))
                #expect(records.compactMap { $0.timestamp?.description }
                        == ["2025-03-29T11:00:00Z", "2025-03-30T10:00:00Z"])
            }
        }
    }

    @Test func openTakesTheZoneAndYearOfRFC3164Times() throws {
        try withLogFile("<38>Nov 23 08:00:00 web1 sshd[42]: Accepted publickey\n") { path in
            try withAuditedReactor { reactor, ledger in
                let options = LogParseOptions(yearForMonth: { _ in 2025 }, defaultUTCOffsetSeconds: 3600)
                let query = try LogQuery.open(path: path, options: options, on: reactor)
                defer { query.close() }
                let records = try #require(drain(query, ledger, max: 10))
                #expect(records.first?.timestamp?.description == "2025-11-23T07:00:00Z")
            }
        }
    }
}
