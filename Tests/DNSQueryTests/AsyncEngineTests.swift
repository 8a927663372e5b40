import DNSQuery
import EventReactor
import Logging
import Testing

/// The engine's `async` forms from inside a task: each returns once what it promises has happened,
/// so the checks after it need no polling.
@Suite struct AsyncEngineTests {
    /// Starts `count` queries at a server that never answers and waits until all were sent.
    private func startSilentQueries(
        _ engine: DNSQueryEngine, _ count: Int, _ ledger: CompletionLedger, _ outcomes: Outcomes
    ) async throws -> [QueryHandle] {
        var handles: [QueryHandle] = []
        for index in 0..<count {
            handles.append(engine.start(try DNSQueryRequest("s\(index).example.test.", type: .a),
                                        completion: recording(index, ledger, outcomes)))
        }
        for _ in 0..<2_000 where await engine.counters().sentUDP < count {
            try await Task.sleep(for: .milliseconds(5))
        }
        #expect(await engine.counters().sentUDP == count)
        return handles
    }

    /// Asking `silent`, whose first attempt waits long for a reply that never comes.
    private func silentConfiguration(_ silent: ScriptedServer) -> DNSQueryEngine.Configuration {
        var configuration = testConfiguration(silent.address)
        firstAttemptWaitsLong(&configuration)
        return configuration
    }

    /// Expects queries 0..<count ended as cancelled for `reason`.
    private func expectCancelled(_ outcomes: Outcomes, _ count: Int, reason: CancelReason) {
        for index in 0..<count {
            guard case .failure(.cancelled(let info))? = outcomes[index] else {
                Issue.record("query \(index): \(String(describing: outcomes[index]))")
                continue
            }
            #expect(info.reason == reason)
        }
    }

    @Test func cancelAndWaitReturnsAfterTheQueryCompletedWithCancelled() async throws {
        let silent = ScriptedServer()
        try await withEngine(silentConfiguration(silent), operations: 10) { _, engine, ledger in
            let outcomes = Outcomes()
            let handles = try await startSilentQueries(engine, 10, ledger, outcomes)
            for (index, handle) in handles.enumerated() {
                #expect(await handle.cancelAndWait() == .cancelled)
                #expect(outcomes[index]?.isCancelled == true, "query \(index) had not completed")
            }
            return 10
        }
    }

    @Test func cancelAllAsyncReturnsOnceEveryQueryCompleted() async throws {
        let silent = ScriptedServer()
        try await withEngine(silentConfiguration(silent), operations: 50) { _, engine, ledger in
            let outcomes = Outcomes()
            _ = try await startSilentQueries(engine, 50, ledger, outcomes)
            await engine.cancelAll()
            #expect(ledger.missed(started: 50) == 0)
            expectCancelled(outcomes, 50, reason: .cancelAll)
            return 50
        }
    }

    @Test func shutdownAsyncCancelsOutstandingQueriesOnceLogsItAndMayBeRepeated() async throws {
        let silent = ScriptedServer()
        let store = RecordingLogHandler.Store()
        var configuration = silentConfiguration(silent)
        configuration.logger = RecordingLogHandler.logger(store, level: .info)
        try await withEngine(configuration, operations: 50) { _, engine, ledger in
            let outcomes = Outcomes()
            _ = try await startSilentQueries(engine, 50, ledger, outcomes)
            async let first: Void = engine.shutdown()
            async let second: Void = engine.shutdown()
            _ = await (first, second)
            let blocking: () -> Void = { engine.shutdown() }
            blocking()
            #expect(ledger.missed(started: 50) == 0)
            expectCancelled(outcomes, 50, reason: .shutdown)
            let entry = try #require(store.first(containing: "cancelling outstanding queries"))
            #expect(entry.level == .info)
            #expect(entry.metadata["queries"] == "50")
            return 50
        }
    }

    @Test func cancellingTheTaskOfAQueryCancelsItOnce() async throws {
        let silent = ScriptedServer()
        try await withEngine(silentConfiguration(silent), operations: 1) { _, engine, ledger in
            let request = try DNSQueryRequest("t.example.test.", type: .a)
            let task = Task { try await engine.query(request) }
            _ = silent.receive()
            task.cancel()
            await #expect(throws: DNSQueryError.self) { try await task.value }
            ledger.record(0)  // the task's one completion, its error above
            return 1
        }
    }
}
