import DNSMessage
import EventReactor

#if canImport(Glibc)
import Glibc
#endif

/// One DNS query on the loop: the `OperationBody` the reactor holds while it is pending, and the
/// one allocation a query makes (a subclass per way of delivering the outcome, `ClosureQuery` or
/// `TaggedQuery`, overriding `deliver` only; a `TaggedQuery` that ended on the loop is kept by its
/// shard for the next one started there, see `EngineShard.keptQuery`). Loop-bound: the
/// request's fields are written by `prepare` on the starting thread before the reactor publishes
/// the query (a reused one is prepared on the loop); everything else is touched only on the shard's
/// reactor thread.
///
/// Life of a query: `attach` (the loop installed it) sends the first attempt; the operation's one
/// reactor timer is always armed for the earlier of "this attempt gave up" and the overall
/// deadline, which was fixed when the query was submitted; a reply is matched by the shard
/// (socket, id) and here (question) before it may end the query; every ending releases the
/// transaction id (into quarantine unless answered) before the completion runs.
class QueryOperation: OperationBody, @unchecked Sendable {
    /// A failure found where the completion may not run yet (inside `attach`, which can run inside
    /// `start`): it is parked here and delivered from a zero timer on the next loop turn.
    enum Parked {
        case limitReached, network(Int32), shutDown
        /// A stream connection failed; its words wait in the shard's `connectionFailures` (kept out
        /// of the query object, which stays as small as before).
        case connection
    }

    struct Flags: OptionSet {
        let rawValue: UInt16
        static let recursionDesired = Flags(rawValue: 1 << 0)
        static let dnssecOK = Flags(rawValue: 1 << 1)
        static let tcpOnly = Flags(rawValue: 1 << 2)
        static let tcpFallback = Flags(rawValue: 1 << 3)
        static let randomizeCase = Flags(rawValue: 1 << 4)
        static let edns = Flags(rawValue: 1 << 5)
        static let searchList = Flags(rawValue: 1 << 6)
        static let relative = Flags(rawValue: 1 << 7)
        static let summaryOnly = Flags(rawValue: 1 << 8)
        static let checkingDisabled = Flags(rawValue: 1 << 9)
    }

    struct State: OptionSet {
        var rawValue: UInt8
        static let attached = State(rawValue: 1 << 0)
        static let onTCP = State(rawValue: 1 << 1)
        static let noEDNS = State(rawValue: 1 << 2)
        /// `attach` found the servers to ask (`list`).
        static let listed = State(rawValue: 1 << 3)
        /// The current attempt went over a stream connection (TCP or TLS).
        static let streamAttempt = State(rawValue: 1 << 4)
        /// A DoH server refused one of the query's streams unprocessed (GOAWAY): asked again on
        /// a new connection without counting an attempt, once.
        static let refusedOnce = State(rawValue: 1 << 5)
    }

    // Fields are declared in this order so that the object, laid out in declaration order, packs
    // tightly (RSS per outstanding query, tools/rss-per-query.sh): references and words first, then
    // the small fields.

    // The request, fixed at submission (`prepare`; the subclass's two words of delivery follow the
    // last field).
    let shard: EngineShard
    /// What only some queries need (explicit servers, 0x20, the search list), out of line so the
    /// common query's object stays small; nil for the common query.
    private var extras: QueryExtras?
    private(set) var submittedAt: UInt64 = 0
    private(set) var deadline: UInt64 = 0

    // Loop state (references).
    private(set) var channel: QueryChannel?

    /// The name, type, class and flags asked, copied from `request` (the reply path reads them
    /// here, in the object it touches anyway: at many queries outstanding the request's fields are
    /// no longer in cache when the reply comes).
    private(set) var name = QueryName.inline(QueryName.InlineWire())
    /// The reactor's slot and generation of this operation (the handle without its reactor
    /// reference, which is `shard.reactor`); valid once `state` holds `.attached`.
    private var slot: UInt32 = 0
    private var generation: UInt32 = 0
    private(set) var type = DNSType(0)
    private(set) var recordClass = DNSClass.in
    private(set) var flags = Flags()
    /// The EDNS payload size advertised (at least 512).
    private(set) var ednsSize: UInt16 = 512

