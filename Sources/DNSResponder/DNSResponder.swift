import DNSMessage
import EventReactor
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// A fast authoritative DNS responder over UDP, TCP, TLS (DoT) and HTTPS (DoH) with fault injection: the embedded target of
/// `evq load` and of the tests, and `evq serve`. It answers from zone records, and by synthesis for
/// any name under a suffix (deterministic A, AAAA and TXT records, so a datafile of a million names
/// needs no zone of a million lines); NXDOMAIN with the zone's SOA, REFUSED outside its zones,
/// FORMERR for a query that does not parse, NOTIMP for other opcodes; EDNS0 honoured (answers
/// limited by the client's buffer, TC when they do not fit).
///
/// Threads: `threads` UDP threads, each with its own `SO_REUSEPORT` socket on the same port
/// (`recvmmsg`/`sendmmsg`, no allocation per packet), and `tcpThreads` stream threads, each with
/// its own epoll and its own `SO_REUSEPORT` listener on every stream port (TCP on the UDP port,
/// DoT on `dotPort`, DoH on `dohPort`). Methods may be called from any thread.
public final class DNSResponder: Sendable {
    /// How the responder is set up.
    public struct Configuration: Sendable {
        /// The numeric IPv4 or IPv6 address to listen on (`127.0.0.1`, `::1`).
        public var address = "127.0.0.1"
        /// The port, UDP and TCP; 0 lets the kernel choose (read it back from `port`).
        public var port: UInt16 = 0
        /// UDP threads (one socket each).
        public var threads = 1
        /// Zone records; the owner of each SOA record is a zone served.
        public var records: [DNSResourceRecord] = []
        /// Names under this suffix get synthesized A/AAAA/TXT answers; nil turns synthesis off.
        public var synthesisSuffix: DNSName? = try? DNSName(parsing: "load.evq.test.")
        /// The TTL of synthesized records.
        public var synthesisTTL: UInt32 = 300
        /// Misbehaviour on purpose, on every transport (`DNSFaults` says where one has no meaning).
        public var faults = DNSFaults()
        /// Seed of the fault draws (each thread adds its index).
        public var seed: UInt64 = 1
        /// Socket buffer size asked for (the 208 KiB default drops answers above a few hundred
        /// outstanding queries).
        public var socketBufferBytes = 4 << 20
        /// Delayed answers held at most per thread; beyond it a delayed answer is dropped and counted.
        public var maxDelayed = 65_536
        /// Serve TCP on the same port.
        public var tcp = true
        /// Whether to share the port with sockets of other processes (`SO_REUSEPORT` across
        /// processes, the kernel then splits the traffic). Off: `start` refuses a port another
        /// socket holds (`EADDRINUSE`), and only the responder's own threads share it.
        public var sharePort = false
        /// Open stream connections, TCP, DoT and DoH together, shared among the stream threads:
        /// each thread holds at most its share (this divided by `tcpThreads`, rounded up), and one
        /// more accepted by a full thread is closed at once and counted as refused. The kernel spreads
        /// new connections over the threads unevenly, so refusals may begin before the total is reached.
        public var maxTCPConnections = 256
        /// Whether each UDP thread takes the queries the kernel coalesced (UDP GRO, `UDP_GRO`; Linux
        /// 5.0): a client's UDP GSO message of equal-length queries arrives as one message of the
        /// receive batch, every query in it read and answered as if it came alone. A kernel without
        /// it delivers each query alone.
        public var receiveCoalescing = true
        /// Whether equal-length UDP answers to one client, written in one pass over a receive
        /// batch, leave as one message the kernel cuts into datagrams (UDP GSO, `UDP_SEGMENT`; Linux
        /// 4.18): the same datagrams on the wire for less CPU. A kernel or device that refuses it
        /// turns it off for the thread (`DNSResponderCounters.segmentOffloadRefused`).
        public var segmentOffload = true
        /// Stream threads (TCP, DoT, DoH), each with its own listeners and epoll.
        public var tcpThreads = 1
        /// A stream connection that sends and receives nothing this long is closed (RFC 7766 §6.2.3);
        /// a delayed answer still owed keeps it open.
        public var streamIdleTimeout: Duration = .seconds(10)
        /// The DNS-over-TLS port (RFC 7858; 853 by convention), 0 for one the kernel chooses; nil: no DoT.
        /// Needs `tlsCertificatePath` and `tlsKeyPath`.
        public var dotPort: UInt16?
        /// The DNS-over-HTTPS port (RFC 8484 over HTTP/2, path `/dns-query`), 0 for one the kernel
        /// chooses; nil: no DoH. Needs `tlsCertificatePath` and `tlsKeyPath`.
        public var dohPort: UInt16?
        /// The PEM certificate chain that DoT and DoH present.
        public var tlsCertificatePath: String?
        /// The PEM private key of `tlsCertificatePath`.
        public var tlsKeyPath: String?
        /// Its threads are named this, then `-0`, `-1`, … and `-tcp0`, `-tcp1`, … (`top -H`; 15 bytes at
        /// most in all).
        public var threadName = "evq-resp"

