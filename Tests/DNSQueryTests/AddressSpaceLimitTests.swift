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

    @Test func aReactorWhoseOperationTableCannotBeReservedThrowsENOMEM() async {
        await #expect(processExitsWith: .success) {
            // The default 2 Mi slots: 16 MiB of gates alone.
            let thrown = withAddressSpaceLimited { () -> ReactorError? in
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
    var configuration = testConfiguration(server.address, timeoutMillis: 60_000)
    configuration.attempts = 1
    var options = DNSQueryOptions()
    options.tcpOnly = tcpOnly
    let request = try DNSQueryRequest("limited.example.test", type: .a, options: options)
    let outcomes = Outcomes()
    try withEngine(configuration, operations: 4) { reactor, engine, ledger in
        let ended = withAddressSpaceLimited {
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
/// little for a 4 MiB mapping), then lifts it again.
private func withAddressSpaceLimited<T>(_ body: () -> T) -> T {
    var original = rlimit()
    getrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &original)
    // /proc/self/statm: the first field is the address space's size in pages.
    var text = [UInt8](repeating: 0, count: 128)
    let fd = open("/proc/self/statm", O_RDONLY)
    let count = read(fd, &text, text.count)
    close(fd)
    let pages = text.prefix(max(count, 0)).prefix { $0 != UInt8(ascii: " ") }
        .reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    var limited = original
    limited.rlim_cur = rlim_t(pages * sysconf(Int32(_SC_PAGESIZE)) + (1 << 20))
    setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &limited)
    defer { setrlimit(__rlimit_resource_t(RLIMIT_AS.rawValue), &original) }
    return body()
}
