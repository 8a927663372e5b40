import CSystemShims

#if canImport(Glibc)
import Glibc
#endif

/// A ring of datagram messages for `recvmmsg`/`sendmmsg`: the `mmsghdr` headers, their iovecs,
/// optionally a receive buffer per message, a peer address per message, and a UDP GSO
/// (`UDP_SEGMENT`) or GRO (`UDP_GRO`) control message per message. Allocated once; a datagram
/// costs no allocation. Not thread-safe: one thread uses a batch at a time.
///
/// Receiving: made with `slotSize > 0`, message `i` reads into its own slot (`slot(i)`);
/// `receive(on:)` fills the first messages, then `length(i)`, `isTruncated(i)`, `datagram(i)` and
/// `address(i)` read them. On a socket that takes coalesced datagrams (`enableReceiveCoalescing`),
/// a `coalescing` batch's message may hold several datagrams of one sender, back to back:
/// `segmentSize(i)` says how long each is (the last may be shorter). Sending: `setVector` points iovecs at the bytes, `setMessage` makes a
/// message of one or more of them (to an address, and cut into equal datagrams by the kernel when
/// given a segment size), and `send(on:from:count:)` hands them to the kernel.
public final class DatagramBatch {
    /// Messages in the batch.
    public let capacity: Int
    /// Bytes of each message's own receive slot (0: none).
    public let slotSize: Int
    @usableFromInline let headers: UnsafeMutablePointer<evq_mmsghdr>
    @usableFromInline let vectors: UnsafeMutablePointer<iovec>
    @usableFromInline let slots: UnsafeMutableRawPointer?
    @usableFromInline let addresses: UnsafeMutablePointer<sockaddr_storage>?
    @usableFromInline let controls: UnsafeMutableRawPointer?
    @usableFromInline let controlSpace: Int
    /// Whether a receive asks for the `UDP_GRO` segment size.
    public let coalescing: Bool

    /// The most bytes the kernel puts in one coalesced message (an IP datagram's 64 KiB less its
    /// headers): the slot size a `coalescing` batch needs so that nothing is cut.
    public static let maxCoalescedBytes = 65_535

    /// A batch of `capacity` messages (and as many iovecs).
    /// - Parameters:
    ///   - slotSize: when above 0, each message gets a receive slot of this many bytes.
    ///   - addressed: whether each message has room for a peer address (an unconnected socket).
    ///   - segmentable: whether each message has room for a `UDP_SEGMENT` control message.
    ///   - coalescing: whether each receive asks for the `UDP_GRO` segment size (`segmentSize`); its
    ///     slots should then hold `maxCoalescedBytes`, or a coalesced message is cut (`isTruncated`).
    public init(capacity: Int, slotSize: Int = 0, addressed: Bool = false, segmentable: Bool = false,
                coalescing: Bool = false) {
        self.capacity = max(capacity, 1)
        self.slotSize = slotSize
        self.coalescing = coalescing
        headers = .allocate(capacity: self.capacity)
        vectors = .allocate(capacity: self.capacity)
        slots = slotSize > 0 ? .allocate(byteCount: self.capacity * slotSize, alignment: 16) : nil
        addresses = addressed ? .allocate(capacity: self.capacity) : nil
        controlSpace = max(segmentable ? evq_udp_segment_control_space() : 0,
                           coalescing ? evq_udp_gro_control_space() : 0)
        controls = controlSpace > 0 ? .allocate(byteCount: self.capacity * controlSpace, alignment: 16) : nil
        for index in 0..<self.capacity {
            vectors[index] = iovec(iov_base: slots.map { $0 + index * slotSize }, iov_len: slotSize)
            headers[index] = evq_mmsghdr(
                msg_hdr: msghdr(msg_name: addresses.map { UnsafeMutableRawPointer($0 + index) },
                                msg_namelen: addressed ? socklen_t(MemoryLayout<sockaddr_storage>.size) : 0,
                                msg_iov: vectors + index, msg_iovlen: 1,
                                msg_control: nil, msg_controllen: 0, msg_flags: 0),
                msg_len: 0)
        }
    }