        /// The defaults: 127.0.0.1, a kernel-chosen port, one UDP thread, synthesis under
        /// `load.evq.test.`, no faults.
        public init() {}

        /// Adds the records of zone text (RFC 1035 master format, `$ORIGIN`, `$TTL`; `$INCLUDE` needs
        /// a file: `loadZone(path:origin:)`).
        /// - Throws: `DNSResponderError` naming the line.
        public mutating func loadZone(text: String, origin: DNSName = .root) throws(DNSResponderError) {
            do {
                records += try DNSZoneParser.parse(text, origin: origin)
            } catch {
                throw DNSResponderError("zone", detail: "\(error)")
            }
        }

        /// Adds the records of the zone file at `path`, with its `$INCLUDE`s: a relative name is
        /// found beside the file that includes it; a loop of includes, or nesting deeper than
        /// `DNSZoneParser.maxIncludeDepth`, is refused.
        /// - Throws: `DNSResponderError` naming the file, the line and the reason in words.
        public mutating func loadZone(path: String, origin: DNSName = .root) throws(DNSResponderError) {
            let file: (text: String, path: String)
            do { file = try ZoneFile.read(path) } catch { throw DNSResponderError("zone", detail: "\(error)") }
            do {
                records += try DNSZoneParser.parse(file.text, origin: origin, path: file.path,
                                                   include: ZoneFile.include)
            } catch {
                throw DNSResponderError("zone", detail: "\(path): \(error)")
            }
        }
    }

    private struct Running: @unchecked Sendable {
        var workers: [UDPWorker] = []
        var streams: [StreamServer] = []
        var threads: [JoinableThread] = []
        var stopFD: Int32 = -1
        var port: UInt16 = 0
        var dotPort: UInt16?
        var dohPort: UInt16?
        var stopped = false
        var final = DNSResponderCounters()
    }

    /// The configuration it was made with.
    public let configuration: Configuration
    private let book: AnswerBook
    private let tls: [StreamKind: TLSContext]
    private let state = Locked(Running())

    /// Makes a responder (nothing is bound until `start`).
    /// - Throws: `DNSResponderError` if the configuration cannot work (no threads, a bad address).
    public init(_ configuration: Configuration) throws(DNSResponderError) {
        guard (1...64).contains(configuration.threads) else {
            throw DNSResponderError("configuration", detail: "threads must be 1…64")
        }
        guard (1...64).contains(configuration.tcpThreads) else {
            throw DNSResponderError("configuration", detail: "tcpThreads must be 1…64")
        }
        _ = try ResponderSockets.address(configuration.address, port: configuration.port)
        var tls: [StreamKind: TLSContext] = [:]
        if configuration.dotPort != nil || configuration.dohPort != nil {
            guard let certificate = configuration.tlsCertificatePath, let key = configuration.tlsKeyPath else {
                throw DNSResponderError("configuration", detail: "DoT and DoH need a certificate and its key")
            }
            if configuration.dotPort != nil { tls[.dot] = try TLSContext(certificate: certificate, key: key, alpn: .dot) }
            if configuration.dohPort != nil { tls[.doh] = try TLSContext(certificate: certificate, key: key, alpn: .h2) }
        }
        self.tls = tls
        self.configuration = configuration
        book = AnswerBook(records: configuration.records, suffix: configuration.synthesisSuffix,
                          synthesisTTL: configuration.synthesisTTL)
    }

    deinit { stop() }

    /// Binds the sockets and starts the threads; returns once it answers. Call it once.
    /// - Throws: `DNSResponderError` with the errno of the failing call (the port taken, …);
    ///   nothing is left open then.
    public func start() throws(DNSResponderError) {
        guard state.withLock({ $0.threads.isEmpty && !$0.stopped }) else {
            throw DNSResponderError("start", detail: "the responder was already started (a responder starts once)")
        }
        // A port the kernel chose is free for UDP only; its TCP twin may be held (by a client's
        // ephemeral port, say). Then all is closed and the kernel asked again, a bounded number of
        // times; a port the caller named fails at once.
        var attempt = 0
        while true {
            var running = Running()
            var opened: [Int32] = []
            do {
                try open(into: &running, opened: &opened)
                state.withLock { $0 = running }
                return
            } catch {
                for fd in opened { close(fd) }
                attempt += 1
                let chosenPortTaken = configuration.port == 0 && error.errno == EADDRINUSE
                guard chosenPortTaken && attempt < 64 else { throw error }
            }
        }
    }