    // Loop state (values).
    private(set) var id: UInt16 = 0
    private(set) var maxAttempts: UInt8 = 1
    private var attempts: UInt8 = 0
    private var firstServer: UInt8 = 0
    private var serverIndex: UInt8 = 0
    private var state = State()
    private var candidateIndex: UInt8 = 0
    private var parked: Parked?

    init(request: borrowing DNSQueryRequest, shard: EngineShard) {
        self.shard = shard
        prepare(request, now: shard.reactor.now)
    }

    /// Takes `request`, submitted at `now`, as this query's, with its loop state as new: from `init`,
    /// or for an object the shard kept from an ended query (which left no trace: its channel, parked
    /// failure and handle were cleared when it ended). The query copies what it asks (name, type,
    /// class, flags) and keeps no reference to the request: every attempt writes its message from
    /// these copies, which the reply path reads too.
    final func prepare(_ request: borrowing DNSQueryRequest, now: UInt64) {
        assert(channel == nil && parked == nil, "a query object is reused only once it has ended")
        slot = 0
        generation = 0
        id = 0
        attempts = 0
        firstServer = 0
        serverIndex = 0
        state = State()
        candidateIndex = 0
        let fields = request.fields
        name = fields.queryName
        type = fields.type
        recordClass = fields.recordClass
        let flags = fields.flags
        self.flags = flags
        ednsSize = fields.ednsSize
        submittedAt = now
        var attempts = shard.configuration.attempts
        var timeoutNanos = shard.configuration.timeoutNanos
        var servers: [DNSServer]?
        if fields.hasOwnLimits {
            attempts = fields.attempts ?? attempts
            timeoutNanos = fields.timeoutNanos ?? timeoutNanos
            servers = fields.servers
        }
        maxAttempts = UInt8(clamping: max(attempts, 1))
        deadline = now &+ timeoutNanos
        let needsExtras = servers != nil || flags.contains(.randomizeCase)
            || (flags.contains(.searchList) && flags.contains(.relative))
        if needsExtras || extras != nil { extras = needsExtras ? QueryExtras(servers: servers) : nil }
    }

    /// Runs the caller's completion with `outcome`: exactly once, on the loop. Each subclass
    /// overrides it; the base class is never instantiated.
    func deliver(_ outcome: DNSQueryOutcome) {
        preconditionFailure("QueryOperation.deliver: a subclass delivers")
    }

    /// This query has ended on the loop and its completion has run; `reference` is the reactor's
    /// reference to it, handed over: a subclass may give it to its shard for reuse. The base class
    /// drops it (the object is freed; nothing may touch it after this call).
    func ended(_ reference: consuming any OperationBody) {}

    /// The name the current attempt asks: the request's (`name`), or the search-list candidate's.
    var currentName: QueryName {
        if let candidates = extras?.candidates { return .shared(candidates[Int(candidateIndex)]) }
        return name
    }
    /// The reactor's handle of this operation; nil until the loop attached it.
    var handle: OperationHandle? {
        state.contains(.attached) ? OperationHandle(reactor: shard.reactor, slot: slot, generation: generation) : nil
    }
    /// The 0x20 case mask of the current attempt (bit i%64 set: letter i of the name upper-cased).
    var caseSeed: UInt64 { extras?.caseSeed ?? 0 }
    /// The servers the query asks (the request's, kept in `extras`, or the engine's); nil until
    /// `attach` found them. Not stored here: the common query's object stays a word smaller.
    private var list: ServerList? {
        guard state.contains(.listed) else { return nil }
        return extras?.list ?? shard.defaultList
    }
    /// The address of the server the current attempt asks (once `attach` found the list). The
    /// engine's list is read in place (a `let`: no retain), only a request's own through `extras`.
    private var serverAddress: DNSServer {
        if let list = extras?.list { return list.servers[Int(serverIndex)].address }
        return shard.defaultList.servers[Int(serverIndex)].address
    }
    /// Whether the query is attached and no path has won its gate yet.
    private var isPending: Bool {
        state.contains(.attached) && shard.isPending(slot: slot, generation: generation)
    }
    /// Whether the current attempt carries an OPT record.
    var usesEDNS: Bool { flags.contains(.edns) && !state.contains(.noEDNS) }
    /// Whether 0x20 is on: question names then match case-sensitively.
    var randomizesCase: Bool { flags.contains(.randomizeCase) }

