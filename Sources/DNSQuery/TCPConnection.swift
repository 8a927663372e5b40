import EventReactor
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// The one TCP connection of a server (RFC 7766): queries are pipelined on it, each framed with a
/// two-byte length, and answers are matched by id and question like UDP ones, in any order.
/// It has a read watcher, and a write watcher armed only
/// while a connect is in progress or output is waiting. It closes after `tcpIdleNanos` without a
/// query. Loop-owned.
final class TCPConnection: QueryChannel {
    private enum State { case connecting, open, closed }

    let fd: Int32
    private unowned let shard: EngineShard
    private var state = State.connecting
    private var readWatcher: FDWatcher?
    private var writeWatcher: FDWatcher?
    private var idleTimer: LoopTimer?
    private var output: [UInt8] = []
    private var outputStart = 0
    private var input: [UInt8] = []

    override var transport: DNSTransport { .tcp }

    /// Starts a non-blocking connect to `server`.
    init(server: ServerState, shard: EngineShard) throws(SystemError) {
        // The table first: no fd to close when the arena cannot map one.
        let table = try TransactionTable(in: shard.tables)
        fd = try server.address.connectedSocket(stream: true, receiveBuffer: 0, from: server.nextSource())
        self.shard = shard
        super.init(server: server, table: table)
        let reactor = shard.reactor
        readWatcher = FDWatcher(reactor: reactor, fd: fd, interest: .read) { [unowned self] in readable() }
        writeWatcher = FDWatcher(reactor: reactor, fd: fd, interest: .write) { [unowned self] in writable() }
        idleTimer = LoopTimer(reactor: reactor) { [unowned self] in
            if table.outstanding == 0 { close(failing: 0) }
        }
        readWatcher?.arm()
        writeWatcher?.arm()
    }

    /// Whether new queries may be placed on this connection.
    var isUsable: Bool { state != .closed }

    /// Queues one framed query (length prefix included) and writes what the socket takes now.
    func enqueue(_ frame: UnsafeRawBufferPointer) {
        idleTimer?.disarm()
        output.append(contentsOf: frame)
        if state == .open { flush() }
    }

    override func didRelease() {
        if table.outstanding == 0, state != .closed { idleTimer?.arm(after: .nanoseconds(Int64(clamping: shard.configuration.tcpIdleNanos))) }
    }

    private func writable() {
        guard connected() else { return }
        flush()
    }

    /// Completes a non-blocking connect when the socket first reports ready; false if it failed
    /// (the connection is then closed).
    private func connected() -> Bool {
        guard state == .connecting else { return state == .open }
        let error = Socket.pendingError(fd)
        guard error == 0 else {
            close(failing: error)
            return false
        }
        state = .open
        flush()
        return state == .open
    }

    private func flush() {
        while outputStart < output.count {
            let attempt = output.withUnsafeBytes { raw in
                Result { () throws(SystemError) -> Int? in
                    try Socket.send(fd, UnsafeRawBufferPointer(rebasing: raw[outputStart...]))
                }
            }
            let sent: Int?
            switch attempt {
            case .success(let count): sent = count
            case .failure(let failure): return close(failing: failure.errno)
            }
            guard let sent else {
                writeWatcher?.arm()
                return
            }
            outputStart += sent
        }
        output.removeAll(keepingCapacity: true)
        outputStart = 0
        writeWatcher?.disarm()
    }

    private func readable() {
        guard connected() else { return }
        let count: Int?
        do {
            count = try shard.withScratch { buffer throws(SystemError) in
                let n = try Socket.receive(fd, into: buffer)
                if let n, n > 0 { input.append(contentsOf: UnsafeRawBufferPointer(rebasing: buffer[..<n])) }
                return n
            }
        } catch {
            return close(failing: error.errno)
        }
        guard let count else { return }
        if count == 0 { return close(failing: table.outstanding > 0 ? ECONNRESET : 0) }
        deliverFrames()
    }

    private func deliverFrames() {
        var start = 0
        while input.count - start >= 2 {
            let length = Int(input[start]) << 8 | Int(input[start + 1])
            guard input.count - start - 2 >= length else { break }
            input.withUnsafeBytes { raw in
                shard.dispatch(UnsafeRawBufferPointer(rebasing: raw[(start + 2)..<(start + 2 + length)]), on: self)
            }
            start += 2 + length
            if state == .closed { return }
        }
        if start > 0 { input.removeFirst(start) }
    }

    /// Closes the connection; every query still waiting on it moves on (another attempt, or the
    /// network error `errno`, ECONNRESET when 0).
    func close(failing errno: Int32) { close(failing: errno, onLoop: shard.reactor.inLoop) }

    /// `close(failing:)` by a caller that says whether it runs on the loop: the shard's deinit, when
    /// the connection may no longer reach the shard.
    func close(failing errno: Int32, onLoop: Bool) {
        guard state != .closed else { return }
        state = .closed
        if onLoop {
            readWatcher?.free()
            writeWatcher?.free()
            idleTimer?.free()
        }
        readWatcher = nil
        writeWatcher = nil
        idleTimer = nil
        Socket.close(fd)
        if server.tcp === self { server.tcp = nil }
        output = []
        input = []
        guard onLoop else { return }
        for owner in table.allOwners() {
            Unmanaged<QueryOperation>.fromOpaque(owner).takeUnretainedValue()
                .channelFailed(errno: errno == 0 ? ECONNRESET : errno)
        }
    }
}
