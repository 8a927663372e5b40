import DNSMessage
import EventReactor
import LinuxSystem
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// The part of a `DNSQueryEngine` that lives on one reactor: its servers and socket pools, the
/// transaction tables, the receive batch buffers, the id source and the counters.
/// Loop-bound: everything here is touched only on `reactor`'s thread (the `let`s are immutable).
final class EngineShard: @unchecked Sendable {
    let reactor: Reactor
    let configuration: DNSQueryEngine.Configuration
    /// The configuration's durations in nanoseconds, as the loop reads them.
    let timing: EngineTiming
    let resolvConf: ResolvConf
    let ids = TransactionIDSource()
    /// The memory of its channels' transaction tables.
    let tables = TransactionTable.Arena()
    var counters = DNSQueryCounters()
    /// Queries attached and not yet ended.
    var outstanding = 0
    /// Queries whose failure waits for the next loop turn (`QueryOperation.park`): they hold no
    /// transaction id, so `cancelAll` finds them here. Rare paths only (errors, limits).
    var parkedQueries: [ObjectIdentifier: QueryOperation] = [:]
    /// The words of the stream failure each query parked with `.connection` waits to report.
    var connectionFailures: [ObjectIdentifier: String] = [:]
    /// After `close()`: a query that reaches the loop later ends with `cancelled(shutdown)`.
    private(set) var isClosed = false
    private let epoch = MonotonicClock.now()

    private var servers: [DNSServer: ServerState] = [:]
    private var lists: [[DNSServer]: ServerList] = [:]
    /// The engine's servers (from its configuration, or resolv.conf's); may be empty. A `let`: a
    /// query reads its fields in place without a retain, but passing it to a call retains it unless
    /// it is borrowed (`QueryOperation.attach`).
    let defaultList: ServerList
    private var maintenance: LoopTimer?
    /// Where the shard logs (the engine's logger, or its reactor's).
    let logger: Logger
    /// Counts outcomes for metrics and logs what changed each tick; nil when neither is wanted.
    /// Set once, in init.
    @exclusivity(unchecked) private(set) var observer: EngineObserver?
    /// The TLS client context of the shard's TLS connections (their kept sessions), on first need.
    private var tlsContext: TLSClientContext?
    /// The same for DoH connections, which offer ALPN `h2`.
    private var dohTLSContext: TLSClientContext?