    // MARK: OperationBody

    func attach(_ operation: OperationHandle, to reactor: Reactor) {
        slot = operation.slot
        generation = operation.generation
        state.insert(.attached)
        shard.outstanding += 1
        if flags.contains(.tcpOnly) { state.insert(.onTCP) }
        guard !shard.isClosed else { return park(.shutDown) }
        guard shard.outstanding <= shard.configuration.maxOutstanding else { return park(.limitReached) }
        if let servers = extras?.servers {
            attach(to: shard.serverList(for: servers))
        } else {
            // The engine's list, which the shard holds for good: borrowed (passing it as it is was a
            // retain and a release).
            Unmanaged.passUnretained(shard.defaultList)._withUnsafeGuaranteedRef { attach(to: $0) }
        }
    }

    /// `attach`, once the servers to ask are known: the first attempt goes to the first of them.
    private func attach(to list: ServerList) {
        guard !list.servers.isEmpty else { return park(.network(EDESTADDRREQ)) }
        extras?.list = list
        state.insert(.listed)
        if flags.contains(.searchList) && flags.contains(.relative) {
            let names = shard.resolvConf.candidates(for: name.name)
            if names.count > 1 { extras?.candidates = names }
        }
        firstServer = UInt8(truncatingIfNeeded: list.firstIndex())
        nextAttempt(in: list)
    }

    func timerFired(_ operation: OperationHandle, on reactor: Reactor) {
        let now = shard.reactor.loopTime
        if let parked {
            // A stream failure's words, taken before `unpark` forgets them.
            let reason = shard.connectionFailures.isEmpty ? nil
                : shard.connectionFailures.removeValue(forKey: ObjectIdentifier(self))
            unpark()
            switch parked {
            case .limitReached:
                shard.counters.limitReached += 1
                return complete(.failure(.limitReached), answered: false)
            case .shutDown:
                let info = CancelInfo(reason: .shutdown, origin: .loop, requestedAt: now)
                return complete(.failure(.cancelled(info)), answered: false)
            case .network(let code):
                guard attempts < maxAttempts, now < deadline, list != nil else {
                    return complete(.failure(.network(errno: code)), answered: false)
                }
                release(answered: false)
                return nextAttempt()
            case .connection:
                guard attempts < maxAttempts, now < deadline, list != nil else {
                    return complete(.failure(.connectionFailed(reason ?? "the connection failed")), answered: false)
                }
                release(answered: false)
                return nextAttempt()
            }
        }
        guard now < deadline, attempts < maxAttempts else {
            shard.counters.timeouts += 1
            return complete(.failure(.timeout), answered: false)
        }
        // This attempt gave up: penalise its server and try the next one. Back to the same server
        // over UDP, the same transaction goes again (same socket, id and 0x20 case), so that a slow
        // reply to the first copy still answers; elsewhere the id goes into quarantine.
        guard let list else { return complete(.failure(.timeout), answered: false) }
        list.servers[Int(serverIndex)].penaltyUntil = now &+ shard.configuration.serverPenaltyNanos
        shard.counters.retransmits += 1
        let index = list.server(first: Int(firstServer), attempt: Int(attempts), now: now)
        if index == Int(serverIndex), !state.contains(.onTCP), let socket = channel as? UDPSocket {
            return send(to: index, in: list, resending: socket)
        }
        release(answered: false)
        send(to: index, in: list)
    }

    func end(_ operation: OperationHandle, with ending: OperationEnding, on reactor: Reactor) {
        release(answered: false)
        unpark()
        if state.contains(.attached) { shard.outstanding -= 1 }
        let outcome: DNSQueryOutcome
        switch ending {
        case .cancelled(let info):
            outcome = .failure(.cancelled(info))
        case .rejected(let error):
            if error.code == .shutDown {
                let info = CancelInfo(reason: .shutdown, origin: .thread, requestedAt: MonotonicClock.now())
                outcome = .failure(.cancelled(info))
            } else {
                outcome = .failure(.limitReached)
            }
        }
        // Counted on the loop only: after the reactor stopped, ends run on a global queue.
        if let observer = shard.observer, reactor.inLoop {
            observer.tally(outcome, submittedAt: submittedAt, now: reactor.loopTime)
        }
        deliver(outcome)
    }

    // MARK: Attempts

