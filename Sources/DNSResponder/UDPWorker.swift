import EventReactor
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// One UDP thread of the responder: its own `SO_REUSEPORT` socket, drained with `recvmmsg` and
/// answered with `sendmmsg` from buffers allocated once, so a packet costs no allocation; faults
/// drawn per query; delayed answers kept in a bounded queue. Thread-bound: after `init`, only the
/// worker's thread touches it (hence `@unchecked Sendable`), except `counters`, which is locked.
///
/// With `receiveCoalescing`, a client's UDP GSO message of queries arrives as one message of the
/// receive batch (UDP GRO) and each query in it is answered on its own. With `segmentOffload`, the
/// answers are written back to back, and a run of equal-length answers to one client leaves as one
/// message the kernel cuts into datagrams (UDP GSO): one pass down the stack for the run.
final class UDPWorker: @unchecked Sendable {
    static let batch = 64
    static let slot = 4096
    /// Answers written per send at most: each needs `slot` bytes free to be written into.
    static let arenaBytes = batch * slot
    /// Datagrams per segmented answer message (as the engine's `UDPSendBatch.maxSegments`: under the
    /// segment cap of any kernel with UDP GSO).
    static let maxSegments = 60
    /// The longest answer sent in a run: a segment cannot be fragmented, so it must fit the path's
    /// MTU (1,232 bytes fit the IPv6 minimum of 1,280 with the headers); a longer one goes alone.
    static let maxSegmentLength = 1_232
    /// The most bytes of answers in one run: the kernel refuses a segmented message over one IP
    /// datagram's 64 KiB (`EMSGSIZE`).
    static let maxRunBytes = 65_000

    let fd: Int32
    /// The socket "wrong source port" answers leave from (bound to another, kernel-chosen port).
    let otherFD: Int32
    let counters = Locked(DNSResponderCounters())
    private let book: AnswerBook
    private let faults: DNSFaults
    private let faultsOn: Bool
    private let maxDelayed: Int
    private var rng: SplitMix64
    private var malformedTurn: UInt64 = 0
    /// `DNSFaults.maxQPS`: this thread's share, a token bucket (tokens are queries) refilled as the
    /// clock moves; 0 is no limit.
    private let rateLimit: Double
    private var tokens = 0.0
    private var tokensAt: UInt64 = 0
    /// Whether runs of equal-length answers to one client leave as one segmented message.
    private var segmentOffload: Bool

    /// Queries read by one `recvmmsg`, with their sources: a query each, or several coalesced.
    private let incoming: DatagramBatch
    /// Answers, back to back, from the start until `written`; sent by `sendmmsg` from `outgoing`,
    /// a message (one iovec) per answer or per run of equal-length answers to one client.
    private let sendBuffers: UnsafeMutableRawPointer
    private var written = 0
    private let outgoing: DatagramBatch
    /// Per message of `outgoing`: the answers it holds, and the message of `incoming` whose
    /// source it goes to.
    private let messageSegments: UnsafeMutablePointer<Int>
    private let messageSource: UnsafeMutablePointer<Int>
    private var messages = 0
    /// The run of answers the last message of `outgoing` holds, while it may still grow: its
    /// answers' length (0: none open).
    private var runLength = 0
    /// Answers from another port, sent with the batch (start in `sendBuffers`, length, copies, source).
    private var wrongPort: [(start: Int, length: Int, copies: Int, source: Int)] = []
    /// Counted with the batch, before it is sent. Thread-bound and never passed `inout` twice at
    /// once: no dynamic exclusivity check on each count.
    @exclusivity(unchecked) private var local = DNSResponderCounters()

    /// A delayed answer: its bytes, where it goes, and how.
    private struct Delayed {
        var bytes: [UInt8]
        var destination: DatagramAddress
        var copies: Int
        var wrongPort: Bool
    }
    private var delayed = DeadlineHeap<Delayed>()

