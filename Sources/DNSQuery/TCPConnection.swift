import EventReactor
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// One TCP or TLS connection to a server (RFC 7766, RFC 7858), one of the server's pool of
/// `connectionsPerServer`: queries are pipelined on it, each framed with a two-byte length, and
/// answers are matched by id and question like UDP ones, in any order. Its ids live in its own
/// transaction table, so the id of a cancelled or timed-out query stays in quarantine until its
/// reply comes or the connection closes. It closes after `tcpIdle` with no query outstanding; when
/// the server closes it (or it fails), every query waiting on it moves on to its next attempt, which
/// opens a new connection. The bytes go through the reactor's `StreamConnection`. Loop-owned.
/// `DoHConnection` is the HTTP/2 form: it overrides how queries leave and replies come.
class TCPConnection: QueryChannel {
    unowned let shard: EngineShard
    private(set) var stream: StreamConnection?
    private var idleTimer: LoopTimer?
    private let kind: DNSTransport

    override var transport: DNSTransport { kind }

    /// Starts a non-blocking connect to `server` (and, with `tls`, the handshake), over `kind`.
    init(server: ServerState, shard: EngineShard, kind: DNSTransport, tls: TLSClientContext?) throws(StreamError) {
        // The table first: no fd to close when the arena cannot map one.
        let table: TransactionTable
        let fd: Int32
        do {
            table = try TransactionTable(in: shard.tables)
            fd = try server.address.connectedSocket(stream: true, receiveBuffer: 0, from: server.nextSource())
        } catch {
            throw StreamError(errno: error.errno, error.call)
        }
        self.shard = shard
        self.kind = kind
        super.init(server: server, table: table)
        let configuration = shard.configuration
        stream = try StreamConnection(
            reactor: shard.reactor, fd: fd, tls: tls, serverName: configuration.tlsServerName,
            addressText: server.address.hostText
        ) { [unowned self] event in
            switch event {
            case .connected: connected()
            case .readable: readable()
            case .closed(let error): closed(error)
            }
        }
        idleTimer = LoopTimer(reactor: shard.reactor) { [unowned self] in
            if table.outstanding == 0 { idle() }
        }
    }

    /// Whether new queries may be placed on this connection.
    var isUsable: Bool { stream != nil }

    /// Queues the query `message` sent under `id`: here with its two-byte length prefix, written into
    /// the two bytes before `message` (the caller leaves them free); it leaves when the connection
    /// (and its TLS handshake) allow.
    func enqueue(_ message: UnsafeMutableRawBufferPointer, id: UInt16) {
        idleTimer?.disarm()
        let frame = UnsafeMutableRawBufferPointer(start: message.baseAddress! - 2, count: message.count + 2)
        frame[0] = UInt8(message.count >> 8)
        frame[1] = UInt8(message.count & 0xff)
        stream?.write(UnsafeRawBufferPointer(frame))
    }

    /// Stops the idle timer: a query is placed on the connection.
    final func busy() { idleTimer?.disarm() }

    override func didRelease(_ id: UInt16) {
        if table.outstanding == 0, stream != nil {
            idleTimer?.arm(after: shard.configuration.tcpIdle)
        }
    }

    /// `tcpIdle` passed with no query outstanding: the connection closes.
    func idle() { close(failing: nil) }

    /// The TLS handshake is over (never called for plain TCP).
    func connected() {
        shard.counters.tlsHandshakes += 1
        if stream?.resumedSession == true { shard.counters.tlsResumed += 1 }
    }

    /// New input: here every whole frame goes to the shard, in order.
    func readable() {
        while let stream, let prefix = stream.peekInput(2) {
            let length = Int(prefix[0]) << 8 | Int(prefix[1])
            guard let frame = stream.peekInput(2 + length) else { return }
            shard.dispatch(UnsafeRawBufferPointer(rebasing: frame[2...]), on: self)
            // A completion may have closed the connection (the engine shut down): nothing to drain.
            guard self.stream != nil else { return }
            stream.drainInput(2 + length)
        }
    }

    /// The stream ended: a close with queries outstanding (or bytes of a frame left unread, a length
    /// prefix longer than what came) is a failure for them.
    func closed(_ error: StreamError) {
        let cut = (stream?.inputCount ?? 0) > 0
        stream = nil  // it closes itself when this returns
        if error.isTLS { shard.counters.tlsFailures += 1 }
        if error.isTLS || table.outstanding > 0 || cut { shard.counters.connectionsFailed += 1 }
        if cut { shard.counters.droppedMalformed += 1 }
        close(failing: cut && !error.isTLS ? StreamError(closedBy: "the server closed the connection inside a reply")
              : error)
    }

    /// Closes the connection; every query still waiting on it moves on (another attempt, or the
    /// connection's failure when none is left).
    func close(failing error: StreamError?) { close(failing: error, onLoop: shard.reactor.inLoop) }

    /// `close(failing:)` by a caller that says whether it runs on the loop: the shard's deinit, when
    /// the connection may no longer reach the shard.
    func close(failing error: StreamError?, onLoop: Bool) {
        guard !isClosed else { return }
        isClosed = true
        if onLoop {
            if closesWhenWritten, let stream {
                stream.closeWhenWritten(within: Self.lastWordsLimit)
                shard.keepClosing(stream)
            } else {
                stream?.close()
            }
            idleTimer?.free()
        } else {
            stream?.abandon()
        }
        stream = nil
        idleTimer = nil
        server.remove(self)
        willClose(onLoop: onLoop)
        guard onLoop else { return }
        shard.counters.connectionsClosed += 1
        let reason = error ?? StreamError(closedBy: "the connection closed")
        for owner in table.allOwners() {
            Unmanaged<QueryOperation>.fromOpaque(owner).takeUnretainedValue().channelFailed(reason)
        }
    }

    private(set) var isClosed = false
    /// Set before an orderly close (`DoHConnection`'s GOAWAY): the stream closes once what it
    /// queued has left.
    var closesWhenWritten = false

    /// How long a closing connection's last words (a DoH GOAWAY) may wait for a server that stopped
    /// reading before the connection is closed anyway.
    static let lastWordsLimit: Duration = .seconds(1)

    /// Called by `close` once the stream is closed (or closing) and out of its slot, before the
    /// queries still waiting move on: a subclass frees what it holds.
    func willClose(onLoop: Bool) {}
}

extension DNSServer {
    /// The address without its port (`127.0.0.1`, `::1`): what a TLS certificate names.
    var hostText: String {
        let text = description
        guard let colon = text.lastIndex(of: ":") else { return text }
        let host = text[..<colon]
        return host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : String(host)
    }
}
