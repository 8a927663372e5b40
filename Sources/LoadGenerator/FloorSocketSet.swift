import Atomics
import CSystemShims
import DNSQuery
import EventReactor

#if canImport(Glibc)
import Glibc
#endif

/// One thread's share of the floor engine (`evq load --engine floor`): a few connected UDP sockets
/// and the closed loop over them. Each socket keeps its share of the outstanding count in flight;
/// a query is its prebuilt wire bytes with the 2-byte id patched in, sent in batches by `sendmmsg`;
/// replies are drained by `recvmmsg` into reused buffers and matched by socket and id only (the
/// rcode nibble is the one other thing read); a periodic sweep ends the overdue ones as timeouts.
/// Nothing is allocated per query: the id tables and the batch buffers are allocated once.
///
/// Thread rule: built on the caller's thread, then used by one thread at a time — `run` on its
/// own thread, the counters read after that thread has been joined.
final class FloorSocketSet: @unchecked Sendable {
    /// Queries per `sendmmsg` and replies per `recvmmsg`.
    static let batch = 64
    /// Bytes kept of each reply (only the header is read; a longer datagram is cut, not split).
    static let receiveBytes = 512
    /// A socket's ids are 16 bits: its table has a slot per id.
    static let idSpace = 65_536
    /// The most queries one socket keeps in flight (ids must stay free to skip busy ones).
    static let perSocketLimit = 32_768

    let sockets: [Int32]
    private let epoll: Int32
    private let queries: FloorQueries
    private let shard: LoadRecorder.Shard
    private let gauge: ManagedAtomic<Int>

    /// Per socket × id: the send time in monotonic ns, 0 when the id is free.
    private let sendTimes: UnsafeMutablePointer<UInt64>
    /// Per socket × id: the id's position in `inFlightIDs` while in flight.
    private let positions: UnsafeMutablePointer<Int32>
    /// Per socket: its in-flight ids, densely packed (stride `perSocketLimit`).
    private let inFlightIDs: UnsafeMutablePointer<UInt16>
    private let inFlight: UnsafeMutablePointer<Int>
    private let targets: UnsafeMutablePointer<Int>
    private let nextIDs: UnsafeMutablePointer<UInt16>

    private let sendBuffers: UnsafeMutableRawPointer
    private let sendVectors: UnsafeMutablePointer<iovec>
    private let sendMessages: UnsafeMutablePointer<evq_mmsghdr>
    private let sendIDs: UnsafeMutablePointer<UInt16>
    private let receiveBuffers: UnsafeMutableRawPointer
    private let receiveVectors: UnsafeMutablePointer<iovec>
    private let receiveMessages: UnsafeMutablePointer<evq_mmsghdr>
    private let readyTokens: UnsafeMutablePointer<UInt32>

    /// The workload position: this thread asks queries `first`, `first + step`, … round-robin.
    private var cursor: Int
    private let step: Int
    private var totalInFlight = 0

    /// Queries sent (each one successfully handed to `sendmmsg`).
    private(set) var sent = 0
    /// Replies matched to an in-flight id.
    private(set) var replies = 0
    /// Queries ended by the sweep.
    private(set) var timeouts = 0
    /// Replies whose id was not in flight on their socket (late after a timeout, or stray), or
    /// shorter than a header: counted, not matched.
    private(set) var unmatched = 0
    /// `recvmmsg`/`sendmmsg` failures other than "would block" (e.g. ECONNREFUSED from an ICMP
    /// port-unreachable), and the last errno seen.
    private(set) var socketErrors = 0
    private(set) var lastErrno: Int32 = 0