    deinit {
        headers.deallocate()
        vectors.deallocate()
        slots?.deallocate()
        addresses?.deallocate()
        controls?.deallocate()
    }

    // MARK: Receiving

    /// `recvmmsg(2)` without waiting, into the first `count` (all by default) messages' slots.
    /// - Returns: how many datagrams were read (0 when none was there).
    /// - Throws: `SystemError` of `recvmmsg` (e.g. `ECONNREFUSED` after an ICMP port unreachable).
    @inlinable
    public func receive(on fd: Int32, count: Int? = nil) throws(SystemError) -> Int {
        let count = count ?? capacity
        if addresses != nil {
            for index in 0..<count { headers[index].msg_hdr.msg_namelen = socklen_t(MemoryLayout<sockaddr_storage>.size) }
        }
        if coalescing, let controls {
            // The kernel writes the control length it used; each receive offers the whole space again.
            for index in 0..<count {
                headers[index].msg_hdr.msg_control = controls + index * controlSpace
                headers[index].msg_hdr.msg_controllen = controlSpace
            }
        }
        let received = try Syscall.run("recvmmsg") {
            evq_recvmmsg(fd, headers, UInt32(count), Int32(MSG_DONTWAIT), nil)
        }
        return Int(received ?? 0)
    }

    /// The bytes message `index` received (or sent).
    @inlinable
    public func length(_ index: Int) -> Int { Int(headers[index].msg_len) }

    /// Whether datagram `index` was longer than its slot (`MSG_TRUNC`): its tail is lost.
    @inlinable
    public func isTruncated(_ index: Int) -> Bool { headers[index].msg_hdr.msg_flags & Int32(MSG_TRUNC) != 0 }

    /// The length of each datagram in message `index` when the kernel coalesced several of one
    /// sender into it (UDP GRO; all but the last are this long), else 0: the message is one datagram.
    /// Always 0 in a batch that is not `coalescing`.
    @inlinable
    public func segmentSize(_ index: Int) -> Int {
        // No control message came (a datagram sent singly): no call to read one.
        guard coalescing, headers[index].msg_hdr.msg_controllen > 0 else { return 0 }
        return Int(evq_udp_gro_segment_size(UnsafeRawPointer(headers + index).assumingMemoryBound(to: msghdr.self)))
    }

    /// Calls `body` with each datagram message `index` holds, in order — one, or several that the
    /// kernel coalesced (`segmentSize`) — and whether it is the message's last (the one a truncated
    /// message cut), while `body` returns true. An empty datagram is passed as such.
    /// - Returns: false when `body` stopped the walk.
    @inlinable
    public func forEachDatagram(in index: Int, _ body: (UnsafeRawBufferPointer, _ isLast: Bool) -> Bool) -> Bool {
        let start = UnsafeRawPointer(slot(index)), length = length(index), size = segmentSize(index)
        let step = size > 0 ? size : length
        var offset = 0
        repeat {
            let end = min(offset + step, length)
            guard body(UnsafeRawBufferPointer(start: start + offset, count: end - offset), end == length) else {
                return false
            }
            offset = end
        } while offset < length
        return true
    }

    /// Message `index`'s receive slot (`slotSize` bytes).
    @inlinable
    public func slot(_ index: Int) -> UnsafeMutableRawPointer { slots.unsafelyUnwrapped + index * slotSize }

