import CSystemShims
import EventReactor

#if canImport(Glibc)
import Glibc
#endif

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

    private let receiveBuffers: UnsafeMutableRawPointer
    private let sendBuffers: UnsafeMutableRawPointer
    private let sources: UnsafeMutablePointer<sockaddr_in>
    private let receiveIOV: UnsafeMutablePointer<iovec>
    private let sendIOV: UnsafeMutablePointer<iovec>
    private let receiveHeaders: UnsafeMutablePointer<evq_mmsghdr>
    private let sendHeaders: UnsafeMutablePointer<evq_mmsghdr>

    /// A delayed answer: its bytes, where it goes, and how.
    private struct Delayed {
        var bytes: [UInt8]
        var destination: sockaddr_in
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
        let batch = Self.batch
        receiveBuffers = .allocate(byteCount: batch * Self.slot, alignment: 16)
        // Two send entries a datagram: an answer sent twice points both at the same buffer.
        sendBuffers = .allocate(byteCount: batch * Self.slot, alignment: 16)
        sources = .allocate(capacity: batch)
        receiveIOV = .allocate(capacity: batch)
        sendIOV = .allocate(capacity: 2 * batch)
        receiveHeaders = .allocate(capacity: batch)
        sendHeaders = .allocate(capacity: 2 * batch)
        for index in 0..<batch {
            receiveIOV[index] = iovec(iov_base: receiveBuffers + index * Self.slot, iov_len: Self.slot)
            receiveHeaders[index] = evq_mmsghdr()
        }
    }

    deinit {
        receiveBuffers.deallocate()
        sendBuffers.deallocate()
        sources.deallocate()
        receiveIOV.deallocate()
        sendIOV.deallocate()
        receiveHeaders.deallocate()
        sendHeaders.deallocate()
    }

    /// Serves until `stopFD` becomes readable. Runs on the worker's thread.
    func run(stopFD: Int32, name: String) {
        _ = evq_set_current_thread_name(String(name.prefix(15)))
        let epoll = evq_epoll_create()
        guard epoll >= 0 else { return }
        defer { close(epoll) }
        _ = evq_epoll_add_readable(epoll, fd, 0)
        _ = evq_epoll_add_readable(epoll, stopFD, 1)
        var tokens = [UInt32](repeating: 0, count: 4)
        while true {
            var timeout: Int32 = -1
            if let due = delayed.earliest {
                let now = MonotonicClock.now()
                timeout = due <= now ? 0 : Int32(clamping: (due - now + 999_999) / 1_000_000)
            }
            let ready = tokens.withUnsafeMutableBufferPointer {
                evq_epoll_wait_tokens(epoll, $0.baseAddress, 4, timeout)
            }
            if ready > 0 && tokens[0..<Int(ready)].contains(1) { return }
            sendDue()
            if ready > 0 { drain() }
        }
    }

    private func drain() {
        for _ in 0..<16 {
            for index in 0..<Self.batch {
                receiveHeaders[index].msg_hdr = msghdr(
                    msg_name: UnsafeMutableRawPointer(sources + index),
                    msg_namelen: socklen_t(MemoryLayout<sockaddr_in>.size),
                    msg_iov: receiveIOV + index, msg_iovlen: 1, msg_control: nil, msg_controllen: 0, msg_flags: 0)
            }
            let count = evq_recvmmsg(fd, receiveHeaders, UInt32(Self.batch), Int32(MSG_DONTWAIT), nil)
            guard count > 0 else { return }
            answer(Int(count))
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
            let query = UnsafeRawBufferPointer(start: receiveBuffers + index * Self.slot,
                                               count: Int(receiveHeaders[index].msg_len))
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
                delayed.insert(Delayed(bytes: Array(reply), destination: sources[index], copies: copies,
                                       wrongPort: draw.wrongSourcePort), due: MonotonicClock.now() &+ delay)
                continue
            }
            if draw.wrongSourcePort {
                wrongPort.append((index, length, copies))
                continue
            }
            for _ in 0..<copies {
                sendIOV[entries] = iovec(iov_base: out.baseAddress, iov_len: length)
                sendHeaders[entries] = evq_mmsghdr(
                    msg_hdr: msghdr(
                        msg_name: UnsafeMutableRawPointer(sources + index),
                        msg_namelen: socklen_t(MemoryLayout<sockaddr_in>.size), msg_iov: sendIOV + entries,
                        msg_iovlen: 1, msg_control: nil, msg_controllen: 0, msg_flags: 0),
                    msg_len: 0)
                entries += 1
            }
        }
        // Counted before sending, so that a client holding an answer sees it counted.
        counters.withLock { $0 = $0 + local }
        var sent = 0
        while sent < entries {
            let rc = evq_sendmmsg(fd, sendHeaders + sent, UInt32(entries - sent), 0)
            if rc <= 0 {
                // A full send buffer or another error: the rest of the batch is lost, and counted.
                let lost = entries - sent
                counters.withLock { $0.sendErrors += lost }
                break
            }
            sent += Int(rc)
        }
        // Answers from another port leave from the other socket (rare: only under that fault).
        for answer in wrongPort {
            let bytes = UnsafeRawBufferPointer(start: sendBuffers + answer.index * Self.slot, count: answer.length)
            for _ in 0..<answer.copies where !sendOne(bytes, to: sources[answer.index], from: otherFD) {
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
                for _ in 0..<answer.copies where !sendOne(bytes, to: answer.destination,
                                                         from: answer.wrongPort ? otherFD : fd) {
                    errors += 1
                }
            }
        }
        if errors > 0 { counters.withLock { $0.sendErrors += errors } }
    }

    private func sendOne(_ bytes: UnsafeRawBufferPointer, to destination: sockaddr_in, from socket: Int32) -> Bool {
        var destination = destination
        let rc = withUnsafePointer(to: &destination) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(socket, bytes.baseAddress, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return rc == bytes.count
    }
}