    /// Opens `outstanding`'s share of sockets to `server` and allocates every table once.
    /// - Parameters:
    ///   - outstanding: the queries this thread keeps in flight.
    ///   - socketCount: connected UDP sockets (kernel-chosen ports); each keeps an equal share.
    ///   - first: the index of this thread's first workload query; `step`: the stride between its queries.
    /// - Throws: `LoadRun.Failure` with the errno of the call that failed.
    init(server: DNSServer, outstanding: Int, socketCount: Int, queries: FloorQueries, first: Int, step: Int,
         shard: LoadRecorder.Shard, gauge: ManagedAtomic<Int>) throws(LoadRun.Failure) {
        precondition(socketCount > 0 && outstanding <= socketCount * Self.perSocketLimit)
        self.queries = queries
        self.shard = shard
        self.gauge = gauge
        cursor = first % queries.count
        self.step = step
        let count = socketCount
        sendTimes = .allocate(capacity: count * Self.idSpace)
        sendTimes.initialize(repeating: 0, count: count * Self.idSpace)
        positions = .allocate(capacity: count * Self.idSpace)
        positions.initialize(repeating: 0, count: count * Self.idSpace)
        inFlightIDs = .allocate(capacity: count * Self.perSocketLimit)
        inFlightIDs.initialize(repeating: 0, count: count * Self.perSocketLimit)
        inFlight = .allocate(capacity: count)
        inFlight.initialize(repeating: 0, count: count)
        targets = .allocate(capacity: count)
        nextIDs = .allocate(capacity: count)
        for index in 0..<count {
            (targets + index).initialize(to: outstanding / count + (index < outstanding % count ? 1 : 0))
            (nextIDs + index).initialize(to: UInt16(truncatingIfNeeded: index &* 7919))
        }
        let batch = Self.batch, bytes = Self.receiveBytes
        sendBuffers = .allocate(byteCount: batch * FloorQueries.maxBytes, alignment: 16)
        receiveBuffers = .allocate(byteCount: batch * bytes, alignment: 16)
        sendVectors = .allocate(capacity: batch)
        receiveVectors = .allocate(capacity: batch)
        sendMessages = .allocate(capacity: batch)
        receiveMessages = .allocate(capacity: batch)
        sendIDs = .allocate(capacity: batch)
        sendIDs.initialize(repeating: 0, count: batch)
        readyTokens = .allocate(capacity: 64)
        readyTokens.initialize(repeating: 0, count: 64)
        for index in 0..<batch {
            let query = sendBuffers + index * FloorQueries.maxBytes
            (sendVectors + index).initialize(to: iovec(iov_base: query, iov_len: 0))
            (receiveVectors + index).initialize(to: iovec(iov_base: receiveBuffers + index * bytes, iov_len: bytes))
            var send = evq_mmsghdr()
            send.msg_hdr.msg_iov = sendVectors + index
            send.msg_hdr.msg_iovlen = 1
            (sendMessages + index).initialize(to: send)
            var receive = evq_mmsghdr()
            receive.msg_hdr.msg_iov = receiveVectors + index
            receive.msg_hdr.msg_iovlen = 1
            (receiveMessages + index).initialize(to: receive)
        }
        var opened: [Int32] = []
        var epollFD: Int32 = -1
        do throws(LoadRun.Failure) {
            epollFD = evq_epoll_create()
            guard epollFD >= 0 else { throw FloorSocketSet.failure("epoll_create1") }
            for index in 0..<count {
                let fd = try FloorSocketSet.connectedSocket(to: server)
                opened.append(fd)
                guard evq_epoll_add_readable(epollFD, fd, UInt32(index)) == 0 else {
                    throw FloorSocketSet.failure("epoll_ctl")
                }
            }
        } catch {
            for fd in opened { close(fd) }
            if epollFD >= 0 { close(epollFD) }
            sockets = []
            epoll = -1
            throw error
        }
        sockets = opened
        epoll = epollFD
    }

    deinit {
        for fd in sockets { close(fd) }
        if epoll >= 0 { close(epoll) }
        sendTimes.deallocate()
        positions.deallocate()
        inFlightIDs.deallocate()
        inFlight.deallocate()
        targets.deallocate()
        nextIDs.deallocate()
        sendBuffers.deallocate()
        receiveBuffers.deallocate()
        sendVectors.deallocate()
        receiveVectors.deallocate()
        sendMessages.deallocate()
        receiveMessages.deallocate()
        sendIDs.deallocate()
        readyTokens.deallocate()
    }

    /// A failure naming the call and keeping its errno.
    static func failure(_ call: String, _ code: Int32 = errno) -> LoadRun.Failure {
        LoadRun.Failure("floor: \(call) failed: \(String(cString: strerror(code))) (errno \(code))")
    }

    /// A non-blocking UDP socket `connect()`ed to `server` from a kernel-chosen port, with 4 MiB
    /// receive and send buffers (DNSQuery's `Syscalls.connectedSocket`: the engines open alike).
    static func connectedSocket(to server: DNSServer) throws(LoadRun.Failure) -> Int32 {
        do {
            return try Syscalls.connectedSocket(to: server, stream: false, receiveBuffer: 4 << 20, sendBuffer: 4 << 20)
        } catch {
            throw failure("\(error.call)", error.errno)
        }
    }

    /// Runs the closed loop on the calling thread: sends until `stopAt` (monotonic ns) or `quota`
    /// queries, then waits until every query has a reply or has timed out. Every sent query ends
    /// exactly once, as a reply (its rcode's outcome) or a timeout, recorded into the shard.
    func run(stopAt: UInt64, quota: Int, timeoutNanos: UInt64) {
        let sweepEvery = max(1_000_000, min(timeoutNanos / 10, 10_000_000))
        var now = MonotonicClock.now()
        var nextSweep = now + sweepEvery
        for index in sockets.indices { fill(index, now: now, stopAt: stopAt, quota: quota) }
        while true {
            now = MonotonicClock.now()
            gauge.store(totalInFlight, ordering: .relaxed)
            if totalInFlight == 0 && (now >= stopAt || sent >= quota) { break }
            if now >= nextSweep {
                sweep(now: now, timeoutNanos: timeoutNanos)
                for index in sockets.indices { fill(index, now: now, stopAt: stopAt, quota: quota) }
                nextSweep = now + sweepEvery
                continue
            }
            let waitMillis = Int32((nextSweep - now + 999_999) / 1_000_000)
            let ready = evq_epoll_wait_tokens(epoll, readyTokens, Int32(sockets.count), waitMillis)
            for slot in 0..<max(0, Int(ready)) {
                drain(Int(readyTokens[slot]), stopAt: stopAt, quota: quota)
            }
        }
        gauge.store(0, ordering: .relaxed)
    }

