import EventReactor
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// The responder's TCP side, on the UDP port: one thread, one epoll, length-prefixed queries,
/// several per connection (pipelined answers go back in order), at most `maxConnections` open
/// (more are accepted and closed at once, and counted). Thread-bound like `UDPWorker`.
final class TCPServer: @unchecked Sendable {
    let listenFD: Int32
    let counters = Locked(DNSResponderCounters())
    private let book: AnswerBook
    private let maxConnections: Int
    private var connections: [Int32: [UInt8]] = [:]
    private let answer: UnsafeMutableRawBufferPointer
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 16384, alignment: 16)

    init(listenFD: Int32, book: AnswerBook, maxConnections: Int) {
        self.listenFD = listenFD
        self.book = book
        self.maxConnections = maxConnections
        answer = .allocate(byteCount: 2 + 65535, alignment: 16)
    }

    deinit {
        answer.deallocate()
        readBuffer.deallocate()
    }

    /// Serves until `stopFD` becomes readable, then closes every connection. Runs on its thread.
    func run(stopFD: Int32, name: String) {
        ProcessCalls.setCurrentThreadName(name)
        guard let readiness = try? ReadinessSet() else { return }
        defer {
            for fd in connections.keys { close(fd) }
            connections.removeAll()
        }
        try? readiness.watchReadable(listenFD, token: UInt32(bitPattern: -1))
        try? readiness.watchReadable(stopFD, token: UInt32(bitPattern: -2))
        var stop = false
        while !stop {
            readiness.wait(timeoutMillis: -1) { token in
                switch token {
                case _ where stop: return
                case UInt32(bitPattern: -2): stop = true
                case UInt32(bitPattern: -1): accept(into: readiness)
                default: read(Int32(bitPattern: token))
                }
            }
        }
    }

    private func accept(into readiness: ReadinessSet) {
        while true {
            let fd = Glibc.accept(listenFD, nil, nil)
            guard fd >= 0 else { return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            guard connections.count < maxConnections else {
                close(fd)
                counters.withLock { $0.tcpRefused += 1 }
                continue
            }
            connections[fd] = []
            try? readiness.watchReadable(fd, token: UInt32(bitPattern: fd))
            counters.withLock { $0.tcpConnections += 1 }
        }
    }

    /// Reads what `fd` has (blocking socket: one read per readiness) and answers every complete query.
    private func read(_ fd: Int32) {
        guard var pending = connections[fd] else { return }
        let count = recv(fd, readBuffer.baseAddress, readBuffer.count, 0)
        guard count > 0 else {
            // Closed by the client (0) or reset (-1): closing the fd also removes it from the epoll set.
            close(fd)
            connections[fd] = nil
            return
        }
        pending += UnsafeRawBufferPointer(rebasing: readBuffer[0..<count])
        var local = DNSResponderCounters()
        var consumed = 0
        while pending.count - consumed >= 2 {
            let length = Int(pending[consumed]) << 8 | Int(pending[consumed + 1])
            guard pending.count - consumed - 2 >= length else { break }
            local.tcpQueries += 1
            let verdict = pending.withUnsafeBytes { bytes in
                AnswerWriter.answer(UnsafeRawBufferPointer(rebasing: bytes[(consumed + 2)..<(consumed + 2 + length)]),
                                    book: book, into: UnsafeMutableRawBufferPointer(rebasing: answer[2...]), tcp: true,
                                    counters: &local)
            }
            consumed += 2 + length
            guard case .reply(let replyLength) = verdict else { continue }
            counters.withLock { $0 = $0 + local }
            local = DNSResponderCounters()
            AnswerWriter.put16(answer, 0, UInt16(replyLength))
            if send(fd, answer.baseAddress, 2 + replyLength, Int32(MSG_NOSIGNAL)) != 2 + replyLength {
                counters.withLock { $0.sendErrors += 1 }
            }
        }
        connections[fd] = Array(pending[consumed...])
        counters.withLock { $0 = $0 + local }
    }
}
