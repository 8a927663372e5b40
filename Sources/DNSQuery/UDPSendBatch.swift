import EventReactor
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// The UDP queries a shard writes during one loop callback, sent together: one `sendmmsg` per
/// socket once the callback is over (a `DeferredJob` runs after it, before the loop
/// waits again) or when the batch is full. Loop-owned; its memory is allocated once.
///
/// A query is written straight into its slot. When the batch goes out, an entry whose transaction
/// id no longer belongs to the query that queued it (cancelled, timed out or moved on in the
/// meantime) is skipped: it never reaches the wire. A send that fails with an errno fails that
/// query's attempt (`QueryOperation.channelFailed`), from this event, never inside `start`.
///
/// With `segmentOffload`, the queries of equal length to one socket go out as one message that the
/// kernel cuts into datagrams of that length (UDP GSO, `UDP_SEGMENT`): one pass down the socket and
/// IP layers for the group instead of one per query. The datagrams on the wire are the ones
/// `sendmmsg` would have sent, each with its own header and checksum. If the kernel does not know
/// `UDP_SEGMENT` (before 4.18; checked on the first socket) or refuses it (a device without
/// checksum offload: `EIO`), the shard sends one message per query from then on.
final class UDPSendBatch {
    /// The largest query: 12 header + 255 name + 4 + 11 OPT bytes fit with room to spare.
    static let slotSize = 512
    /// Datagrams per segmented message. The kernel takes up to `UDP_MAX_SEGMENTS` (64; 128 in recent
    /// kernels), but kernels before the 2021 fix "udp: using datalen to cap max gso segments"
    /// (RHEL 8's 4.18 among them) counted the IP and UDP headers in that cap, so 64 segments of a
    /// short query failed with EINVAL there: 60 stays under either count for any query (17+ bytes).
    static let maxSegments = 60
    let capacity: Int
    /// Whether equal-length queries to one socket are sent as one segmented message.
    private(set) var segmentOffload: Bool
    /// Whether the kernel's support for `UDP_SEGMENT` was checked (on the first socket opened).
    private var segmentOffloadProbed = false
    private let slots: UnsafeMutableRawBufferPointer
    /// Each entry's query length.
    private let lengths: UnsafeMutablePointer<Int>
    private let ids: UnsafeMutablePointer<UInt16>
    private let owners: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// One socket's live entries while it is sent, by length when segmenting.
    private let grouped: UnsafeMutablePointer<Int>
    /// The messages of one socket's send; its iovecs are `grouped`'s entries in that order (a
    /// segmented message's payload is several of them).
    private let messages: DatagramBatch
    /// Per message of a socket's send: where its entries start in `grouped`, and how many.
    private let messageFirst: UnsafeMutablePointer<Int>
    private let messageCount: UnsafeMutablePointer<Int>
    /// Each entry's socket, nil once sent; raw memory, so that queueing is a store with no
    /// exclusivity or copy-on-write check, and unretained: a queued socket is in its server's pool
    /// or retired list until the batch is out (the shard flushes or discards the batch before it
    /// closes a socket).
    private let sockets: UnsafeMutablePointer<Unmanaged<UDPSocket>?>
    private(set) var count = 0
    private var flushJob: DeferredJob?
    private var scheduled = false

    init(capacity: Int, segmentOffload: Bool) {
        self.capacity = max(capacity, 1)
        self.segmentOffload = segmentOffload
        slots = .allocate(byteCount: self.capacity * Self.slotSize, alignment: 16)
        lengths = .allocate(capacity: self.capacity)
        ids = .allocate(capacity: self.capacity)
        owners = .allocate(capacity: self.capacity)
        grouped = .allocate(capacity: self.capacity)
        messages = DatagramBatch(capacity: self.capacity, segmentable: true)
        messageFirst = .allocate(capacity: self.capacity)
        messageCount = .allocate(capacity: self.capacity)
        sockets = .allocate(capacity: self.capacity)
        sockets.initialize(repeating: nil, count: self.capacity)
    }

    deinit {
        slots.deallocate()
        lengths.deallocate()
        ids.deallocate()
        owners.deallocate()
        grouped.deallocate()
        messageFirst.deallocate()
        messageCount.deallocate()
        sockets.deallocate()
    }

    /// The slot the next query is written into. Call `flushIfFull` first.
    var nextSlot: UnsafeMutableRawBufferPointer {
        let start = count * Self.slotSize
        return UnsafeMutableRawBufferPointer(rebasing: slots[start..<(start + Self.slotSize)])
    }

    /// Sends what is queued if no slot is left.
    func flushIfFull(_ shard: EngineShard) {
        if count == capacity { flush(shard) }
    }

    /// Checks, on the shard's first UDP socket, that the kernel knows `UDP_SEGMENT` (Linux 4.18): an
    /// older one ignores the control message and would send a whole group as one datagram. Without
    /// it, the shard sends one message per query (counted as refused).
    func probeSegmentOffload(on fd: Int32, shard: EngineShard) {
        guard segmentOffload, !segmentOffloadProbed else { return }
        segmentOffloadProbed = true
        if !DatagramBatch.segmentOffloadSupported(on: fd) {
            segmentOffload = false
            shard.counters.segmentOffloadRefused += 1
        }
    }

