import DNSMessage
import DNSQuery
import EventReactor
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the kernel refuses under an address-space limit (here: 1 MiB above what the process has)
/// is an error value, never a trap. A socket's transaction table is a block of a 2 MiB chunk the
/// shard maps when it needs one: when the mapping fails, the queries that needed the socket end
/// with `.network(ENOMEM)` and the engine goes on, no query lost. A reactor whose operation table
/// cannot be reserved is not made: its initializer throws. Each test runs in a child process (an
/// exit test), since the limit is per process; issues recorded there reach the test.
@Suite struct AddressSpaceLimitTests {
    @Test func aSocketWhoseTableCannotBeMappedFailsItsQueriesWithENOMEMAndTheEngineRecovers() async {
        await #expect(processExitsWith: .success) { try queriesUnderAnAddressSpaceLimit(tcpOnly: false) }
    }

    @Test func aConnectionWhoseTableCannotBeMappedFailsItsQueriesWithENOMEMAndTheEngineRecovers() async {
        await #expect(processExitsWith: .success) { try queriesUnderAnAddressSpaceLimit(tcpOnly: true) }
    }

    @Test func queriesGoOutOnThePoolsOpenSocketsWhenAnotherCannotBeOpened() async {
        await #expect(processExitsWith: .success) {
            let server = ScriptedServer()
            var configuration = testConfiguration(server.address, timeout: .seconds(60))
            configuration.attempts = 1
            configuration.socketsPerServer = 5  // four tables fill the first chunk: the fifth maps one
            let outcomes = Outcomes()
            let request = try DNSQueryRequest("pool.example.test", type: .a)
            var counters = DNSQueryCounters()
            try withEngine(configuration, operations: 7) { reactor, engine, ledger in
                // Four queries open four sockets, the arena's first chunk.
                for index in 0..<4 { engine.start(request, completion: recording(index, ledger, outcomes)) }
                reactor.syncOnLoop {}
                // Three more, each of which fails to open the fifth and goes out on the four.
                try withAddressSpaceLimited {
                    for index in 4..<7 { engine.start(request, completion: recording(index, ledger, outcomes)) }
                    reactor.syncOnLoop {}
                }
                for _ in 0..<7 {
                    let query = try #require(server.receive(), "\(engine.counters())")
                    server.send(ScriptedServer.answer(query), to: query)
                }
                #expect(reactor.waitForDrain(timeoutNanos: 20_000_000_000))
                counters = engine.counters()
                return 7
            }
            for index in 0..<7 { #expect(outcomes[index]?.result != nil, "\(String(describing: outcomes[index]))") }
            #expect(counters.socketsOpened == 4, "\(counters)")
            #expect(counters.sendErrors == 3, "\(counters)")
        }
    }

    @Test func aReactorWhoseOperationTableCannotBeReservedThrowsENOMEM() async {
        await #expect(processExitsWith: .success) {
            // The default 2 Mi slots: 16 MiB of gates alone.
            let thrown = try withAddressSpaceLimited { () -> ReactorError? in
                do throws(ReactorError) {
                    try Reactor().shutdown()
                    return nil
                } catch {
                    return error
                }
            }
            #expect(thrown?.code == .systemCall && thrown?.errno == ENOMEM, "\(String(describing: thrown))")
            try Reactor().shutdown()  // without the limit it starts
        }
    }
}

/// Starts three queries while the address space is limited to 1 MiB above its present size (the
/// shard has no socket or connection yet, so each needs a table), then one more without the limit:
/// over UDP the scripted server answers it; over TCP (`tcpOnly`) nothing listens on that port, so
/// the connection is refused. Ends with the exactly-once audit.
private func queriesUnderAnAddressSpaceLimit(tcpOnly: Bool) throws {
    let server = ScriptedServer()
    var configuration = testConfiguration(server.address, timeout: .seconds(60))
    configuration.attempts = 1
    var options = DNSQueryOptions()
    options.tcpOnly = tcpOnly
    let request = try DNSQueryRequest("limited.example.test", type: .a, options: options)
    let outcomes = Outcomes()
    try withEngine(configuration, operations: 4) { reactor, engine, ledger in
        let ended = try withAddressSpaceLimited {
            for index in 0..<3 { engine.start(request, completion: recording(index, ledger, outcomes)) }
            return reactor.waitForDrain(timeoutNanos: 20_000_000_000)
        }
        #expect(ended, "queries under the limit did not end")
        engine.start(request, completion: recording(3, ledger, outcomes))
        if !tcpOnly {
            let query = try #require(server.receive(), "no query reached the server after the limit")
            server.send(ScriptedServer.answer(query), to: query)
        }
        return 4
    }
    for index in 0..<3 {
        #expect(outcomes[index]?.error == .network(errno: ENOMEM), "\(String(describing: outcomes[index]))")
    }
    if tcpOnly {
        #expect(outcomes[3]?.error == .network(errno: ECONNREFUSED), "\(String(describing: outcomes[3]))")
    } else {
        #expect(outcomes[3]?.result != nil, "\(String(describing: outcomes[3]))")
    }
}

/// Runs `body` with the soft address-space limit 1 MiB above the process's present size (too
/// little for a 4 MiB mapping), then lifts it again. Nothing in the tests' windows starts a thread
/// (a thread's stack would not fit either): the reactor's already runs.
private func withAddressSpaceLimited<T>(_ body: () throws -> T) throws -> T {
    var original = rlimit()
    try #require(getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &original) == 0, "getrlimit: errno \(errno)")
    // /proc/self/statm: the first field is the address space's size in pages.
    var text = [UInt8](repeating: 0, count: 128)
    let fd = open("/proc/self/statm", O_RDONLY)
    let count = read(fd, &text, text.count)
    close(fd)
    let digits = text.prefix(max(count, 0)).prefix { $0 != UInt8(ascii: " ") }
    let pages = digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    try #require(count > 0 && !digits.isEmpty, "/proc/self/statm unreadable")
    var limited = original
    limited.rlim_cur = rlim_t(pages * sysconf(Int32(_SC_PAGESIZE)) + (1 << 20))
    try #require(setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limited) == 0, "setrlimit: errno \(errno)")
    defer { setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &original) }
    return try body()
}