    /// Sends as many queries on socket `index` as its share lacks (at most one batch), by one `sendmmsg`.
    private func fill(_ index: Int, now: UInt64, stopAt: UInt64, quota: Int) {
        guard now < stopAt else { return }
        let want = min(targets[index] - inFlight[index], Self.batch, quota - sent)
        guard want > 0 else { return }
        let table = index * Self.idSpace
        var id = nextIDs[index]
        for slot in 0..<want {
            while sendTimes[table + Int(id)] != 0 { id &+= 1 }
            let buffer = sendBuffers + slot * FloorQueries.maxBytes
            let length = queries.copy(cursor, into: buffer)
            buffer.storeBytes(of: id.bigEndian, as: UInt16.self)
            sendVectors[slot].iov_len = length
            sendIDs[slot] = id
            id &+= 1
            cursor += step
            if cursor >= queries.count { cursor %= queries.count }
        }
        nextIDs[index] = id
        let stamp = MonotonicClock.now()
        let done = evq_sendmmsg(sockets[index], sendMessages, UInt32(want), 0)
        if done < 0 { noteError() }
        let dense = index * Self.perSocketLimit
        for slot in 0..<max(0, Int(done)) {
            let id = Int(sendIDs[slot])
            sendTimes[table + id] = stamp
            positions[table + id] = Int32(inFlight[index])
            inFlightIDs[dense + inFlight[index]] = UInt16(id)
            inFlight[index] += 1
        }
        sent += max(0, Int(done))
        totalInFlight += max(0, Int(done))
    }

    /// Reads socket `index`'s replies, a batch per `recvmmsg`, until it has none; refills after each batch.
    private func drain(_ index: Int, stopAt: UInt64, quota: Int) {
        let fd = sockets[index]
        let table = index * Self.idSpace
        while true {
            let count = evq_recvmmsg(fd, receiveMessages, UInt32(Self.batch), Int32(MSG_DONTWAIT), nil)
            if count <= 0 {
                if count < 0 { noteError() }
                return
            }
            let now = MonotonicClock.now()
            for slot in 0..<Int(count) {
                let header = receiveBuffers + slot * Self.receiveBytes
                guard receiveMessages[slot].msg_len >= 12 else {
                    unmatched += 1
                    continue
                }
                let id = Int(UInt16(bigEndian: header.loadUnaligned(as: UInt16.self)))
                guard sendTimes[table + id] != 0 else {
                    unmatched += 1
                    continue
                }
                replies += 1
                let rcode = header.load(fromByteOffset: 3, as: UInt8.self)
                finish(index, id: id, now: now, outcome: Self.outcome(rcode: rcode))
            }
            fill(index, now: now, stopAt: stopAt, quota: quota)
            if Int(count) < Self.batch { return }
        }
    }

    /// Ends every query sent `timeoutNanos` or more ago as a timeout (its id is free again after).
    private func sweep(now: UInt64, timeoutNanos: UInt64) {
        for index in sockets.indices {
            let table = index * Self.idSpace, dense = index * Self.perSocketLimit
            var position = inFlight[index] - 1
            // Backwards, so the swap-removal in `finish` only moves entries already looked at.
            while position >= 0 {
                let id = Int(inFlightIDs[dense + position])
                if now &- sendTimes[table + id] >= timeoutNanos {
                    timeouts += 1
                    finish(index, id: id, now: now, outcome: .timeout)
                }
                position -= 1
            }
        }
    }

    /// Frees `id` on socket `index` (swap-removal from the dense list) and records the outcome.
    private func finish(_ index: Int, id: Int, now: UInt64, outcome: LoadOutcome) {
        let table = index * Self.idSpace, dense = index * Self.perSocketLimit
        let sentAt = sendTimes[table + id]
        sendTimes[table + id] = 0
        let position = Int(positions[table + id])
        let last = inFlight[index] - 1
        let moved = inFlightIDs[dense + last]
        inFlightIDs[dense + position] = moved
        positions[table + Int(moved)] = Int32(position)
        inFlight[index] = last
        totalInFlight -= 1
        shard.recordQuery(latencyNanos: now &- sentAt, outcome: outcome)
    }

    private func noteError() {
        let code = errno
        guard code != EAGAIN && code != EWOULDBLOCK && code != EINTR else { return }
        socketErrors += 1
        lastErrno = code
    }

    /// The report's outcome for a reply's rcode (the low nibble of header byte 3).
    static func outcome(rcode byte: UInt8) -> LoadOutcome {
        switch byte & 0x0F {
        case 0: .answered
        case 2: .servfail
        case 3: .nxdomain
        case 5: .refused
        default: .error
        }
    }
}