    /// Sends the next attempt to the next server in order (skipping penalised ones).
    private func nextAttempt() {
        if let list { nextAttempt(in: list) }
    }

    /// `nextAttempt()` for a caller that holds the query's `list` (the list is passed down rather
    /// than fetched again: each fetch is a retain and a release).
    private func nextAttempt(in list: ServerList) {
        let index = list.server(first: Int(firstServer), attempt: Int(attempts), now: shard.reactor.loopTime)
        send(to: index, in: list)
    }

    /// Sends one attempt to server `index` of the query's `list`.
    private func send(to index: Int) {
        if let list { send(to: index, in: list) }
    }

    /// Sends one attempt to server `index` of `list` (the query's) over the current transport (or,
    /// with `socket`, the current UDP transaction again on it) and arms the timer for it.
    private func send(to index: Int, in list: ServerList, resending socket: UDPSocket? = nil) {
        serverIndex = UInt8(truncatingIfNeeded: index)
        attempts &+= 1
        let failure: Parked?
        if let socket {
            failure = shard.resendUDP(self, on: socket)
        } else {
            if randomizesCase { extras?.caseSeed = shard.ids.draw64() }
            // Borrowed: `list` holds its servers for good (taken into a local, each send was a retain
            // and a release).
            failure = Unmanaged.passUnretained(list.servers[index])._withUnsafeGuaranteedRef { server in
                guard state.contains(.onTCP) || server.transport.isStream else {
                    state.remove(.streamAttempt)
                    return shard.sendUDP(self, to: server)
                }
                state.insert(.streamAttempt)
                return shard.sendStream(self, to: server)
            }
        }
        if let failure { return park(failure) }
        if parked != nil { return }  // the channel failed while sending (a TCP connection closed).
        let now = shard.reactor.loopTime
        let remaining = deadline > now ? deadline - now : 0
        var wait: UInt64
        if state.contains(.streamAttempt) {
            wait = shard.configuration.tcpTimeoutNanos
        } else {
            let shift = UInt64(min(attempts - 1, 16))
            wait = min(shard.configuration.retransmitNanos << shift, shard.configuration.maxRetransmitNanos)
        }
        if attempts >= maxAttempts || wait > remaining { wait = remaining }
        shard.setTimer(slot: slot, generation: generation, afterNanos: wait)
    }

    /// Parks a failure for the next loop turn (see `Parked`).
    private func park(_ failure: Parked) {
        guard state.contains(.attached) else { return }
        parked = failure
        shard.parkedQueries[ObjectIdentifier(self)] = self  // holds no id: `cancelAll` finds it here.
        shard.setTimer(slot: slot, generation: generation, afterNanos: 0)
    }

    /// Clears a parked failure and the shard's entry for it (every ending does: a query object the
    /// shard keeps for reuse carries no parked failure into its next life).
    private func unpark() {
        guard parked != nil else { return }
        if !shard.connectionFailures.isEmpty { shard.connectionFailures[ObjectIdentifier(self)] = nil }
        parked = nil
        shard.parkedQueries[ObjectIdentifier(self)] = nil
    }

    /// Writes the current attempt's message under `id` into `buffer`: the name asked (with its 0x20
    /// case), type, class, RD and CD as asked, and an OPT record unless EDNS is off or fell back. Returns its
    /// length, or nil if it does not fit.
    func writeMessage(id: UInt16, into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        let edns = usesEDNS
            ? DNSQueryBuilder.EDNS(udpPayloadSize: ednsSize, dnssecOK: flags.contains(.dnssecOK)) : nil
        let written = currentName.withWire { name in
            DNSQueryBuilder.write(into: buffer, id: id, name: name, type: type, class: recordClass,
                                  flags: (flags.contains(.recursionDesired) ? 0x0100 : 0)
                                      | (flags.contains(.checkingDisabled) ? 0x0010 : 0), edns: edns)
        }
        guard let length = written else { return nil }
        if randomizesCase {
            CaseRandomization.apply(seed: caseSeed, to: UnsafeMutableRawBufferPointer(
                rebasing: buffer[12..<(12 + currentName.wireCount)]))
        }
        return length
    }

    /// Registers the attempt's transaction on `channel` (called by the shard when it placed it).
    func placed(on channel: consuming QueryChannel, id: UInt16) {
        self.channel = channel
        self.id = id
    }

