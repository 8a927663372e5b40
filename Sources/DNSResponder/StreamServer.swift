import COpenSSL
import DNSMessage
import EventReactor
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// One stream thread of the responder: its own epoll and its own `SO_REUSEPORT` listener on each
/// stream port (TCP, DoT, DoH; the kernel spreads connections over the threads), non-blocking
/// sockets watched edge-triggered, many queries per connection with each answer written as soon
/// as it is ready (a delayed one overtakes none and is overtaken by the rest), partial writes kept
/// for the next writable edge. A connection quiet for `streamIdleTimeout` is closed (RFC 7766
/// §6.2.3), so a client that promises more bytes than it sends holds nothing for long; a client
/// that does not read its answers stops being read once `maxOutput` bytes wait for it.
/// Thread-bound like `UDPWorker`; `counters` is locked.
final class StreamServer: @unchecked Sendable {
    /// Its listeners, one per stream transport served.
    let listeners: [(fd: Int32, kind: StreamKind)]
    let counters = Locked(DNSResponderCounters())
    private let book: AnswerBook
    private let faults: DNSFaults
    private let faultsOn: Bool
    private let tls: [StreamKind: TLSContext]
    private let maxConnections: Int
    private let idleNanos: UInt64
    private let maxDelayed: Int
    private var rng: SplitMix64
    private var malformedTurn: UInt64 = 0
    private var connections: [Int32: StreamConnection] = [:]
    private var serial: UInt64 = 0
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 16, alignment: 16)
    /// The answer being written: two bytes of length, then the message.
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 2 + 65_535, alignment: 16)
    /// Counted on the thread, published to `counters` once per wake-up.
    private var local = DNSResponderCounters()

    /// Answers owed later (the delay fault), or a split answer's second half.
    private struct Later {
        var fd: Int32
        var serial: UInt64
        var bytes: [UInt8]
        var draw: FaultDraw
        /// The HTTP/2 stream (DoH), else 0.
        var stream: Int32
        /// The second half of a split answer: append it, then the answers held behind it.
        var splitRest: Bool
    }
    private var later = DeadlineHeap<Later>()

    /// A client that stops reading is not read past this many bytes owed to it.
    static let maxOutput = 1 << 20
    private static let stopToken = UInt32.max
    private static let listenerBase = UInt32.max - 16

    init(listeners: [(fd: Int32, kind: StreamKind)], book: AnswerBook, configuration: DNSResponder.Configuration,
         tls: [StreamKind: TLSContext], index: Int) {
        self.listeners = listeners
        self.book = book
        self.tls = tls
        faults = configuration.faults
        faultsOn = configuration.faults.any
        let threads = max(1, configuration.tcpThreads)
        maxConnections = max(1, (configuration.maxTCPConnections + threads - 1) / threads)
        idleNanos = configuration.streamIdleTimeout.clampedNanoseconds
        maxDelayed = configuration.maxDelayed
        rng = SplitMix64(seed: configuration.seed &+ UInt64(1000 + index) &* 0x9E37_79B9_7F4A_7C15)
    }

    deinit {
        readBuffer.deallocate()
        scratch.deallocate()
    }

    /// Serves until `stopFD` becomes readable, then closes every connection (its listeners are the
    /// responder's to close). Runs on its thread.
    func run(stopFD: Int32, name: String) {
        ProcessCalls.setCurrentThreadName(name)
        guard let readiness = try? ReadinessSet() else { return }
        for (index, listener) in listeners.enumerated() {
            try? readiness.watchReadable(listener.fd, token: Self.listenerBase + UInt32(index))
        }
        try? readiness.watchReadable(stopFD, token: Self.stopToken)
        let sweepEvery = max(10_000_000, min(1_000_000_000, idleNanos / 4))
        var nextSweep = MonotonicClock.now() &+ sweepEvery
        var stop = false
        while !stop {
            let now = MonotonicClock.now()
            let due = min(nextSweep, later.earliest ?? .max)
            let timeout = due <= now ? 0 : Int32(clamping: (due - now + 999_999) / 1_000_000)
            readiness.wait(timeoutMillis: timeout) { token in
                switch token {
                case _ where stop: return
                case Self.stopToken: stop = true
                case Self.listenerBase...: accept(listeners[Int(token - Self.listenerBase)], into: readiness)
                default: if let connection = connections[Int32(bitPattern: token)] { service(connection) }
                }
            }
            sendDue()
            if MonotonicClock.now() >= nextSweep {
                closeIdle()
                nextSweep = MonotonicClock.now() &+ sweepEvery
            }
            publish()
        }
        for connection in Array(connections.values) { finish(connection, .atStop) }
        publish()
    }

    private func publish() {
        guard local != DNSResponderCounters() else { return }
        counters.withLock { $0 = $0 + local }
        local = DNSResponderCounters()
    }

    private func accept(_ listener: (fd: Int32, kind: StreamKind), into readiness: ReadinessSet) {
        for _ in 0..<64 {
            let fd = Glibc.accept(listener.fd, nil, nil)
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            guard connections.count < maxConnections else {
                close(fd)
                local[listener.kind].refused += 1
                continue
            }
            Socket.setOption(fd, Int32(IPPROTO_TCP), TCP_NODELAY, 1)
            var session: OpaquePointer?
            if listener.kind != .tcp {
                guard let made = tls[listener.kind]?.session(fd: fd) else {
                    close(fd)
                    local[listener.kind].refused += 1
                    continue
                }
                session = made
            }
            serial &+= 1
            let connection = StreamConnection(fd: fd, kind: listener.kind, serial: serial, tls: session,
                                              now: MonotonicClock.now())
            connections[fd] = connection
            local[listener.kind].connections += 1
            do {
                try readiness.watchEdges(fd, token: UInt32(bitPattern: fd))
            } catch {
                finish(connection, .reset)
            }
        }
    }

    /// Everything a readiness edge calls for: the handshake, reading until the socket is empty
    /// (answering each whole query), and sending what is owed.
    private func service(_ connection: StreamConnection) {
        if !connection.handshaken {
            guard handshake(connection) else { return }
        }
        while true {
            var paused = false
            while !connection.resetAfterFlush && !connection.peerClosed {
                guard connection.pendingOutput < Self.maxOutput else {
                    paused = true
                    break
                }
                switch connection.receive(into: readBuffer) {
                case .bytes(let count):
                    connection.lastActive = MonotonicClock.now()
                    guard consume(connection, UnsafeRawBufferPointer(rebasing: readBuffer[0..<count])) else { return }
                    continue
                case .wouldBlock: break
                case .closed: connection.peerClosed = true
                case .failed:
                    finish(connection, .reset)
                    return
                }
                break
            }
            guard flush(connection) else { return }
            // Read again only if reading stopped for the output and the output is gone.
            guard paused && connection.pendingOutput == 0 else { break }
        }
        if connection.peerClosed && connection.pendingOutput == 0 && connection.delayedPending == 0 {
            finish(connection, .byPeer)
        }
    }

    /// Drives the TLS handshake; true once it is done (and, for DoH, `h2` agreed).
    private func handshake(_ connection: StreamConnection) -> Bool {
        guard let ssl = connection.tls else { return true }
        ERR_clear_error()
        let rc = SSL_do_handshake(ssl)
        guard rc == 1 else {
            let code = SSL_get_error(ssl, rc)
            if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { return false }
            ERR_clear_error()
            local[connection.kind].handshakeFailures += 1
            finish(connection, .reset)
            return false
        }
        connection.handshaken = true
        connection.lastActive = MonotonicClock.now()
        local[connection.kind].handshakes += 1
        if SSL_session_reused(ssl) == 1 { local[connection.kind].resumed += 1 }
        if connection.kind == .doh {
            guard TLSContext.negotiatedH2(ssl), let session = HTTP2Session() else {
                local[connection.kind].handshakeFailures += 1
                finish(connection, .reset)
                return false
            }
            connection.http2 = session
            _ = session.send(into: &connection.output)
        }
        return true
    }

    /// Takes bytes read; false if the connection was closed for them (an HTTP/2 protocol error).
    private func consume(_ connection: StreamConnection, _ bytes: UnsafeRawBufferPointer) -> Bool {
        if let http2 = connection.http2 {
            guard http2.receive(bytes) else {
                finish(connection, .reset)
                return false
            }
            for (stream, request) in http2.takeRequests() { answer(request, stream: stream, on: connection) }
            return true
        }
        connection.input.append(contentsOf: bytes)
        var consumed = 0
        connection.input.withUnsafeBytes { input in
            while input.count - consumed >= 2 && !connection.resetAfterFlush {
                let length = Int(input[consumed]) << 8 | Int(input[consumed + 1])
                guard input.count - consumed - 2 >= length else { break }
                answer(UnsafeRawBufferPointer(rebasing: input[(consumed + 2)..<(consumed + 2 + length)]), on: connection)
                consumed += 2 + length
            }
        }
        connection.input.removeFirst(consumed)
        return true
    }

    /// Answers one length-prefixed DNS message (TCP, DoT), with the faults it draws.
    private func answer(_ query: UnsafeRawBufferPointer, on connection: StreamConnection) {
        local[connection.kind].queries += 1
        guard let (length, draw) = write(query) else { return }
        let reply = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[0..<(2 + length)])
        AnswerWriter.put16(scratch, 0, UInt16(length))
        if let delay = draw.delayNanos {
            postpone(Array(reply), draw: draw, stream: 0, on: connection, after: delay)
            return
        }
        deliver(reply, draw: draw, on: connection)
    }

    /// Answers one DoH request: a 4xx for one that is not a DoH query, else the DNS answer.
    private func answer(_ request: HTTP2Session.Request, stream: Int32, on connection: StreamConnection) {
        local.doh.queries += 1
        guard let http2 = connection.http2 else { return }
        let query: [UInt8]
        switch DoHRequest.query(of: request) {
        case .success(let bytes): query = bytes
        case .failure(let status):
            local.doh.badRequests += 1
            http2.respond(stream, status: status.code, body: [])
            return
        }
        guard let (length, draw) = query.withUnsafeBytes({ write($0) }) else {
            // A response, or shorter than a header: not a query.
            local.doh.badRequests += 1
            http2.respond(stream, status: 400, body: [])
            return
        }
        let reply = Array(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(scratch)[2..<(2 + length)]))
        if let delay = draw.delayNanos {
            postpone(reply, draw: draw, stream: stream, on: connection, after: delay)
            return
        }
        deliverHTTP2(reply, draw: draw, stream: stream, on: connection)
    }

    /// Writes the answer to `query` after `scratch`'s two length bytes, with its answer-changing
    /// fault; nil when nothing is to be sent (the drop fault, or not a query).
    private func write(_ query: UnsafeRawBufferPointer) -> (Int, FaultDraw)? {
        let draw = faultsOn ? FaultDraw(faults, using: &rng) : FaultDraw()
        if draw.drop {
            local.received += 1
            local.faultDropped += 1
            return nil
        }
        let out = UnsafeMutableRawBufferPointer(rebasing: scratch[2...])
        guard case .reply(var length) = AnswerWriter.answer(query, book: book, into: out, tcp: true, counters: &local)
        else { return nil }
        // TC over a stream leaves the client nowhere to go: the truncate fault is UDP's alone.
        if draw.change != .none && draw.change != .truncate {
            malformedTurn &+= 1
            length = FaultApplier.apply(draw.change, to: out, length: length, variant: malformedTurn, counters: &local)
        }
        return (length, draw)
    }

    private func postpone(_ bytes: [UInt8], draw: FaultDraw, stream: Int32, on connection: StreamConnection,
                       after delay: UInt64) {
        guard later.count < maxDelayed else {
            local.delayQueueFull += 1
            return
        }
        local.faultDelayed += 1
        connection.delayedPending += 1
        later.insert(Later(fd: connection.fd, serial: connection.serial, bytes: bytes, draw: draw, stream: stream,
                           splitRest: false),
                     due: MonotonicClock.now() &+ delay)
    }

    /// Queues a length-prefixed answer on a TCP or DoT connection: whole (twice under the duplicate
    /// fault), half then a reset, or half now and half a millisecond later.
    private func deliver(_ reply: UnsafeRawBufferPointer, draw: FaultDraw, on connection: StreamConnection) {
        if draw.reset {
            local.faultReset += 1
            connection.append(UnsafeRawBufferPointer(rebasing: reply[0..<max(1, reply.count / 2)]))
            connection.resetAfterFlush = true
            return
        }
        let copies = draw.duplicate ? 2 : 1
        if draw.duplicate { local.faultDuplicated += 1 }
        local[connection.kind].answers += copies
        guard draw.split, connection.held == nil else {
            for _ in 0..<copies { connection.append(reply) }
            return
        }
        local.faultSplit += 1
        let half = reply.count / 2
        connection.append(UnsafeRawBufferPointer(rebasing: reply[0..<half]))
        var rest = Array(reply[half...])
        if copies == 2 { rest += Array(reply) }
        connection.held = []
        connection.delayedPending += 1
        later.insert(Later(fd: connection.fd, serial: connection.serial, bytes: rest, draw: FaultDraw(), stream: 0,
                           splitRest: true),
                     due: MonotonicClock.now() &+ 1_000_000)
    }

    /// Answers a DoH stream: a 200 with the message (in two DATA frames under the split fault), or
    /// `RST_STREAM` under the reset fault. A duplicate cannot be sent over HTTP/2.
    private func deliverHTTP2(_ reply: [UInt8], draw: FaultDraw, stream: Int32, on connection: StreamConnection) {
        guard let http2 = connection.http2 else { return }
        if draw.reset {
            local.faultReset += 1
            http2.reset(stream)
            return
        }
        if draw.split { local.faultSplit += 1 }
        local.doh.answers += 1
        http2.respond(stream, status: 200, body: reply, split: draw.split)
        // Each answer in TLS records of its own: dnsperf 2.10 takes one DoH answer per SSL_read and
        // loses the others a record holds. (An error shows at the connection's next flush.)
        if http2.send(into: &connection.output) { _ = connection.flush() }
    }

    /// Sends the delayed answers and split halves whose time has come, each on its connection if it
    /// is still the same one.
    private func sendDue() {
        let now = MonotonicClock.now()
        var touched: [StreamConnection] = []
        while let due = later.earliest, due <= now {
            let item = later.removeEarliest()
            guard let connection = connections[item.fd], connection.serial == item.serial else { continue }
            connection.delayedPending -= 1
            if item.splitRest {
                let waiting = connection.held ?? []
                connection.held = nil
                item.bytes.withUnsafeBytes { connection.append($0) }
                waiting.withUnsafeBytes { connection.append($0) }
            } else if connection.kind == .doh {
                deliverHTTP2(item.bytes, draw: item.draw, stream: item.stream, on: connection)
            } else {
                item.bytes.withUnsafeBytes { deliver($0, draw: item.draw, on: connection) }
            }
            if !touched.contains(where: { $0 === connection }) { touched.append(connection) }
        }
        for connection in touched where connections[connection.fd] === connection {
            guard flush(connection) else { continue }
            if connection.peerClosed && connection.pendingOutput == 0 && connection.delayedPending == 0 {
                finish(connection, .byPeer)
            }
        }
    }

    /// Sends what the connection owes; false if it was closed (an error, the reset fault).
    private func flush(_ connection: StreamConnection) -> Bool {
        if let http2 = connection.http2 {
            guard http2.send(into: &connection.output) else {
                finish(connection, .reset)
                return false
            }
        }
        switch connection.flush() {
        case .bytes(let count):
            if count > 0 { connection.lastActive = MonotonicClock.now() }
        case .wouldBlock, .closed: break
        case .failed:
            finish(connection, .reset)
            return false
        }
        if connection.resetAfterFlush && connection.pendingOutput == 0 {
            finish(connection, .reset, abort: true)
            return false
        }
        // Over after a GOAWAY: nghttp2's for a protocol error, or the client's once every answer
        // owed is sent.
        if let http2 = connection.http2, connection.pendingOutput == 0,
            !http2.wantsMore || (http2.peerWentAway && connection.delayedPending == 0)
        {
            finish(connection, http2.peerWentAway ? .byPeer : .reset)
            return false
        }
        return true
    }

    /// Closes connections quiet for longer than the idle timeout, unless an answer is still owed.
    private func closeIdle() {
        let now = MonotonicClock.now()
        for connection in Array(connections.values)
        where connection.delayedPending == 0 && now &- connection.lastActive > idleNanos {
            finish(connection, .idle)
        }
    }

    private enum Ending { case byPeer, reset, idle, atStop }

    /// Closes the connection (with an RST when `abort`) and counts how it ended.
    private func finish(_ connection: StreamConnection, _ ending: Ending, abort: Bool = false) {
        guard connections[connection.fd] === connection else { return }
        connections[connection.fd] = nil
        if abort {
            var linger = linger(l_onoff: 1, l_linger: 0)
            setsockopt(connection.fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<linger>.size))
        }
        close(connection.fd)
        if let http2 = connection.http2 { local.doh.streamResets += http2.streamResets }
        switch ending {
        case .byPeer: local[connection.kind].closedByPeer += 1
        case .reset: local[connection.kind].resets += 1
        case .idle: local[connection.kind].idleClosed += 1
        case .atStop: local[connection.kind].closedAtStop += 1
        }
    }
}

extension DNSResponderCounters {
    /// The counters of one stream transport.
    subscript(kind: StreamKind) -> DNSStreamCounters {
        get {
            switch kind {
            case .tcp: tcp
            case .dot: dot
            case .doh: doh
            }
        }
        set {
            switch kind {
            case .tcp: tcp = newValue
            case .dot: dot = newValue
            case .doh: doh = newValue
            }
        }
    }
}