    private func open(into running: inout Running, opened: inout [Int32]) throws(DNSResponderError) {
        var address = try ResponderSockets.address(configuration.address, port: configuration.port)
        let bufferBytes = configuration.socketBufferBytes
        // The port is tried first without SO_REUSEPORT, which any socket on it makes fail, so the
        // responder's own SO_REUSEPORT sockets never join another process's (a port chosen by the
        // kernel is free for UDP; its TCP twin is tried below).
        if !configuration.sharePort && configuration.port != 0 {
            try ResponderSockets.checkFree(Int32(SOCK_DGRAM.rawValue), address: address)
        }
        let first = try ResponderSockets.bound(Int32(SOCK_DGRAM.rawValue), to: address, bufferBytes: bufferBytes)
        opened.append(first)
        address.port = ResponderSockets.port(of: first)
        var udp = [first]
        for _ in 1..<configuration.threads {
            udp.append(try ResponderSockets.bound(Int32(SOCK_DGRAM.rawValue), to: address, bufferBytes: bufferBytes))
            opened.append(udp.last!)
        }
        var other = address
        other.port = 0
        var otherFDs: [Int32] = []
        for _ in udp {
            otherFDs.append(try ResponderSockets.bound(Int32(SOCK_DGRAM.rawValue), to: other, bufferBytes: 0))
            opened.append(otherFDs.last!)
        }
        // Each stream port: one listener per stream thread (the first one binds a kernel-chosen
        // port, the others join it).
        var listeners = [[(fd: Int32, kind: StreamKind)]](repeating: [], count: configuration.tcpThreads)
        let streamPorts: [(StreamKind, UInt16?)] = [
            (.tcp, configuration.tcp ? address.port : nil),
            (.dot, configuration.dotPort), (.doh, configuration.dohPort),
        ]
        for case let (kind, port?) in streamPorts {
            var streamAddress = address
            streamAddress.port = port
            if !configuration.sharePort && (kind == .tcp || port != 0) {
                try ResponderSockets.checkFree(Int32(SOCK_STREAM.rawValue), address: streamAddress)
            }
            for thread in 0..<configuration.tcpThreads {
                let fd = try ResponderSockets.bound(Int32(SOCK_STREAM.rawValue), to: streamAddress, bufferBytes: 0)
                opened.append(fd)
                guard listen(fd, 1024) == 0 else { throw DNSResponderError("listen", errno: errno) }
                streamAddress.port = ResponderSockets.port(of: fd)
                listeners[thread].append((fd, kind))
            }
            switch kind {
            case .tcp: break
            case .dot: running.dotPort = streamAddress.port
            case .doh: running.dohPort = streamAddress.port
            }
        }
        let stopFD: Int32
        do {
            stopFD = try ProcessCalls.eventFD()
        } catch {
            throw DNSResponderError("eventfd", errno: error.errno)
        }
        opened.append(stopFD)

        running.stopFD = stopFD
        running.port = address.port
        for index in udp.indices {
            let worker = UDPWorker(fd: udp[index], otherFD: otherFDs[index], book: book,
                                   configuration: configuration, index: index)
            running.workers.append(worker)
            let name = "\(configuration.threadName)-\(index)"
            running.threads.append(ThreadTeam.start { worker.run(stopFD: stopFD, name: name) })
        }
        for (index, own) in listeners.enumerated() where !own.isEmpty {
            let server = StreamServer(listeners: own, book: book, configuration: configuration, tls: tls, index: index)
            running.streams.append(server)
            let name = "\(configuration.threadName)-tcp\(index)"
            running.threads.append(ThreadTeam.start { server.run(stopFD: stopFD, name: name) })
        }
    }

    /// The UDP and TCP port it answers on (0 before `start`).
    public var port: UInt16 { state.withLock { $0.port } }
    /// The DNS-over-TLS port it answers on (nil before `start`, or without DoT).
    public var dotPort: UInt16? { state.withLock { $0.dotPort } }
    /// The DNS-over-HTTPS port it answers on (nil before `start`, or without DoH).
    public var dohPort: UInt16? { state.withLock { $0.dohPort } }

    /// What it did so far, summed over its threads. Any thread; still readable after `stop`.
    public func counters() -> DNSResponderCounters {
        state.withLock { running in
            if running.stopped { return running.final }
            let streams = running.streams.reduce(DNSResponderCounters()) { $0 + $1.counters.withLock { $0 } }
            return running.workers.reduce(streams) { $0 + $1.counters.withLock { $0 } }
        }
    }

    /// Stops every thread, waits for them, and closes every socket. Idempotent.
    public func stop() {
        let running = state.withLock { running -> Running? in
            guard !running.stopped else { return nil }
            running.stopped = true
            return running
        }
        guard let running, running.stopFD >= 0 else { return }
        var one: UInt64 = 1
        _ = write(running.stopFD, &one, 8)
        for thread in running.threads { thread.join() }
        var final = DNSResponderCounters()
        for server in running.streams {
            final = final + server.counters.withLock { $0 }
            for listener in server.listeners { close(listener.fd) }
        }
        for worker in running.workers {
            final = final + worker.counters.withLock { $0 }
            close(worker.fd)
            close(worker.otherFD)
        }
        close(running.stopFD)
        state.withLock { $0.final = final }
    }
}