    /// Queues the `length` bytes written into `nextSlot` for `socket`, under `id` of `owner`, and
    /// makes sure the batch goes out when the current loop callback is over.
    func queue(length: Int, on socket: UDPSocket, id: UInt16, owner: UnsafeMutableRawPointer, shard: EngineShard) {
        lengths[count] = length
        ids[count] = id
        owners[count] = owner
        sockets[count] = Unmanaged.passUnretained(socket)
        count += 1
        guard !scheduled else { return }
        scheduled = true
        if flushJob == nil {
            flushJob = DeferredJob(reactor: shard.reactor) { [unowned self, unowned shard] in
                scheduled = false
                flush(shard)
            }
        }
        flushJob?.schedule()
    }

    /// Sends every queued query: one `sendmmsg` per socket (more if the kernel takes part of a
    /// batch), in the order they were queued on that socket (by length first when segmenting).
    /// Queries whose send failed are told once the batch is empty.
    func flush(_ shard: EngineShard) {
        var failed: [(owner: UnsafeMutableRawPointer, errno: Int32)] = []
        var first = 0
        while first < count {
            guard let entry = sockets[first] else {
                first += 1
                continue
            }
            let socket = entry.takeUnretainedValue()
            // Gather this socket's live entries; mark them taken.
            var live = 0
            for index in first..<count where sockets[index]?.toOpaque() == entry.toOpaque() {
                sockets[index] = nil
                guard socket.owner(of: ids[index]) == owners[index] else {
                    shard.counters.sendsSkipped += 1
                    continue
                }
                grouped[live] = index
                live += 1
            }
            send(live, on: socket, shard: shard, failed: &failed)
            first += 1
        }
        count = 0
        for (owner, code) in failed {
            Unmanaged<QueryOperation>.fromOpaque(owner).takeUnretainedValue().channelFailed(errno: code)
        }
    }

    /// Sends the first `live` entries of `grouped` on `socket`; adds those whose send failed to `failed`.
    private func send(_ live: Int, on socket: UDPSocket, shard: EngineShard,
                      failed: inout [(owner: UnsafeMutableRawPointer, errno: Int32)]) {
        var from = 0  // the entries of `grouped` before it are done with
        while from < live {
            let entries = grouped + from, remaining = live - from
            let made = segmentOffload ? segmentedMessages(entries, remaining) : singleMessages(entries, remaining)
            var offset = 0
            sending: while offset < made {
                switch messages.send(on: socket.fd, from: offset, count: made - offset) {
                case .sent(let n):
                    for message in offset..<(offset + n) {
                        shard.counters.sentUDP += messageCount[message]
                        if messageCount[message] > 1 { shard.counters.sentSegmented += messageCount[message] }
                    }
                    offset += n
                case .wouldBlock:
                    // Treated as lost: each query's retry timer covers it.
                    shard.counters.sendsDeferred += remaining - messageFirst[offset]
                    return
                case .failed(let code) where messageCount[offset] > 1 && (code == EIO || code == EINVAL):
                    // The kernel does not segment on this socket's device: one message per query from
                    // now on, starting again with this message's entries.
                    segmentOffload = false
                    shard.counters.segmentOffloadRefused += 1
                    break sending
                case .failed(let code):
                    for position in messageFirst[offset]..<(messageFirst[offset] + messageCount[offset]) {
                        shard.counters.sendErrors += 1
                        if let owner = owners[entries[position]] { failed.append((owner, code)) }
                    }
                    offset += 1
                }
            }
            if offset == made { return }
            from += messageFirst[offset]
        }
    }

    /// One message per entry of `entries` (indices into the batch): headers, `messageFirst` and
    /// `messageCount`. Returns the number of messages.
    private func singleMessages(_ entries: UnsafeMutablePointer<Int>, _ count: Int) -> Int {
        for position in 0..<count {
            setVector(position, entry: entries[position])
            messages.setMessage(position, firstVector: position)
            messageFirst[position] = position
            messageCount[position] = 1
        }
        return count
    }

    /// Sorts `entries` by length (stable) and makes one message per run of equal length (at most
    /// `maxSegments`), segmented when it holds more than one. Returns the number of messages.
    private func segmentedMessages(_ entries: UnsafeMutablePointer<Int>, _ count: Int) -> Int {
        // Insertion sort: a batch is at most a few dozen entries, and mostly of one or two lengths.
        for position in 1..<max(count, 1) {
            let entry = entries[position], length = lengths[entry]
            var slot = position
            while slot > 0, lengths[entries[slot - 1]] > length {
                entries[slot] = entries[slot - 1]
                slot -= 1
            }
            entries[slot] = entry
        }
        var made = 0, start = 0
        while start < count {
            let length = lengths[entries[start]]
            var end = start + 1
            while end < count, end - start < Self.maxSegments, lengths[entries[end]] == length { end += 1 }
            for position in start..<end { setVector(position, entry: entries[position]) }
            messages.setMessage(made, firstVector: start, vectorCount: end - start,
                                segmentSize: end - start > 1 ? length : nil)
            messageFirst[made] = start
            messageCount[made] = end - start
            made += 1
            start = end
        }
        return made
    }

    /// Points the send's iovec `position` at batch entry `entry`'s query.
    @inline(__always)
    private func setVector(_ position: Int, entry: Int) {
        messages.setVector(position, slots.baseAddress.unsafelyUnwrapped + entry * Self.slotSize, length: lengths[entry])
    }

    /// Drops what is queued (the shard is closing) and frees the event (on the loop only).
    func discard(onLoop: Bool) {
        for index in 0..<count { sockets[index] = nil }
        count = 0
        if onLoop { flushJob?.free() }
        flushJob = nil
        scheduled = false
    }
}