    /// The attempt's channel failed (a TCP connection closed): move on from a zero timer.
    func channelFailed(errno: Int32) {
        guard isPending else { return }
        release(answered: false)
        park(.network(errno))
    }

    /// The attempt's stream connection failed or closed (`error` says why): move on from a zero timer.
    /// A system call's failure keeps its errno (`.network`); TLS and the peer's close, their words.
    func channelFailed(_ error: StreamError) {
        guard isPending else { return }
        release(answered: false)
        park(shard.parked(for: error, of: self))
    }

    /// The attempt's DoH stream was refused unprocessed (above a GOAWAY's last stream, or never
    /// sent before it): the query asks again on a new connection from a zero timer, the attempt not
    /// counted (once; a second refusal counts, so a server that refuses everything cannot hold a
    /// query past its attempts). `error` is what it ends with if it may not ask again.
    func channelRefused(_ error: StreamError) {
        guard isPending else { return }
        if !state.contains(.refusedOnce), attempts > 0 {
            state.insert(.refusedOnce)
            attempts -= 1
        }
        channelFailed(error)
    }

    /// Releases the current transaction id: briefly when answered (a second copy is then counted as
    /// a duplicate), else for the full quarantine.
    private func release(answered: Bool) {
        guard let channel = channel.take() else { return }  // moved out: no retain of our own
        channel.releaseID(id, untilMs: shard.quarantineExpiry(answered: answered), answered: answered)
        channel.didRelease(id)
    }

    // MARK: Replies

    /// A reply whose id names this query arrived on `channel` (so its source is right). Accepts it
    /// only if it is a well-formed message with the query's opcode (QUERY) whose question matches;
    /// any other is dropped and counted, never fatal. Bytes after its last record do not refuse it:
    /// they are counted (`repliesWithTrailingBytes`) and shown in the summary (`trailingBytes`).
    func replyArrived(_ bytes: UnsafeRawBufferPointer, on channel: QueryChannel) {
        guard let (reply, questionMatches) = try? shard.view(bytes, repliesTo: self) else {
            shard.counters.droppedMalformed += 1
            return
        }
        guard isPending else {
            shard.counters.droppedLate += 1
            return
        }
        guard reply.opcode == .query else {
            shard.counters.droppedWrongOpcode += 1
            return
        }
        guard questionMatches else {
            shard.counters.droppedWrongQuestion += 1
            return
        }
        let rcode = DNSRcode(rawValue: UInt16(reply.rcodeLow))
        if reply.isTruncated && channel.transport == .udp {
            shard.counters.truncated += 1
            if flags.contains(.tcpFallback) {
                shard.counters.tcpFallbacks += 1
                shard.logger.trace("truncated reply: asking again over TCP", metadata: ["server": "\(serverAddress)"])
                release(answered: true)
                state.insert(.onTCP)
                return send(to: Int(serverIndex))
            }
        }
        if rcode == .formErr && usesEDNS {
            shard.counters.ednsFallbacks += 1
            release(answered: true)
            state.insert(.noEDNS)
            return send(to: Int(serverIndex))
        }
        if rcode == .servFail || rcode == .refused || rcode == .notImp || rcode == .formErr {
            let now = shard.reactor.loopTime
            if attempts < maxAttempts, now < deadline, let list, list.servers.count > 1 {
                release(answered: true)
                return nextAttempt(in: list)
            }
            return complete(.failure(.serverFailure(rcode: rcode)), answered: true)
        }
        // Summary first (walks every record without copying): a malformed reply fails here in
        // either detail; the full parse then only runs when the caller wants the records.
        guard let summary = try? DNSReplySummary(reply) else { return malformedReply() }
        if summary.trailingBytes != 0 { shard.counters.repliesWithTrailingBytes += 1 }
        var message: DNSMessage?
        if !flags.contains(.summaryOnly) {
            guard let parsed = try? DNSMessage(parsing: reply.bytes) else { return malformedReply() }
            message = parsed
        }
        if rcode == .nxDomain, let candidates = extras?.candidates, Int(candidateIndex) + 1 < candidates.count {
            release(answered: true)
            candidateIndex += 1
            attempts = 0
            return nextAttempt()
        }
        guard state.contains(.listed) else { return }
        let now = shard.reactor.loopTime
        shard.counters.answered += 1
        // Built in place and moved into the outcome: a result is several words (and a full one holds
        // the parsed message), so every copy and destroy of it shows per query.
        let answered = tryComplete(.success(DNSQueryResult(
            message: consume message, summary: summary, answeredName: currentName,
            server: serverAddress, transport: channel.transport, attempts: Int(attempts),
            elapsedNanos: now > submittedAt ? now - submittedAt : 0)), answered: true)
        // A winning `tryComplete` has freed this query, or handed it to the shard for reuse (the shard
        // calls `replyArrived` without a reference of its own): nothing below may touch `self`
        // unless the gate was lost.
        if !answered {
            // A cancel from another thread won the gate first: the query ends cancelled, and this
            // reply counts as late, like one read after the cancel.
            shard.counters.answered -= 1
            shard.counters.droppedLate += 1
        }
    }

