import EventReactor
import LogQuery
import MetricsTestKit
import Testing

/// Scan figures through swift-metrics: bytes read and records matched by `next`, `count` and a
/// subscription, each under its operation's name, added once per slice and published in batches.
@Suite struct ScanMetricsTests {
    @Test func nextCountAndSubscribeEachPublishTheBytesTheyReadAndTheRecordsTheyMatched() throws {
        let text = syslogLines(3000)
        let metrics = TestMetrics()
        var configuration = Reactor.Configuration()
        configuration.name = "scan-probe"
        configuration.metricsFactory = metrics
        try withLogFile(text) { path in
            try withAuditedReactor(configuration: configuration) { reactor, ledger in
                let filter = try LogFilter("app == \"sshd\"")
                let query = try LogQuery.open(path: path, filter: filter, countThreads: 1, on: reactor)
                defer { query.close() }
                let records = try #require(drain(query, ledger, max: 37))
                let counting = try LogQuery.open(path: path, filter: filter, countThreads: 1, on: reactor)
                defer { counting.close() }
                let counted = Awaited<Result<Int, LogQueryError>>()
                counting.count(completion: ledger.track { counted.set($0) })
                #expect(counted.wait() == .success(records.count))
                let (subscription, log) = follow(path, reactor, ledger, start: .oldest)
                #expect(eventually { log.records.count == 3000 })
                subscription.cancel()
                guard case .cancelled? = log.ended.wait() else {
                    Issue.record("the subscription did not end cancelled")
                    return
                }

                let size = Int64(text.utf8.count)
                let expected: [(String, Int64, Int64)] = [
                    ("next", size, Int64(records.count)), ("count", size, Int64(records.count)),
                    ("subscribe", size, 3000),
                ]
                for (operation, bytes, matched) in expected {
                    let dimensions = [("reactor", "scan-probe"), ("operation", operation)]
                    #expect(eventually {
                        metrics.counterTotal(label: "evquery_scan_bytes_read", dimensions: dimensions) == bytes
                            && metrics.counterTotal(label: "evquery_scan_records_matched", dimensions: dimensions)
                                == matched
                    }, """
                        \(operation): \(metrics.counterTotal(label: "evquery_scan_bytes_read", dimensions: dimensions)) \
                        bytes of \(bytes), \(metrics.counterTotal(label: "evquery_scan_records_matched",
                                                                 dimensions: dimensions)) records of \(matched)
                        """)
                }
            }
        }
    }
}