    // Preallocated I/O memory: one query, one receive batch, one TCP read, one 0x20 name.
    private let sendBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 + 512, alignment: 8)
    private let nameScratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 8)
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 65_536, alignment: 16)
    private let batch: Int
    /// The receive ring: `batch` messages per `recvmmsg`, each a datagram of up to 4 KiB or, with
    /// `receiveCoalescing`, up to 64 KiB of replies the kernel coalesced (UDP GRO).
    private let received: DatagramBatch
    /// The UDP queries written during the current loop callback, sent together after it.
    private let sendBatch: UDPSendBatch
    /// Tagged queries that ended on the loop, kept for the next ones started there (a stack in raw
    /// memory, at most `keptLimit`): in a closed loop each completion starts the next query, which
    /// then reuses an object instead of allocating one. Emptied by `close()`.
    private let kept = UnsafeMutablePointer<TaggedQuery>.allocate(capacity: EngineShard.keptLimit)
    private var keptCount = 0
    private static let keptLimit = 64
    /// Cleared when the engine is gone (`stopKeepingQueries`): a query still in flight then must
    /// not be kept, or it and the shard would hold each other for good.
    private var keepsQueries = true

    init(reactor: Reactor, configuration: DNSQueryEngine.Configuration, resolvConf: ResolvConf) {
        self.reactor = reactor
        self.configuration = configuration
        timing = EngineTiming(configuration)
        self.resolvConf = resolvConf
        var known: [DNSServer: ServerState] = [:]
        let states = (configuration.servers ?? resolvConf.servers).map { address in
            if let state = known[address] { return state }
            let state = ServerState(address: address, localAddresses: configuration.localAddresses,
                                    transport: configuration.transport(of: address))
            known[address] = state
            return state
        }
        servers = known
        defaultList = ServerList(servers: states, rotate: configuration.rotate ?? resolvConf.rotate)
        batch = max(configuration.receiveBatch, 1)
        sendBatch = UDPSendBatch(capacity: configuration.sendBatch, segmentOffload: configuration.segmentOffload)
        received = DatagramBatch(capacity: batch,
                                 slotSize: configuration.receiveCoalescing ? DatagramBatch.maxCoalescedBytes : 4096,
                                 coalescing: configuration.receiveCoalescing)
        logger = configuration.logger ?? reactor.logger
        let observer = EngineObserver(shard: self, logger: logger, factory: configuration.metricsFactory)
        if observer.needsTick {
            self.observer = observer
            let interval = configuration.metricsInterval.clampedNanoseconds
            reactor.execute { [weak self] in if let self, !isClosed { self.observer?.start(everyNanos: interval) } }
        }
    }

    /// The servers with their penalties, for the observer's tick. Loop only.
    func penaltyStates() -> [(address: DNSServer, penaltyUntil: UInt64)] {
        servers.values.map { ($0.address, $0.penaltyUntil) }
    }

    deinit {
        // Freed without `close()` (its engine was dropped without `shutdown()`): the sockets' read
        // events and the timers call back into the shard, so they go with it, and so do the fds.
        if !isClosed { closeChannels(onLoop: reactor.inLoop) }
        kept.deinitialize(count: keptCount)
        kept.deallocate()
        sendBuffer.deallocate()
        nameScratch.deallocate()
        scratch.deallocate()
    }

    // MARK: Clock and quarantine

    /// Milliseconds since the shard began (the quarantine clock; 31 bits last 24 days), on the
    /// loop's clock (`Reactor.loopTime`). Loop only.
    var nowMs: UInt32 {
        let now = reactor.loopTime
        return now > epoch ? UInt32(truncatingIfNeeded: (now &- epoch) / 1_000_000) : 0
    }

    /// When an id released now leaves quarantine.
    func quarantineExpiry(answered: Bool) -> UInt32 {
        let nanos = answered ? timing.answeredQuarantine : timing.quarantine
        guard nanos > 0 else { return 0 }
        return nowMs &+ UInt32(clamping: (nanos + 999_999) / 1_000_000)  // ≥ 1: 0 means "free"
    }

    // MARK: The reactor, for the shard's queries

    // A query reaches its reactor through these: a call on `shard.reactor` made by a query (or the
    // engine) retains and releases the reactor around it, while a call on the shard's own `reactor`
    // borrows it.

    /// `reactor.start(query)`. Any thread.
    func start(_ query: QueryOperation) -> OperationHandle {
        reactor.start(query)
    }

    /// `reactor.startOnLoop(query)`. Loop only.
    func startOnLoop(_ query: QueryOperation) -> OperationHandle {
        reactor.startOnLoop(query)
    }

    /// `reactor.setTimer(slot:generation:afterNanos:)`. Loop only.
    func setTimer(slot: UInt32, generation: UInt32, afterNanos nanos: UInt64) {
        reactor.setTimer(slot: slot, generation: generation, afterNanos: nanos)
    }

    /// `reactor.isPending(slot:generation:)`.
    func isPending(slot: UInt32, generation: UInt32) -> Bool {
        reactor.isPending(slot: slot, generation: generation)
    }

    /// `reactor.finish(slot:generation:)`. Loop only.
    func finish(slot: UInt32, generation: UInt32) -> (any OperationBody)? {
        reactor.finish(slot: slot, generation: generation)
    }

    /// `DNSQueryEngine.start(_:tag:target:)` on this shard: a kept query object prepared on the
    /// loop, else a new one. Any thread.
    func startTagged(_ request: borrowing DNSQueryRequest, tag: UInt64, target: any DNSQueryCompletionTarget)
        -> OperationHandle
    {
        if let body = keptQuery() {
            body.prepare(request, now: reactor.loopTime, tag: tag, target: target)
            return startOnLoop(body)
        }
        return start(TaggedQuery(request: request, shard: self, tag: tag, target: target))
    }

    // MARK: Reusing queries

    /// Keeps an ended query's object for reuse (dropped when the store is full or the shard closed).
    /// Loop only.
    func keep(_ query: consuming TaggedQuery) {
        guard keptCount < Self.keptLimit, keepsQueries, !isClosed else { return }
        (kept + keptCount).initialize(to: query)
        keptCount += 1
    }

    /// A kept query object to prepare for the next query, or nil (none kept, or not called on the
    /// loop): a query returned is on the loop, to start with `startOnLoop`.
    func keptQuery() -> TaggedQuery? {
        guard reactor.inLoop, keptCount > 0 else { return nil }  // the store is the loop's
        keptCount -= 1
        counters.queriesReused += 1
        return (kept + keptCount).move()
    }

    /// The engine is gone: frees the kept objects (each holds the shard) and keeps none from now
    /// on, so that the shard is freed with its last query. Loop only, or after the loop has stopped.
    func stopKeepingQueries() {
        keepsQueries = false
        dropKeptQueries()
    }

    /// Frees the kept objects. Loop only, or after the loop has stopped.
    private func dropKeptQueries() {
        kept.deinitialize(count: keptCount)
        keptCount = 0
    }

    // MARK: Servers

    /// The server list of a request's own servers (`defaultList` holds the engine's).
    func serverList(for requested: [DNSServer]) -> ServerList {
        if let list = lists[requested] { return list }
        let list = ServerList(servers: requested.map(serverState), rotate: false)
        lists[requested] = list
        return list
    }

    private func serverState(_ address: DNSServer) -> ServerState {
        if let state = servers[address] { return state }
        let state = ServerState(address: address, localAddresses: configuration.localAddresses,
                                    transport: configuration.transport(of: address))
        servers[address] = state
        return state
    }

    // MARK: Sending

    /// Places `query`'s attempt on one of `server`'s UDP sockets under a fresh random id and writes
    /// the query into the send batch, which goes out when the current loop callback is over (one
    /// `sendmmsg` per socket). Returns the failure to park, or nil.
    func sendUDP(_ query: QueryOperation, to server: ServerState) -> QueryOperation.Parked? {
        let socket: UDPSocket
        let id: UInt16
        do {
            (socket, id) = try placeUDP(query, on: server)
        } catch {
            switch error {
            case .full: return .limitReached
            case .failed(let errno): return .network(errno)
            }
        }
        // Borrowed for the write: the reference `placeUDP` returned is the query's (below), and a
        // call that shared it cost a retain and a release.
        let failure = Unmanaged.passUnretained(socket)._withUnsafeGuaranteedRef { queueUDP(query, on: $0, id: id) }
        if failure == nil {
            // Counted here, not in `queueUDP`: a retransmission of the same transaction is not a query.
            socket.sent += 1
            if socket.sent >= configuration.rotateAfterQueries { retire(socket) }
        }
        // Last: the reference `placeUDP` returned moves into the query (the id is the query's to
        // release, sent or not).
        query.placed(on: socket, id: id)
        return failure
    }

    /// Sends `query`'s current transaction again, on its socket under its id (a retransmission to
    /// the same server): a reply to either copy answers the query.
    func resendUDP(_ query: QueryOperation, on socket: UDPSocket) -> QueryOperation.Parked? {
        queueUDP(query, on: socket, id: query.id)
    }

    private func queueUDP(_ query: QueryOperation, on socket: UDPSocket, id: UInt16) -> QueryOperation.Parked? {
        sendBatch.flushIfFull(self)
        guard let length = query.writeMessage(id: id, into: sendBatch.nextSlot) else { return .network(EMSGSIZE) }
        sendBatch.queue(length: length, on: socket, id: id, owner: Unmanaged.passUnretained(query).toOpaque(),
                        shard: self)
        return nil
    }

    /// Why an attempt found no place on a server's sockets.
    private enum PlacementFailure: Error {
        /// Every socket is at its limit and the pool at its size.
        case full
        /// Opening a socket failed with this errno.
        case failed(Int32)
    }

    /// Takes an id for `query` on one of `server`'s UDP sockets (opening one when the pool is below
    /// its size or every socket is busy). Throws rather than returning an enum that carries the socket:
    /// the socket then comes back as a plain reference, not inside a value copied and destroyed.
    private func placeUDP(_ query: QueryOperation, on server: ServerState) throws(PlacementFailure)
        -> (UDPSocket, UInt16)
    {
        let owner = Unmanaged.passUnretained(query).toOpaque()
        let now = nowMs
        let perSocket = configuration.maxOutstandingPerSocket
        var openFailure: Int32?
        if server.sockets.count < configuration.socketsPerServer,
            server.sockets.count + server.retired.count < configuration.maxSocketsPerServer
        {
            // The pool fills up to its size as queries come, one socket per query. When a socket
            // cannot be opened, the pool's others may still take the query.
            do {
                let socket = try openUDP(to: server)
                if let id = socket.allocateID(owner: owner, ids: ids, nowMs: now) { return (socket, id) }
            } catch {
                openFailure = error.errno
            }
        }
        // A query started while one of the server's sockets is read goes out on that socket: the
        // replies' new queries leave in one `sendmmsg` rather than one per socket of the pool. Which
        // socket of the pool a query takes is no part of the defence against spoofed replies: each
        // socket has its own random port and ids.
        if let replying = server.replying?.takeUnretainedValue(), !replying.retiring, !replying.isClosed,
            replying.table.outstanding < perSocket, let id = replying.allocateID(owner: owner, ids: ids, nowMs: now)
        {
            return (replying, id)
        }
        var tried = 0
        while tried < server.sockets.count {
            let socket = server.sockets[server.cursor % server.sockets.count]
            server.cursor &+= 1
            tried += 1
            if socket.table.outstanding < perSocket,
                let id = socket.allocateID(owner: owner, ids: ids, nowMs: now)
            {
                return (socket, id)
            }
        }
        // Every socket is busy (or the pool is below its size after a rotation): open one more,
        // unless that just failed.
        if let openFailure { throw .failed(openFailure) }
        guard server.sockets.count + server.retired.count < configuration.maxSocketsPerServer else { throw .full }
        let socket: UDPSocket
        do {
            socket = try openUDP(to: server)
        } catch {
            throw .failed(error.errno)
        }
        guard let id = socket.allocateID(owner: owner, ids: ids, nowMs: now) else { throw .full }
        return (socket, id)
    }

    /// Opens a socket to `server` into its pool; a failure is counted in `sendErrors`.
    private func openUDP(to server: ServerState) throws(SystemError) -> UDPSocket {
        let table: TransactionTable, fd: Int32
        do {
            // The table first: no fd to close when the arena cannot map one.
            table = try TransactionTable(in: tables)
            fd = try server.address.connectedSocket(stream: false, receiveBuffer: configuration.receiveBufferBytes,
                                                    from: server.nextSource())
        } catch {
            counters.sendErrors += 1
            logger.warning("cannot open a UDP socket to a DNS server", metadata: [
                "server": "\(server.address)", "error": "\(error)",
            ])
            throw error
        }
        sendBatch.probeSegmentOffload(on: fd, shard: self)
        // Refused by a kernel before 5.0: its replies then come one per message, read the same way.
        if configuration.receiveCoalescing { DatagramBatch.enableReceiveCoalescing(on: fd) }
        let socket = UDPSocket(server: server, fd: fd, table: table)
        socket.watch(on: reactor, shard: self)
        server.sockets.append(socket)
        counters.socketsOpened += 1
        return socket
    }

    /// Takes a socket out of rotation: it keeps reading (late replies are counted) until its last
    /// id has left quarantine, then closes.
    private func retire(_ socket: UDPSocket) {
        guard let index = socket.server.sockets.firstIndex(where: { $0 === socket }) else { return }
        socket.server.sockets.remove(at: index)
        socket.retiring = true
        socket.server.retired.append(socket)
        armMaintenance()
    }

    /// Places `query`'s attempt on one of `server`'s stream connections (the next slot of its pool,
    /// opening a connection there if it has none) and queues it: over TLS for a TLS server, HTTP/2
    /// inside TLS for a DoH server (with DNS id 0, RFC 8484 §4.1), else TCP (a TCP-only query, or one
    /// moved to TCP after a truncated UDP reply).
    func sendStream(_ query: QueryOperation, to server: ServerState) -> QueryOperation.Parked? {
        let connection: TCPConnection
        do {
            connection = try streamConnection(to: server)
        } catch {
            counters.sendErrors += 1
            counters.connectionsFailed += 1
            return parked(for: error, of: query)
        }
        let owner = Unmanaged.passUnretained(query).toOpaque()
        guard let id = connection.allocateID(owner: owner, ids: ids, nowMs: nowMs) else { return .limitReached }
        query.placed(on: connection, id: id)
        // The message after two bytes left free for TCP's length prefix.
        let body = UnsafeMutableRawBufferPointer(rebasing: sendBuffer[2...])
        guard let length = query.writeMessage(id: connection.transport == .doh ? 0 : id, into: body) else {
            return .network(EMSGSIZE)
        }
        counters.sentTCP += 1
        connection.enqueue(UnsafeMutableRawBufferPointer(rebasing: body[..<length]), id: id)
        return nil
    }

    /// How `query` parks after the stream failure `error`: a system call's errno as `.network`, else
    /// `.connection` with the words kept in `connectionFailures`.
    func parked(for error: StreamError, of query: QueryOperation) -> QueryOperation.Parked {
        if error.errno != 0 { return .network(error.errno) }
        connectionFailures[ObjectIdentifier(query)] = error.description
        return .connection
    }

    /// The connection of `server`'s next pool slot, opened now if the slot has none.
    private func streamConnection(to server: ServerState) throws(StreamError) -> TCPConnection {
        let slots = max(configuration.connectionsPerServer, 1)
        if server.streams.count != slots {
            server.streams = Array(repeating: nil, count: slots)
            server.streamsUsed = Array(repeating: false, count: slots)
        }
        let slot = server.streamCursor % slots
        server.streamCursor &+= 1
        if let existing = server.streams[slot] {
            if existing.isUsable { return existing }
            // A DoH connection after GOAWAY: its last streams finish while a new one takes the slot.
            if !existing.isClosed { server.draining.append(existing) }
        }
        let connection: TCPConnection
        switch server.transport {
        case .doh: connection = try DoHConnection(server: server, shard: self, tls: try dohClientContext())
        case .tls: connection = try TCPConnection(server: server, shard: self, kind: .tls, tls: try tlsClientContext())
        case .tcp, .udp: connection = try TCPConnection(server: server, shard: self, kind: .tcp, tls: nil)
        }
        server.streams[slot] = connection
        counters.connectionsOpened += 1
        if server.streamsUsed[slot] { counters.reconnects += 1 }
        server.streamsUsed[slot] = true
        return connection
    }

    /// The shard's TLS client context, made on first need from the configuration.
    private func tlsClientContext() throws(StreamError) -> TLSClientContext {
        if let tlsContext { return tlsContext }
        let context = try TLSClientContext(caFile: configuration.tlsCAFile, verifyPeer: configuration.tlsVerifiesPeer)
        tlsContext = context
        return context
    }

    /// The shard's TLS client context for DoH connections (ALPN `h2`), made on first need.
    private func dohClientContext() throws(StreamError) -> TLSClientContext {
        if let dohTLSContext { return dohTLSContext }
        let context = try TLSClientContext(caFile: configuration.tlsCAFile, verifyPeer: configuration.tlsVerifiesPeer,
                                           applicationProtocols: ["h2"])
        dohTLSContext = context
        return context
    }

    /// Views `bytes` as a reply to `query`'s current attempt and says whether its question is the one
    /// asked (with 0x20, exactly the case sent): `DNSMessageView.reply(_:askedName:…)`.
    func view(_ bytes: UnsafeRawBufferPointer, repliesTo query: QueryOperation) throws(DNSParseError)
        -> (view: DNSMessageView, questionMatches: Bool)
    {
        // The query's own copy of the name: at many queries outstanding, the request's is no longer
        // in cache when the reply comes.
        try query.currentName.withWire { name throws(DNSParseError) in
            guard query.randomizesCase else {
                return try DNSMessageView.reply(bytes, askedName: name, type: query.type, class: query.recordClass,
                                                caseSensitive: false)
            }
            let expected = UnsafeMutableRawBufferPointer(rebasing: nameScratch[..<name.count])
            expected.copyMemory(from: name)
            CaseRandomization.apply(seed: query.caseSeed, to: expected)
            return try DNSMessageView.reply(bytes, askedName: UnsafeRawBufferPointer(expected), type: query.type,
                                            class: query.recordClass, caseSensitive: true)
        }
    }

    // MARK: Receiving

    /// Reads what `socket` has, in `recvmmsg` batches into the preallocated buffers, and dispatches
    /// each datagram; at most `maxBatchesPerWake` batches, then back to the loop (the watcher is
    /// level-triggered, so the rest is read on the next turn).
    func drain(_ socket: UDPSocket) {
        socket.server.replying = Unmanaged.passUnretained(socket)
        defer { socket.server.replying = nil }
        for _ in 0..<configuration.maxBatchesPerWake {
            let count: Int
            do {
                count = try received.receive(on: socket.fd)
            } catch {
                counters.receiveErrors += 1
                if Self.isUnreachable(error.errno) { socketUnreachable(socket, errno: error.errno) }
                continue
            }
            // The batch's arrival time: what its replies' completions read as `loopTime`.
            reactor.refreshLoopTime()
            // Each reply's table entry is a random line of a 512 KiB table, and its query an object
            // last touched when it was sent: fetch all the entries, then all the queries, so that
            // the batch's misses overlap instead of stalling one reply after another.
            // A message is one reply, or several the kernel coalesced (UDP GRO).
            for index in 0..<count {
                _ = received.forEachDatagram(in: index) { reply, _ in
                    if reply.count >= 2 { socket.table.prefetch(Self.replyID(reply)) }
                    return true
                }
            }
            for index in 0..<count {
                _ = received.forEachDatagram(in: index) { reply, _ in
                    // Every line of its first 192 bytes (a tagged query is 160, 16-byte aligned).
                    guard reply.count >= 2, let owner = socket.table.owner(of: Self.replyID(reply)) else { return true }
                    prefetchForWrite(owner)
                    prefetchForWrite(owner + 64)
                    prefetchForWrite(owner + 128)
                    prefetchForWrite(owner + 191)
                    return true
                }
            }
            for index in 0..<count {
                let truncated = received.isTruncated(index), coalesced = received.segmentSize(index) > 0
                let whole = received.forEachDatagram(in: index) { reply, isLast in
                    if coalesced { counters.repliesCoalesced += 1 }
                    if truncated && isLast {  // cut by the slot: its tail is lost
                        counters.replies += 1
                        counters.droppedMalformed += 1
                        return true
                    }
                    dispatch(reply, on: socket)
                    // A completion may have shut the engine down: its fd is closed (and its number may
                    // already name another file), so nothing more is read from it.
                    return !socket.isClosed
                }
                if !whole { return }
            }
            if count < batch { return }
        }
    }

    /// The transaction id of `reply` (at least 2 bytes long).
    @inline(__always)
    private static func replyID(_ reply: UnsafeRawBufferPointer) -> UInt16 {
        UInt16(reply[0]) << 8 | UInt16(reply[1])
    }

    /// Whether `code` is an ICMP error the kernel reports on a connected UDP socket: the server's
    /// port is closed (`ECONNREFUSED`) or its host or network cannot be reached.
    private static func isUnreachable(_ code: Int32) -> Bool {
        code == ECONNREFUSED || code == EHOSTUNREACH || code == ENETUNREACH || code == EHOSTDOWN || code == ENETDOWN
    }

    /// `socket`'s server is unreachable (the kernel turned an ICMP error into `code`): every attempt
    /// waiting on the socket gives up at once — its id goes into quarantine and the query moves on to
    /// its next attempt from a zero timer, or ends with `.network(errno: code)` when none is left —
    /// instead of waiting for its timeout. The server is penalised like one that timed out.
    private func socketUnreachable(_ socket: UDPSocket, errno code: Int32) {
        counters.unreachable += 1
        socket.server.penaltyUntil = MonotonicClock.now() &+ timing.serverPenalty
        for owner in socket.table.allOwners() {
            Unmanaged<QueryOperation>.fromOpaque(owner).takeUnretainedValue().channelFailed(errno: code)
        }
    }

    /// Routes one reply read from `channel` (whose connected socket fixes its source) to the query
    /// waiting on its id there, or drops and counts it. A reply is read as a message once its query is
    /// known (`view(_:repliesTo:)`); one that names no query is read only to tell a malformed packet
    /// from a stray one.
    func dispatch(_ bytes: UnsafeRawBufferPointer, on channel: QueryChannel) {
        counters.replies += 1
        guard bytes.count >= 12, bytes[2] & 0x80 != 0 else {  // a header, with QR set
            counters.droppedMalformed += 1
            return
        }
        let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        guard let owner = channel.owner(of: id) else {
            guard (try? DNSMessageView(bytes)) != nil else {
                counters.droppedMalformed += 1
                return
            }
            switch channel.table.vacancy(of: id, nowMs: nowMs) {
            case .free: counters.droppedWrongID += 1
            case .late: counters.droppedLate += 1
            case .answered: counters.droppedDuplicate += 1
            }
            return
        }
        // The table's owner is alive while it holds the id (the reactor's slot holds the query), so
        // the call borrows it: no retain and release of an object a cache miss away.
        Unmanaged<QueryOperation>.fromOpaque(owner)._withUnsafeGuaranteedRef { $0.replyArrived(bytes, on: channel) }
    }

    /// Routes the answer a DoH stream carried (its DNS id is 0: the stream names the query) to the
    /// query placed under `id` on `channel`. Returns true when the query read it, refused it (malformed,
    /// another question or opcode) and still waits on `channel`: it then fails, since its stream
    /// carries no other answer.
    func dispatch(_ bytes: UnsafeRawBufferPointer, streamedTo id: UInt16, on channel: QueryChannel) -> Bool {
        counters.replies += 1
        guard let owner = channel.owner(of: id) else {
            counters.droppedLate += 1
            return false
        }
        guard bytes.count >= 12, bytes[2] & 0x80 != 0 else {  // a header, with QR set
            counters.droppedMalformed += 1
            return true
        }
        let refused = counters.droppedMalformed + counters.droppedWrongQuestion + counters.droppedWrongOpcode
        Unmanaged<QueryOperation>.fromOpaque(owner)._withUnsafeGuaranteedRef { $0.replyArrived(bytes, on: channel) }
        return counters.droppedMalformed + counters.droppedWrongQuestion + counters.droppedWrongOpcode > refused
            && channel.owner(of: id) == owner
    }

    /// Runs `body` with the shard's 64 KiB scratch buffer (TCP reads).
    func withScratch<T, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> T) throws(E) -> T {
        try body(scratch)
    }

    // MARK: Maintenance

    private func armMaintenance() {
        if maintenance == nil {
            maintenance = LoopTimer(reactor: reactor) { [unowned self] in closeRetiredSockets() }
        }
        if maintenance?.isArmed == false { maintenance?.arm(after: .milliseconds(500)) }
    }

    /// Closes retired sockets with nothing outstanding whose quarantine has passed; re-arms while
    /// some remain.
    private func closeRetiredSockets() {
        sendBatch.flush(self)  // the batch does not retain its sockets: none may close while queued
        let now = nowMs
        var remaining = 0
        for server in servers.values {
            server.retired.removeAll { socket in
                guard socket.table.outstanding == 0, socket.table.lastExpiry <= now else { return false }
                socket.close(onLoop: true)
                counters.socketsClosed += 1
                return true
            }
            remaining += server.retired.count
        }
        if remaining > 0 { armMaintenance() }
    }

    // MARK: Closing

    /// Cancels every query of this shard (reason `.cancelAll`): those placed on its channels and
    /// those parked between attempts.
    func cancelAll() {
        cancelQueries(on: allChannels, reason: .cancelAll)
        cancelParked(reason: .cancelAll)
    }

    /// Every socket (retiring ones included) and connection of the shard.
    private var allChannels: [QueryChannel] {
        var all: [QueryChannel] = []
        for server in servers.values {
            all += server.sockets as [QueryChannel]
            all += server.retired as [QueryChannel]
            all += server.streams.compactMap { $0 } as [QueryChannel]
            all += server.draining as [QueryChannel]
        }
        return all
    }

    /// Cancels the queries parked for the next loop turn (they hold no id on any channel). The cancels
    /// end them on a later turn, so the dictionary does not change while it is walked.
    private func cancelParked(reason: CancelReason) {
        for query in parkedQueries.values {
            if let handle = query.handle { reactor.cancel(handle, reason: reason) }
        }
    }

    private func cancelQueries(on channels: [QueryChannel], reason: CancelReason) {
        for channel in channels {
            for owner in channel.table.allOwners() {
                let query = Unmanaged<QueryOperation>.fromOpaque(owner).takeUnretainedValue()
                if let handle = query.handle { reactor.cancel(handle, reason: reason) }
            }
        }
    }

    /// Cancels every query of this shard (reason `.shutdown`) and closes every socket and connection.
    /// On the loop; after the loop has stopped, closes the fds only (nothing is pending then).
    func close() {
        isClosed = true
        dropKeptQueries()
        let onLoop = reactor.inLoop
        if onLoop {
            if outstanding > 0 {
                logger.info("DNS engine shutting down: cancelling outstanding queries", metadata: [
                    "shard": "\(reactor.name)", "queries": "\(outstanding)",
                ])
            }
            cancelQueries(on: allChannels, reason: .shutdown)
            cancelParked(reason: .shutdown)
        }
        closeChannels(onLoop: onLoop)
    }

    /// Streams sending their last words (`StreamConnection.closeWhenWritten(within:)`), out of their
    /// server's lists: kept so that closing the shard closes them too. Loop only.
    private var closingStreams: [StreamConnection] = []

    /// Keeps `stream`, which closes once written, until it has closed (or the shard closes it).
    func keepClosing(_ stream: StreamConnection) {
        closingStreams.removeAll { !$0.isOpen }
        closingStreams.append(stream)
    }

    /// Discards the send batch, closes every socket and connection, and frees the maintenance
    /// timer; their events are freed only on the loop (off it, the fds are closed). Reaches nothing
    /// that holds the shard, so its deinit may call it.
    private func closeChannels(onLoop: Bool) {
        sendBatch.discard(onLoop: onLoop)
        for server in servers.values {
            for socket in server.sockets + server.retired {
                socket.close(onLoop: onLoop)
                counters.socketsClosed += 1
            }
            server.sockets = []
            server.retired = []
            for connection in server.streams { connection?.close(failing: nil, onLoop: onLoop) }
            for connection in server.draining { connection.close(failing: nil, onLoop: onLoop) }
        }
        for stream in closingStreams where stream.isOpen { onLoop ? stream.close() : stream.abandon() }
        closingStreams = []
        if onLoop { maintenance?.free() }
        maintenance = nil
        observer?.stop(onLoop: onLoop)
    }
}