    /// The reply that named this query is malformed (its records, or the whole message when the
    /// caller wants it parsed): counted and dropped; the query tries again while it may, else ends
    /// with `.malformedReply`.
    private func malformedReply() {
        shard.counters.droppedMalformed += 1
        if attempts < maxAttempts, shard.reactor.loopTime < deadline {
            release(answered: false)
            return nextAttempt()
        }
        complete(.failure(.malformedReply), answered: false)
    }

    /// Ends the query with `outcome` if this path wins the gate: the id is released, then the
    /// completion runs (on the loop, never inside `start` or `cancel`).
    private func complete(_ outcome: DNSQueryOutcome, answered: Bool) {
        _ = tryComplete(outcome, answered: answered)
    }

    /// `complete`, returning whether this path won the gate.
    private func tryComplete(_ outcome: DNSQueryOutcome, answered: Bool) -> Bool {
        // The reactor's reference to this query, handed over: it keeps the query alive through its
        // completion (the shard reaches a query through the transaction table, unretained).
        guard state.contains(.attached), let body = shard.finish(slot: slot, generation: generation) else {
            return false
        }
        release(answered: answered)
        unpark()  // a failure parked with its id still held (a write failed) is overtaken
        shard.outstanding -= 1
        if let observer = shard.observer { observer.tally(outcome, submittedAt: submittedAt, now: shard.reactor.loopTime) }
        deliver(outcome)
        ended(body)
        return true
    }
}

/// A query whose completion is a closure (`DNSQueryEngine.start(_:completion:)`).
final class ClosureQuery: QueryOperation, @unchecked Sendable {
    private let completion: @Sendable (DNSQueryOutcome) -> Void

    init(request: borrowing DNSQueryRequest, shard: EngineShard,
         completion: @escaping @Sendable (DNSQueryOutcome) -> Void) {
        self.completion = completion
        super.init(request: request, shard: shard)
    }

    override func deliver(_ outcome: DNSQueryOutcome) { completion(outcome) }
}

/// A query that reports to a target under a tag (`DNSQueryEngine.start(_:tag:target:)`): no closure
/// context, so the query is the only allocation.
final class TaggedQuery: QueryOperation, @unchecked Sendable {
    /// Nil once called (and so while the shard keeps the object for reuse).
    private var target: (any DNSQueryCompletionTarget)?
    private var tag: UInt64

    init(request: borrowing DNSQueryRequest, shard: EngineShard, tag: UInt64, target: any DNSQueryCompletionTarget) {
        self.target = target
        self.tag = tag
        super.init(request: request, shard: shard)
    }

    /// Takes a new query (an object the shard kept, see `ended`).
    func prepare(_ request: borrowing DNSQueryRequest, now: UInt64, tag: UInt64,
                 target: any DNSQueryCompletionTarget) {
        self.target = target
        self.tag = tag
        prepare(request, now: now)
    }

    /// Calls the target, and drops it (moved out for the call: the engine holds a target only until
    /// its call).
    override func deliver(_ outcome: DNSQueryOutcome) { target.take()?.queryCompleted(tag: tag, outcome) }

    /// Offers the object to the shard: the next query started on this loop then costs no
    /// allocation and no free.
    override func ended(_ reference: consuming any OperationBody) {
        assert(reference === self)
        shard.keep(unsafeDowncast(reference as AnyObject, to: TaggedQuery.self))
    }
}
