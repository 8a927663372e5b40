import EventReactor
import LinuxSystem

/// One UDP thread of the responder: its own `SO_REUSEPORT` socket, drained with `recvmmsg` and
/// answered with `sendmmsg` from buffers allocated once, so a packet costs no allocation; faults
/// drawn per query; delayed answers kept in a bounded queue. Thread-bound: after `init`, only the
/// worker's thread touches it (hence `@unchecked Sendable`), except `counters`, which is locked.
final class UDPWorker: @unchecked Sendable {
    static let batch = 64
    static let slot = 4096

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

    /// Queries read by one `recvmmsg`, with their sources.
    private let incoming: DatagramBatch
    /// Answers to them (a slot per query), sent by `sendmmsg`: two entries a datagram at most, as
    /// an answer sent twice points both at the same slot.
    private let sendBuffers: UnsafeMutableRawPointer
    private let outgoing: DatagramBatch

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
        incoming = DatagramBatch(capacity: Self.batch, slotSize: Self.slot, addressed: true)
        sendBuffers = .allocate(byteCount: Self.batch * Self.slot, alignment: 16)
        outgoing = DatagramBatch(capacity: 2 * Self.batch)
    }

    deinit {
        sendBuffers.deallocate()
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

    /// Answers the `count` datagrams just received, with one `sendmmsg` for those sent at once.
    private func answer(_ count: Int) {
        var local = DNSResponderCounters()
        var entries = 0
        var wrongPort: [(index: Int, length: Int, copies: Int)] = []
        if rateLimit > 0 {
            let now = MonotonicClock.now()
            tokens = min(max(1, rateLimit / 10), tokens + Double(now &- tokensAt) * rateLimit / 1e9)
            tokensAt = now
        }
        for index in 0..<count {
            if rateLimit > 0 {
                guard tokens >= 1 else {
                    local.received += 1
                    local.faultRateLimited += 1
                    continue
                }
                tokens -= 1
            }
            let query = incoming.datagram(index)
            let out = UnsafeMutableRawBufferPointer(start: sendBuffers + index * Self.slot, count: Self.slot)
            let draw = faultsOn ? FaultDraw(faults, using: &rng) : FaultDraw()
            if draw.drop {
                local.received += 1
                local.faultDropped += 1
                continue
            }
            guard case .reply(var length) = AnswerWriter.answer(query, book: book, into: out, tcp: false,
                                                                counters: &local)
            else { continue }
            if draw.change != .none {
                malformedTurn &+= 1
                length = FaultApplier.apply(draw.change, to: out, length: length, variant: malformedTurn,
                                            counters: &local)
            }
            let copies = draw.duplicate ? 2 : 1
            if draw.duplicate { local.faultDuplicated += 1 }
            if draw.wrongSourcePort { local.faultWrongSourcePort += 1 }
            let reply = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(out)[0..<length])
            if let delay = draw.delayNanos {
                guard delayed.count < maxDelayed else {
                    local.delayQueueFull += 1
                    continue
                }
                local.faultDelayed += 1
                delayed.insert(Delayed(bytes: Array(reply), destination: incoming.address(index), copies: copies,
                                       wrongPort: draw.wrongSourcePort), due: MonotonicClock.now() &+ delay)
                continue
            }
            if draw.wrongSourcePort {
                wrongPort.append((index, length, copies))
                continue
            }
            for _ in 0..<copies {
                outgoing.setVector(entries, out.baseAddress!, length: length)
                outgoing.setMessage(entries, firstVector: entries, to: incoming, addressOf: index)
                entries += 1
            }
        }
        // Counted before sending, so that a client holding an answer sees it counted.
        counters.withLock { $0 = $0 + local }
        var sent = 0
        while sent < entries {
            guard case .sent(let n) = outgoing.send(on: fd, from: sent, count: entries - sent) else {
                // A full send buffer or another error: the rest of the batch is lost, and counted.
                let lost = entries - sent
                counters.withLock { $0.sendErrors += lost }
                break
            }
            sent += n
        }
        // Answers from another port leave from the other socket (rare: only under that fault).
        for answer in wrongPort {
            let bytes = UnsafeRawBufferPointer(start: sendBuffers + answer.index * Self.slot, count: answer.length)
            for _ in 0..<answer.copies where !Socket.send(otherFD, bytes, to: incoming.address(answer.index)) {
                counters.withLock { $0.sendErrors += 1 }
            }
        }
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