    /// The datagram message `index` received.
    @inlinable
    public func datagram(_ index: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: slot(index), count: length(index))
    }

    /// The peer address of message `index` (an addressed batch only), to answer it later.
    public func address(_ index: Int) -> DatagramAddress {
        DatagramAddress(storage: addresses.unsafelyUnwrapped[index], length: headers[index].msg_hdr.msg_namelen)
    }

    /// Whether messages `index` and `other` (an addressed batch only) came from the same peer
    /// address: their answers may leave in one message.
    @inlinable
    public func hasSameAddress(_ index: Int, as other: Int) -> Bool {
        let length = headers[index].msg_hdr.msg_namelen
        guard let addresses, length == headers[other].msg_hdr.msg_namelen else { return false }
        return memcmp(addresses + index, addresses + other, Int(length)) == 0
    }

    // MARK: Sending

    /// Points iovec `index` at `length` bytes from `base`.
    @inlinable
    public func setVector(_ index: Int, _ base: UnsafeMutableRawPointer, length: Int) {
        vectors[index] = iovec(iov_base: base, iov_len: length)
    }

    /// The bytes iovec `index` points at.
    @inlinable
    public func vector(_ index: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: vectors[index].iov_base, count: vectors[index].iov_len)
    }

    /// Sets the length of iovec `index` (its base unchanged: a receive slot, say).
    @inlinable
    public func setVectorLength(_ index: Int, _ length: Int) {
        vectors[index].iov_len = length
    }

    /// Makes message `index` of the `vectorCount` iovecs from `firstVector`, to the peer address
    /// of message `addressOf` of `addressBatch` (nil: the connected peer). With `segmentSize`, the
    /// kernel cuts the payload into datagrams of that many bytes (UDP GSO; a segmentable batch).
    @inlinable
    public func setMessage(_ index: Int, firstVector: Int, vectorCount: Int = 1, segmentSize: Int? = nil,
                           to addressBatch: DatagramBatch? = nil, addressOf: Int = 0) {
        var control: UnsafeMutableRawPointer? = nil
        var controlLength = 0
        if let segmentSize, let controls {
            control = controls + index * controlSpace
            controlLength = evq_udp_segment_control(control, UInt16(truncatingIfNeeded: segmentSize))
        }
        var name: UnsafeMutableRawPointer? = nil
        var nameLength: socklen_t = 0
        if let addressBatch, let addresses = addressBatch.addresses {
            name = UnsafeMutableRawPointer(addresses + addressOf)
            nameLength = addressBatch.headers[addressOf].msg_hdr.msg_namelen
        }
        headers[index] = evq_mmsghdr(
            msg_hdr: msghdr(msg_name: name, msg_namelen: nameLength, msg_iov: vectors + firstVector,
                            msg_iovlen: vectorCount, msg_control: control, msg_controllen: controlLength,
                            msg_flags: 0),
            msg_len: 0)
    }

    /// What one `sendmmsg` did.
    public enum SendOutcome: Equatable, Sendable {
        /// The first `n` messages went out (n ≥ 1).
        case sent(Int)
        /// The socket's buffer is full (`EAGAIN`): nothing went.
        case wouldBlock
        /// The first message failed with this errno; nothing went.
        case failed(Int32)
    }

    /// `sendmmsg(2)` of messages `first..<first + count` without waiting (`MSG_NOSIGNAL`).
    @inlinable
    public func send(on fd: Int32, from first: Int = 0, count: Int) -> SendOutcome {
        do {
            let sent = try Syscall.run("sendmmsg") {
                evq_sendmmsg(fd, headers + first, UInt32(count), Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
            }
            guard let sent, sent > 0 else { return .wouldBlock }
            return .sent(Int(sent))
        } catch {
            return .failed(error.errno)
        }
    }

    /// Asks the kernel to hand socket `fd` the datagrams it coalesced (`UDP_GRO`, Linux 5.0) as one
    /// message with their segment size, read by a `coalescing` batch; a UDP GSO message sent over
    /// loopback then arrives in one receive. Without it the kernel cuts such messages up first.
    /// - Returns: whether the kernel took the option (false on an older kernel: datagrams then come
    ///   one per message, which a coalescing batch reads as well).
    @discardableResult
    public static func enableReceiveCoalescing(on fd: Int32) -> Bool {
        evq_udp_gro_enable(fd) == 0
    }

    /// Whether the kernel knows `UDP_SEGMENT` (Linux 4.18), asked on socket `fd`: an older one
    /// ignores the control message and would send a segmented message as one datagram.
    public static func segmentOffloadSupported(on fd: Int32) -> Bool {
        evq_udp_segment_supported(fd) == 0
    }
}
