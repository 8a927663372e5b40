import CSystemShims
import EventReactor

#if canImport(Glibc)
import Glibc
#endif

/// The UDP queries a shard writes during one loop callback, sent together: one `sendmmsg` per
/// socket once the callback is over (a manually activated event runs after it, before the loop
/// waits again) or when the batch is full. Loop-owned; its memory is allocated once.
///
/// A query is written straight into its slot. When the batch goes out, an entry whose transaction
/// id no longer belongs to the query that queued it (cancelled, timed out or moved on in the
/// meantime) is skipped: it never reaches the wire. A send that fails with an errno fails that
/// query's attempt (`QueryOperation.channelFailed`), from this event, never inside `start`.
final class UDPSendBatch {
    /// The largest query: 12 header + 255 name + 4 + 11 OPT bytes fit with room to spare.
    static let slotSize = 512
    let capacity: Int
    private let slots: UnsafeMutableRawBufferPointer
    private let iovecs: UnsafeMutablePointer<iovec>
    private let headers: UnsafeMutablePointer<evq_mmsghdr>
    private let ids: UnsafeMutablePointer<UInt16>
    private let owners: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    private let grouped: UnsafeMutablePointer<Int>
    /// Each entry's socket, nil once sent; raw memory, so that queueing is a store with no
    /// exclusivity or copy-on-write check, and unretained: a queued socket is in its server's pool
    /// or retired list until the batch is out (the shard flushes or discards the batch before it
    /// closes a socket).
    private let sockets: UnsafeMutablePointer<Unmanaged<UDPSocket>?>
    private(set) var count = 0
    private var flushEvent: LibeventEvent?
    private var scheduled = false

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
        slots = .allocate(byteCount: self.capacity * Self.slotSize, alignment: 16)
        iovecs = .allocate(capacity: self.capacity)
        headers = .allocate(capacity: self.capacity)
        ids = .allocate(capacity: self.capacity)
        owners = .allocate(capacity: self.capacity)
        grouped = .allocate(capacity: self.capacity)
        sockets = .allocate(capacity: self.capacity)
        sockets.initialize(repeating: nil, count: self.capacity)
    }

    deinit {
        slots.deallocate()
        iovecs.deallocate()
        headers.deallocate()
        ids.deallocate()
        owners.deallocate()
        grouped.deallocate()
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

    /// Queues the `length` bytes written into `nextSlot` for `socket`, under `id` of `owner`, and
    /// makes sure the batch goes out when the current loop callback is over.
    func queue(length: Int, on socket: UDPSocket, id: UInt16, owner: UnsafeMutableRawPointer, shard: EngineShard) {
        iovecs[count] = iovec(iov_base: slots.baseAddress! + count * Self.slotSize, iov_len: length)
        ids[count] = id
        owners[count] = owner
        sockets[count] = Unmanaged.passUnretained(socket)
        count += 1
        guard !scheduled else { return }
        scheduled = true
        if flushEvent == nil {
            flushEvent = LibeventEvent(reactor: shard.reactor, fd: -1, interest: [], persistent: false) {
                [unowned self, unowned shard] _, _ in
                scheduled = false
                flush(shard)
            }
        }
        flushEvent?.activate()
    }

    /// Sends every queued query: one `sendmmsg` per socket (more if the kernel takes part of a
    /// batch), in the order they were queued on that socket.
    func flush(_ shard: EngineShard) {
        var first = 0
        while first < count {
            guard let entry = sockets[first] else {
                first += 1
                continue
            }
            let socket = entry.takeUnretainedValue()
            // Gather this socket's live entries; mark them taken.
            var group = 0
            for index in first..<count where sockets[index]?.toOpaque() == entry.toOpaque() {
                sockets[index] = nil
                guard socket.owner(of: ids[index]) == owners[index] else {
                    shard.counters.sendsSkipped += 1
                    continue
                }
                grouped[group] = index
                headers[group] = evq_mmsghdr(
                    msg_hdr: msghdr(msg_name: nil, msg_namelen: 0, msg_iov: iovecs + index, msg_iovlen: 1,
                                    msg_control: nil, msg_controllen: 0, msg_flags: 0),
                    msg_len: 0)
                group += 1
            }
            send(group, on: socket, shard: shard)
            first += 1
        }
        count = 0
    }

    private func send(_ group: Int, on socket: UDPSocket, shard: EngineShard) {
        var offset = 0
        while offset < group {
            switch Syscalls.sendBatch(socket.fd, headers + offset, count: group - offset) {
            case .sent(let n):
                shard.counters.sentUDP += n
                offset += n
            case .wouldBlock:
                // Treated as lost: each query's retry timer covers it.
                shard.counters.sendsDeferred += group - offset
                return
            case .failed(let code):
                shard.counters.sendErrors += 1
                if let owner = owners[grouped[offset]] {
                    Unmanaged<QueryOperation>.fromOpaque(owner).takeUnretainedValue().channelFailed(errno: code)
                }
                offset += 1
            }
        }
    }

    /// Drops what is queued (the shard is closing) and frees the event (on the loop only).
    func discard(onLoop: Bool) {
        for index in 0..<count { sockets[index] = nil }
        count = 0
        if onLoop { flushEvent?.free() }
        flushEvent = nil
        scheduled = false
    }
}
