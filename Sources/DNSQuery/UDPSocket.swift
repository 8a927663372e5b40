import EventReactor
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// One `connect()`ed UDP socket to one server, on a kernel-chosen port, with one persistent read
/// watcher shared by every query waiting on it. Loop-owned.
final class UDPSocket: QueryChannel {
    let fd: Int32
    private var watcher: FDWatcher?
    /// Queries sent on this socket; past `rotateAfterQueries` the socket retires.
    var sent = 0
    /// No new query is placed on a retiring socket; it closes once its last id left quarantine.
    var retiring = false
    /// Set by `close`: a drain in progress (a completion shut the engine down) reads no further.
    private(set) var isClosed = false

    init(server: ServerState, fd: Int32, table: TransactionTable) {
        self.fd = fd
        super.init(server: server, table: table)
    }

    /// Arms the shared read watcher: on readable, the shard drains the socket in batches.
    func watch(on reactor: Reactor, shard: EngineShard) {
        let watcher = FDWatcher(reactor: reactor, fd: fd, interest: .read) { [unowned self, unowned shard] in
            shard.drain(self)
        }
        watcher.arm()
        self.watcher = watcher
    }

    /// Frees the watcher (when on the loop) and closes the fd.
    func close(onLoop: Bool) {
        if onLoop { watcher?.free() }
        watcher = nil
        isClosed = true
        Socket.close(fd)
    }
}

/// One server as the shard sees it: its UDP socket pool, its TCP connection, its penalty.
/// Loop-owned. The fields every send reads are `@exclusivity(unchecked)`: they are only touched on
/// the loop thread, never while another access to them is open, and a dynamic check (a
/// thread-local lookup each) showed in the engine's profile.
final class ServerState {
    let address: DNSServer
    /// Sockets new queries go to.
    @exclusivity(unchecked) var sockets: [UDPSocket] = []
    /// Sockets that stopped taking queries and close when their quarantine has passed.
    @exclusivity(unchecked) var retired: [UDPSocket] = []
    /// Round-robin position in `sockets`.
    @exclusivity(unchecked) var cursor = 0
    /// The socket whose replies the shard is reading (`EngineShard.drain`), nil otherwise: the
    /// queries their completions start go out on it, in one `sendmmsg`, as in a closed loop over
    /// each socket (unretained: the pool or the retired list holds it while it is read).
    @exclusivity(unchecked) var replying: Unmanaged<UDPSocket>?
    /// How the server is asked: UDP (with TCP after truncation), or over TCP or TLS from the start.
    let transport: DNSTransport
    /// The server's stream connections (TCP or TLS), `connectionsPerServer` slots opened on need;
    /// a slot is nil until its first query and again after its connection closed.
    var streams: [TCPConnection?] = []
    /// DoH connections that left their slot after GOAWAY while streams were still open on them.
    var draining: [TCPConnection] = []
    /// Round-robin position in `streams`.
    var streamCursor = 0
    /// Slots that have had a connection: opening one there again is a reconnect.
    var streamsUsed: [Bool] = []
    /// Until when (monotonic ns) the server is skipped after a timeout, if others are available.
    var penaltyUntil: UInt64 = 0

    /// The configuration's source addresses of this server's family, taken in turn by its new
    /// sockets (`nextSource`); empty: the kernel picks.
    let sources: [DNSServer]
    /// Whether sources were given but none of this server's family.
    let lacksSourceOfFamily: Bool
    private var sourceCursor = 0

    init(address: DNSServer, localAddresses: [DNSServer] = [], transport: DNSTransport = .udp) {
        self.address = address
        self.transport = transport
        sources = localAddresses.filter { $0.isIPv6 == address.isIPv6 }
        lacksSourceOfFamily = !localAddresses.isEmpty && sources.isEmpty
    }

    /// The source address for the next socket to this server, nil when the kernel picks.
    /// - Throws: `SystemError("bind", EAFNOSUPPORT)` when sources were given but none of its family.
    func nextSource() throws(SystemError) -> DNSServer? {
        if lacksSourceOfFamily { throw SystemError("bind", errno: EAFNOSUPPORT) }
        guard !sources.isEmpty else { return nil }
        defer { sourceCursor &+= 1 }
        return sources[sourceCursor % sources.count]
    }

    /// Takes a closed connection out of its slot.
    func remove(_ connection: TCPConnection) {
        if let index = streams.firstIndex(where: { $0 === connection }) { streams[index] = nil }
        draining.removeAll { $0 === connection }
    }
}

/// An ordered set of servers a query may use, with its rotation cursor. Loop-owned.
final class ServerList {
    let servers: [ServerState]
    let rotate: Bool
    private var next = 0

    init(servers: [ServerState], rotate: Bool) {
        self.servers = servers
        self.rotate = rotate
    }

    /// Where a new query starts in the list: 0, or round-robin with `rotate`.
    func firstIndex() -> Int {
        guard rotate, servers.count > 1 else { return 0 }
        next = (next + 1) % servers.count
        return next
    }

    /// The server for attempt `attempt` of a query that started at `first`: servers in order,
    /// skipping those under penalty unless every server is.
    func server(first: Int, attempt: Int, now: UInt64) -> Int {
        let count = servers.count
        var index = (first + attempt) % count
        for _ in 0..<count {
            if servers[index].penaltyUntil <= now { return index }
            index = (index + 1) % count
        }
        return (first + attempt) % count
    }
}