    init(fd: Int32, otherFD: Int32, book: AnswerBook, configuration: DNSResponder.Configuration, index: Int) {
        self.fd = fd
        self.otherFD = otherFD
        self.book = book
        faults = configuration.faults
        faultsOn = configuration.faults.any
        rateLimit = configuration.faults.maxQPS.map { $0 / Double(max(1, configuration.threads)) } ?? 0
        maxDelayed = configuration.maxDelayed
        rng = SplitMix64(seed: configuration.seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        // Refused by a kernel before 5.0: queries then come one per message, read the same way.
        let coalescing = configuration.receiveCoalescing && DatagramBatch.enableReceiveCoalescing(on: fd)
        incoming = DatagramBatch(capacity: Self.batch, slotSize: coalescing ? DatagramBatch.maxCoalescedBytes : Self.slot,
                                 addressed: true, coalescing: coalescing)
        segmentOffload = configuration.segmentOffload && DatagramBatch.segmentOffloadSupported(on: fd)
        if configuration.segmentOffload && !segmentOffload { counters.withLock { $0.segmentOffloadRefused += 1 } }
        sendBuffers = .allocate(byteCount: Self.arenaBytes, alignment: 16)
        outgoing = DatagramBatch(capacity: 2 * Self.batch, segmentable: true)
        messageSegments = .allocate(capacity: outgoing.capacity)
        messageSource = .allocate(capacity: outgoing.capacity)
    }

    deinit {
        sendBuffers.deallocate()
        messageSegments.deallocate()
        messageSource.deallocate()
    }

    /// Serves until `stopFD` becomes readable. Runs on the worker's thread.
    func run(stopFD: Int32, name: String) {
        ProcessCalls.setCurrentThreadName(name)
        guard let readiness = try? ReadinessSet() else { return }
        try? readiness.watchReadable(fd, token: 0)
        try? readiness.watchReadable(stopFD, token: 1)
        while true {
            var timeout: Int32 = -1
            if let due = delayed.earliest {
                let now = MonotonicClock.now()
                timeout = due <= now ? 0 : Int32(clamping: (due - now + 999_999) / 1_000_000)
            }
            var stop = false
            let ready = readiness.wait(timeoutMillis: timeout, max: 4) { token in stop = stop || token == 1 }
            if stop { return }
            sendDue()
            if ready > 0 { drain() }
        }
    }

    private func drain() {
        for _ in 0..<16 {
            guard let count = try? incoming.receive(on: fd), count > 0 else { return }
            answer(count)
            if count < Self.batch { return }
        }
    }

    /// Answers the `count` messages just received (each a query, or several coalesced), with one
    /// `sendmmsg` for the answers sent at once (more when they fill the buffers).
    private func answer(_ count: Int) {
        if rateLimit > 0 {
            let now = MonotonicClock.now()
            tokens = min(max(1, rateLimit / 10), tokens + Double(now &- tokensAt) * rateLimit / 1e9)
            tokensAt = now
        }
        for index in 0..<count {
            let coalesced = incoming.segmentSize(index) > 0
            _ = incoming.forEachDatagram(in: index) { query, _ in
                if coalesced { local.receivedCoalesced += 1 }
                answer(query, from: index)
                return true
            }
        }
        sendWritten()
    }

    /// Answers one query from the source of message `source` of `incoming`: writes the answer after
    /// the last one and adds it to the messages to send, or delays or drops it as the faults say.
    private func answer(_ query: UnsafeRawBufferPointer, from source: Int) {
        if rateLimit > 0 {
            guard tokens >= 1 else {
                local.received += 1
                local.faultRateLimited += 1
                return
            }
            tokens -= 1
        }
        let draw = faultsOn ? FaultDraw(faults, using: &rng) : FaultDraw()
        if draw.drop {
            local.received += 1
            local.faultDropped += 1
            return
        }
        if Self.arenaBytes - written < Self.slot || messages + 2 > outgoing.capacity { sendWritten() }
        let out = UnsafeMutableRawBufferPointer(start: sendBuffers + written, count: Self.slot)
        guard case .reply(var length) = AnswerWriter.answer(query, book: book, into: out, tcp: false,
                                                            counters: &local)
        else { return }
        if draw.change != .none {
            malformedTurn &+= 1
            length = FaultApplier.apply(draw.change, to: out, length: length, variant: malformedTurn,
                                        counters: &local)
        }
        let copies = draw.duplicate ? 2 : 1
        if draw.duplicate { local.faultDuplicated += 1 }
        if draw.wrongSourcePort { local.faultWrongSourcePort += 1 }
        if let delay = draw.delayNanos {
            guard delayed.count < maxDelayed else {
                local.delayQueueFull += 1
                return
            }
            local.faultDelayed += 1
            let reply = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out)[0..<length])
            delayed.insert(Delayed(bytes: Array(reply), destination: incoming.address(source), copies: copies,
                                   wrongPort: draw.wrongSourcePort), due: MonotonicClock.now() &+ delay)
            return
        }
        if draw.wrongSourcePort {
            wrongPort.append((written, length, copies, source))
            runLength = 0
        } else if copies == 1, segmentOffload, runLength == length, messages > 0,
                  messageSegments[messages - 1] < Self.maxSegments,
                  (messageSegments[messages - 1] + 1) * length <= Self.maxRunBytes,
                  source == messageSource[messages - 1] || incoming.hasSameAddress(source, as: messageSource[messages - 1])
        {
            // The open run grows by one answer, written right after it.
            messageSegments[messages - 1] += 1
        } else {
            for _ in 0..<copies { addMessage(at: written, length: length, to: source) }
            runLength = copies == 1 && length <= Self.maxSegmentLength ? length : 0
        }
        written += length
    }

    /// A message of one answer (which may grow into a run), `length` bytes at `start`.
    private func addMessage(at start: Int, length: Int, to source: Int) {
        messageSegments[messages] = 1
        messageSource[messages] = source
        outgoing.setVector(messages, sendBuffers + start, length: length)
        messages += 1
    }

    /// Sends the answers written since the last send, the counters first (so that a client holding
    /// an answer sees it counted; lost answers are counted after); then starts the buffers over.
    private func sendWritten() {
        var sent = 0, errors = 0
        for message in 0..<messages {
            let segments = messageSegments[message]
            if segments > 1 {
                local.sentSegmented += segments
                // A run: one iovec over its answers; the kernel cuts it at the answers' length.
                let length = outgoing.vector(message).count
                outgoing.setVectorLength(message, length * segments)
                outgoing.setMessage(message, firstVector: message, segmentSize: length, to: incoming,
                                    addressOf: messageSource[message])
            } else {
                outgoing.setMessage(message, firstVector: message, to: incoming, addressOf: messageSource[message])
            }
        }
        counters.withLock { $0 = $0 + local }
        local = DNSResponderCounters()
        while sent < messages {
            switch outgoing.send(on: fd, from: sent, count: messages - sent) {
            case .sent(let n):
                sent += n
            case .failed(let code) where messageSegments[sent] > 1 && (code == EIO || code == EINVAL):
                // The kernel does not segment here: this run one datagram at a time, and every
                // answer alone from now on.
                segmentOffload = false
                let segments = messageSegments[sent]
                counters.withLock {
                    $0.segmentOffloadRefused += 1
                    $0.sentSegmented -= segments
                }
                let run = outgoing.vector(sent), length = run.count / segments
                for segment in 0..<segments {
                    let bytes = UnsafeRawBufferPointer(rebasing: run[(segment * length)..<((segment + 1) * length)])
                    if !Socket.send(fd, bytes, to: incoming.address(messageSource[sent])) { errors += 1 }
                }
                sent += 1
            case .wouldBlock, .failed:
                // A full send buffer or another error: the rest of the batch is lost, and counted.
                for message in sent..<messages { errors += messageSegments[message] }
                sent = messages
            }
        }
        // Answers from another port leave from the other socket (rare: only under that fault).
        for answer in wrongPort {
            let bytes = UnsafeRawBufferPointer(start: sendBuffers + answer.start, count: answer.length)
            for _ in 0..<answer.copies where !Socket.send(otherFD, bytes, to: incoming.address(answer.source)) {
                errors += 1
            }
        }
        if errors > 0 { counters.withLock { $0.sendErrors += errors } }
        wrongPort.removeAll(keepingCapacity: true)
        messages = 0
        written = 0
        runLength = 0
    }

    /// Sends the delayed answers whose time has come.
    private func sendDue() {
        guard let first = delayed.earliest, first <= MonotonicClock.now() else { return }
        var errors = 0
        let now = MonotonicClock.now()
        while let due = delayed.earliest, due <= now {
            let answer = delayed.removeEarliest()
            answer.bytes.withUnsafeBytes { bytes in
                for _ in 0..<answer.copies where !Socket.send(answer.wrongPort ? otherFD : fd, bytes,
                                                              to: answer.destination) {
                    errors += 1
                }
            }
        }
        if errors > 0 { counters.withLock { $0.sendErrors += errors } }
    }
}
