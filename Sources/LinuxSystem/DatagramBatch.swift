import CSystemShims

#if canImport(Glibc)
import Glibc
#endif

/// A ring of datagram messages for `recvmmsg`/`sendmmsg`: the `mmsghdr` headers, their iovecs,
/// optionally a receive buffer per message, a peer address per message, and a UDP GSO
/// (`UDP_SEGMENT`) control message per message. Allocated once; a datagram costs no allocation.
/// Not thread-safe: one thread uses a batch at a time.
///
/// Receiving: made with `slotSize > 0`, message `i` reads into its own slot (`slot(i)`);
/// `receive(on:)` fills the first messages, then `length(i)`, `isTruncated(i)`, `datagram(i)` and
/// `address(i)` read them. Sending: `setVector` points iovecs at the bytes, `setMessage` makes a
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

    /// A batch of `capacity` messages (and as many iovecs).
    /// - Parameters:
    ///   - slotSize: when above 0, each message gets a receive slot of this many bytes.
    ///   - addressed: whether each message has room for a peer address (an unconnected socket).
    ///   - segmentable: whether each message has room for a `UDP_SEGMENT` control message.
    public init(capacity: Int, slotSize: Int = 0, addressed: Bool = false, segmentable: Bool = false) {
        self.capacity = max(capacity, 1)
        self.slotSize = slotSize
        headers = .allocate(capacity: self.capacity)
        vectors = .allocate(capacity: self.capacity)
        slots = slotSize > 0 ? .allocate(byteCount: self.capacity * slotSize, alignment: 16) : nil
        addresses = addressed ? .allocate(capacity: self.capacity) : nil
        controlSpace = segmentable ? evq_udp_segment_control_space() : 0
        controls = segmentable ? .allocate(byteCount: self.capacity * controlSpace, alignment: 16) : nil
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

    // MARK: Sending

    /// Points iovec `index` at `length` bytes from `base`.
    @inlinable
    public func setVector(_ index: Int, _ base: UnsafeMutableRawPointer, length: Int) {
        vectors[index] = iovec(iov_base: base, iov_len: length)
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

    /// Whether the kernel knows `UDP_SEGMENT` (Linux 4.18), asked on socket `fd`: an older one
    /// ignores the control message and would send a segmented message as one datagram.
    public static func segmentOffloadSupported(on fd: Int32) -> Bool {
        evq_udp_segment_supported(fd) == 0
    }
}
