import Atomics
import DNSQuery
import EventReactor
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// One thread's share of the floor engine (`evq load --engine floor`): a few connected UDP sockets
/// and the closed loop over them. Each socket keeps its share of the outstanding count in flight;
/// a query is its prebuilt wire bytes with the 2-byte id patched in, sent in batches by `sendmmsg`;
/// replies are drained by `recvmmsg` into reused buffers and matched by socket and id only (the
/// header's rcode nibble and answer count are the other things read: the rcode and NODATA); a
/// periodic sweep ends the overdue ones as timeouts.
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
    private let readiness: ReadinessSet
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

    /// A batch of queries (one slot each) for `sendmmsg`, and of replies for `recvmmsg`.
    private let outgoing: DatagramBatch
    private let sendIDs: UnsafeMutablePointer<UInt16>
    private let incoming: DatagramBatch

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
    ///   - sources: source addresses, socket `i` bound to `sources[(firstSource + i) % count]`; empty:
    ///     the kernel picks.
    ///   - first: the index of this thread's first workload query; `step`: the stride between its queries.
    /// - Throws: `LoadRun.Failure` with the errno of the call that failed.
    init(server: DNSServer, sources: [DNSServer], firstSource: Int, outstanding: Int, socketCount: Int,
         queries: FloorQueries, first: Int, step: Int,
         shard: LoadRecorder.Shard, gauge: ManagedAtomic<Int>) throws(LoadRun.Failure) {
        precondition(socketCount > 0 && outstanding <= socketCount * Self.perSocketLimit)
        // The sockets first: nothing is allocated yet when one cannot be opened.
        var opened: [Int32] = []
        do throws(SystemError) {
            readiness = try ReadinessSet()
            for index in 0..<socketCount {
                let source = sources.isEmpty ? nil : sources[(firstSource + index) % sources.count]
                opened.append(try server.connectedSocket(stream: false, receiveBuffer: 4 << 20, sendBuffer: 4 << 20,
                                                         from: source))
                try readiness.watchReadable(opened[index], token: UInt32(index))
            }
        } catch {
            for fd in opened { Socket.close(fd) }
            throw LoadRun.Failure("floor: \(error)")
        }
        sockets = opened
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
        outgoing = DatagramBatch(capacity: Self.batch, slotSize: FloorQueries.maxBytes)
        incoming = DatagramBatch(capacity: Self.batch, slotSize: Self.receiveBytes)
        sendIDs = .allocate(capacity: Self.batch)
        sendIDs.initialize(repeating: 0, count: Self.batch)
    }

    deinit {
        for fd in sockets { Socket.close(fd) }
        sendTimes.deallocate()
        positions.deallocate()
        inFlightIDs.deallocate()
        inFlight.deallocate()
        targets.deallocate()
        nextIDs.deallocate()
        sendIDs.deallocate()
    }

    /// Runs the closed loop on the calling thread: sends until `stopAt` (monotonic ns), `quota`
    /// queries or `stopped` (read once a wait, at least every sweep), then waits until every query
    /// has a reply or has timed out. Every sent query ends exactly once, as a reply (its rcode's
    /// outcome) or a timeout, recorded into the shard.
    func run(stopAt end: UInt64, stopped: ManagedAtomic<Bool>, quota: Int, timeoutNanos: UInt64) {
        let sweepEvery = max(1_000_000, min(timeoutNanos / 10, 10_000_000))
        var stopAt = stopped.load(ordering: .relaxed) ? 0 : end
        var now = MonotonicClock.now()
        var nextSweep = now + sweepEvery
        for index in sockets.indices { fill(index, now: now, stopAt: stopAt, quota: quota) }
        while true {
            if stopAt != 0 && stopped.load(ordering: .relaxed) { stopAt = 0 }
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
            readiness.wait(timeoutMillis: waitMillis, max: sockets.count) { token in
                drain(Int(token), stopAt: stopAt, quota: quota)
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
            let buffer = outgoing.slot(slot)
            let length = queries.copy(cursor, into: buffer)
            buffer.storeBytes(of: id.bigEndian, as: UInt16.self)
            outgoing.setVectorLength(slot, length)
            sendIDs[slot] = id
            id &+= 1
            cursor += step
            if cursor >= queries.count { cursor %= queries.count }
        }
        nextIDs[index] = id
        let stamp = MonotonicClock.now()
        let done: Int
        switch outgoing.send(on: sockets[index], count: want) {
        case .sent(let n): done = n
        case .wouldBlock: done = 0
        case .failed(let code):
            done = 0
            noteError(code)
        }
        let dense = index * Self.perSocketLimit
        for slot in 0..<done {
            let id = Int(sendIDs[slot])
            sendTimes[table + id] = stamp
            positions[table + id] = Int32(inFlight[index])
            inFlightIDs[dense + inFlight[index]] = UInt16(id)
            inFlight[index] += 1
        }
        sent += done
        totalInFlight += done
    }

    /// Reads socket `index`'s replies, a batch per `recvmmsg`, until it has none; refills after each batch.
    private func drain(_ index: Int, stopAt: UInt64, quota: Int) {
        let fd = sockets[index]
        let table = index * Self.idSpace
        while true {
            let count: Int
            do {
                count = try incoming.receive(on: fd)
            } catch {
                noteError(error.errno)
                return
            }
            if count == 0 { return }
            let now = MonotonicClock.now()
            for slot in 0..<count {
                let header = incoming.slot(slot)
                guard incoming.length(slot) >= 12 else {
                    unmatched += 1
                    continue
                }
                let id = Int(UInt16(bigEndian: header.loadUnaligned(as: UInt16.self)))
                guard sendTimes[table + id] != 0 else {
                    unmatched += 1
                    continue
                }
                replies += 1
                let rcode = UInt16(header.load(fromByteOffset: 3, as: UInt8.self) & 0x0F)
                let answers = Int(UInt16(bigEndian: header.loadUnaligned(fromByteOffset: 6, as: UInt16.self)))
                finish(index, id: id, now: now, outcome: LoadOutcome(rcode: rcode, answers: answers), rcode: rcode)
            }
            fill(index, now: now, stopAt: stopAt, quota: quota)
            if count < Self.batch { return }
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
                    finish(index, id: id, now: now, outcome: .timeout, rcode: nil)
                }
                position -= 1
            }
        }
    }

    /// Frees `id` on socket `index` (swap-removal from the dense list) and records the outcome.
    private func finish(_ index: Int, id: Int, now: UInt64, outcome: LoadOutcome, rcode: UInt16?) {
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
        shard.recordQuery(latencyNanos: now &- sentAt, outcome: outcome, rcode: rcode, at: now)
    }

    private func noteError(_ code: Int32) {
        socketErrors += 1
        lastErrno = code
    }
}
