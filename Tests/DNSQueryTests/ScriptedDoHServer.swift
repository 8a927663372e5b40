import CNghttp2
import COpenSSL
import DNSMessage
import DNSQuery
import EventReactor
import EvqueryTestSupport

#if canImport(Glibc)
import Glibc
#endif

/// A DoH server the test plays: a real socket on 127.0.0.1, TLS by OpenSSL choosing ALPN `h2`, and
/// HTTP/2 by nghttp2's server session, on a thread of its own, one connection at a time. Each
/// connection's first stream gets that connection's `Behaviour` (the last one repeats for later
/// connections); every other stream gets the right answer. It records the most streams it saw open
/// at once.
final class ScriptedDoHServer: @unchecked Sendable {
    enum Behaviour: Sendable {
        /// 200, `application/dns-message`, the answer.
        case answer
        /// This status, `text/plain`, a short body.
        case status(Int)
        /// 200 and the answer under this content-type.
        case contentType(String)
        /// 200, `application/dns-message`, a 70,000-byte body.
        case oversized
        /// Answers the first stream, then GOAWAY naming it the last: the later streams are refused.
        case goawayAfterFirst
        /// Sends the first stream's response headers, then closes the socket (no body, no TLS close).
        case closeMidStream
        /// TLS and h2 agreed, then not one byte of HTTP/2: no SETTINGS.
        case noSettings
        /// DNS over TLS, not HTTP/2: reads the first query frame, then closes (no TLS close).
        case dotCloseAfterQuery
        /// DNS over TLS: answers the first query with a length prefix 100 bytes longer than the
        /// answer that follows, then closes.
        case dotShortFrame
    }

    let port: UInt16
    var address: DNSServer { DNSServer(ipv4: 127, 0, 0, 1, port: port) }
    private let listener: Int32
    private let context: OpaquePointer
    private let behaviours: [Behaviour]
    private let maxConcurrentStreams: UInt32
    private let stopped = Locked(false)
    private let statistics = Locked((connections: 0, maxOpen: 0))
    private var thread: pthread_t?

    /// Connections accepted, and the most streams open at once on one of them.
    var connections: Int { statistics.withLock { $0.connections } }
    var maxOpenStreams: Int { statistics.withLock { $0.maxOpen } }

    init(_ behaviours: [Behaviour], certificate: TestCertificate, maxConcurrentStreams: UInt32 = 100) {
        self.behaviours = behaviours
        self.maxConcurrentStreams = maxConcurrentStreams
        let listening = ScriptedStreamServer()
        port = listening.port
        listener = dup(listening.listener)
        context = SSL_CTX_new(TLS_server_method())
        precondition(SSL_CTX_use_certificate_chain_file(context, certificate.certificate) == 1)
        precondition(SSL_CTX_use_PrivateKey_file(context, certificate.key, SSL_FILETYPE_PEM) == 1)
        SSL_CTX_set_alpn_select_cb(context, scriptedSelectH2, nil)
        let box = Unmanaged.passRetained(self).toOpaque()
        var made = pthread_t()
        precondition(pthread_create(&made, nil, { argument in
            let server = Unmanaged<ScriptedDoHServer>.fromOpaque(argument!).takeRetainedValue()
            server.serve()
            return nil
        }, box) == 0)
        thread = made
    }

    /// Stops serving and waits for the thread.
    func stop() {
        stopped.withLock { $0 = true }
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    deinit {
        close(listener)
        SSL_CTX_free(context)
    }

    fileprivate var isStopped: Bool { stopped.withLock { $0 } }

    private func serve() {
        var index = 0
        while !isStopped {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 20) == 1 else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            statistics.withLock { $0.connections += 1 }
            serveConnection(fd, behaviours[min(index, behaviours.count - 1)])
            index += 1
        }
    }

    private func serveConnection(_ fd: Int32, _ behaviour: Behaviour) {
        guard let ssl = SSL_new(context) else {
            close(fd)
            return
        }
        SSL_set_fd(ssl, fd)
        defer {
            SSL_free(ssl)
            close(fd)
        }
        guard SSL_accept(ssl) == 1 else { return }
        switch behaviour {
        case .dotCloseAfterQuery, .dotShortFrame: return serveDoT(ssl, behaviour)
        default: break
        }
        let connection = ScriptedHTTP2Connection(behaviour: behaviour, maxConcurrentStreams: maxConcurrentStreams)
        var buffer = [UInt8](repeating: 0, count: 16_384)
        while !isStopped {
            if case .noSettings = behaviour {
                // Reads and drops whatever comes, and never writes.
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                if poll(&poller, 1, 20) == 1, SSL_read(ssl, &buffer, Int32(buffer.count)) <= 0 { return }
                continue
            }
            // Out first (the SETTINGS, answers), then wait for input.
            var output: [UInt8] = []
            guard connection.send(into: &output) else { return }
            if !output.isEmpty, SSL_write(ssl, output, Int32(output.count)) <= 0 { return }
            if connection.closeNow { return }  // no close_notify: the socket just closes
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard SSL_pending(ssl) > 0 || poll(&poller, 1, 20) == 1 else { continue }
            let count = SSL_read(ssl, &buffer, Int32(buffer.count))
            guard count > 0 else { return }
            guard buffer.withUnsafeBytes({ connection.receive(UnsafeRawBufferPointer(rebasing: $0[..<Int(count)])) })
            else { return }
            statistics.withLock { $0.maxOpen = max($0.maxOpen, connection.maxOpen) }
        }
    }
}

extension ScriptedDoHServer {
    /// Reads the first DNS-over-TLS query, then misbehaves as `behaviour` says and returns (the
    /// caller closes the socket).
    private func serveDoT(_ ssl: OpaquePointer, _ behaviour: Behaviour) {
        var input: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !isStopped {
            if input.count >= 2, input.count >= 2 + (Int(input[0]) << 8 | Int(input[1])) { break }
            let count = SSL_read(ssl, &buffer, Int32(buffer.count))
            guard count > 0 else { return }
            input += buffer[..<Int(count)]
        }
        let length = Int(input[0]) << 8 | Int(input[1])
        guard case .dotShortFrame = behaviour, let message = try? DNSMessage(parsing: Array(input[2..<(2 + length)]))
        else { return }
        let answer = ScriptedServer.answer(ScriptedServer.Query(bytes: Array(input[2...]), message: message, from: sockaddr_in()))
        let frame = [UInt8((answer.count + 100) >> 8), UInt8((answer.count + 100) & 0xff)] + answer
        _ = SSL_write(ssl, frame, Int32(frame.count))
    }
}

/// The server side of one scripted HTTP/2 connection. Thread-bound to the server's thread.
private final class ScriptedHTTP2Connection {
    private struct Request {
        var body: [UInt8] = []
        var response: [UInt8] = []
        var sent = 0
        /// The body is never sent (closeMidStream).
        var withhold = false
    }

    let behaviour: ScriptedDoHServer.Behaviour
    private var session: OpaquePointer?
    private var requests: [Int32: Request] = [:]
    private var firstStream: Int32?
    private var open = 0
    private(set) var maxOpen = 0
    /// The behaviour asks for the socket to close once the output is out.
    private(set) var closeNow = false

    init(behaviour: ScriptedDoHServer.Behaviour, maxConcurrentStreams: UInt32) {
        self.behaviour = behaviour
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, user in
            ScriptedHTTP2Connection.from(user).began(frame!.pointee.hd.stream_id)
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, stream, data, length, user in
            ScriptedHTTP2Connection.from(user).requests[stream]?.body += UnsafeBufferPointer(start: data, count: length)
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, user in
            let frame = frame!.pointee
            if frame.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0,
                frame.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) || frame.hd.type == UInt8(NGHTTP2_DATA.rawValue)
            {
                ScriptedHTTP2Connection.from(user).complete(frame.hd.stream_id)
            }
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, stream, _, user in
            let connection = ScriptedHTTP2Connection.from(user)
            connection.requests[stream] = nil
            connection.open -= 1
            return 0
        }
        nghttp2_session_server_new(&session, callbacks, Unmanaged.passUnretained(self).toOpaque())
        var settings = nghttp2_settings_entry(
            settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: maxConcurrentStreams)
        nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, 1)
    }

    deinit { nghttp2_session_del(session) }

    static func from(_ pointer: UnsafeMutableRawPointer?) -> ScriptedHTTP2Connection {
        Unmanaged<ScriptedHTTP2Connection>.fromOpaque(pointer!).takeUnretainedValue()
    }

    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        nghttp2_session_mem_recv(session, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count)
            == bytes.count
    }

    func send(into output: inout [UInt8]) -> Bool {
        while true {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            guard count >= 0 else { return false }
            guard count > 0, let data else { return true }
            output.append(contentsOf: UnsafeBufferPointer(start: data, count: count))
        }
    }

    private func began(_ stream: Int32) {
        requests[stream] = Request()
        if firstStream == nil { firstStream = stream }
        open += 1
        maxOpen = max(maxOpen, open)
    }

    /// A whole request: answered as the behaviour says (the first stream) or rightly.
    private func complete(_ stream: Int32) {
        guard let body = requests[stream]?.body, let message = try? DNSMessage(parsing: body) else {
            return respond(stream, status: 400, type: "text/plain", body: Array("not DNS".utf8))
        }
        let answer = ScriptedServer.answer(ScriptedServer.Query(bytes: body, message: message, from: sockaddr_in()))
        guard stream == firstStream else {
            return respond(stream, status: 200, type: "application/dns-message", body: answer)
        }
        switch behaviour {
        case .answer, .noSettings, .dotCloseAfterQuery, .dotShortFrame:
            respond(stream, status: 200, type: "application/dns-message", body: answer)
        case .status(let status):
            respond(stream, status: status, type: "text/plain", body: Array("refused".utf8))
        case .contentType(let type):
            respond(stream, status: 200, type: type, body: answer)
        case .oversized:
            respond(stream, status: 200, type: "application/dns-message", body: answer + [UInt8](repeating: 0, count: 70_000))
        case .goawayAfterFirst:
            respond(stream, status: 200, type: "application/dns-message", body: answer)
            nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, NGHTTP2_NO_ERROR.rawValue, nil, 0)
        case .closeMidStream:
            requests[stream]?.withhold = true
            respond(stream, status: 200, type: "application/dns-message", body: answer)
            closeNow = true
        }
    }

    private func respond(_ stream: Int32, status: Int, type: String, body: [UInt8]) {
        requests[stream]?.response = body
        let fields = [(":status", "\(status)"), ("content-type", type), ("content-length", "\(body.count)")]
        var bytes: [UInt8] = fields.flatMap { Array($0.0.utf8) + Array($0.1.utf8) }
        bytes.withUnsafeMutableBufferPointer { buffer in
            var offset = 0
            var headers: [nghttp2_nv] = fields.map { name, value in
                defer { offset += name.utf8.count + value.utf8.count }
                return nghttp2_nv(name: buffer.baseAddress! + offset, value: buffer.baseAddress! + offset + name.utf8.count,
                                  namelen: name.utf8.count, valuelen: value.utf8.count,
                                  flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue))
            }
            var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil)) { _, stream, buffer, length, flags, _, user in
                ScriptedHTTP2Connection.from(user).readBody(stream, into: buffer!, length: length, flags: flags!)
            }
            _ = nghttp2_submit_response(session, stream, &headers, headers.count, &provider)
        }
    }

    private func readBody(_ stream: Int32, into buffer: UnsafeMutablePointer<UInt8>, length: Int,
                          flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard var request = requests[stream] else {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            return 0
        }
        if request.withhold { return Int(NGHTTP2_ERR_DEFERRED.rawValue) }
        let count = min(length, request.response.count - request.sent)
        request.response.withUnsafeBufferPointer { buffer.update(from: $0.baseAddress! + request.sent, count: count) }
        request.sent += count
        if request.sent == request.response.count { flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue }
        requests[stream] = request
        return count
    }
}

/// OpenSSL's ALPN choice for the scripted server: `h2` when offered, else no ALPN.
private func scriptedSelectH2(
    _ ssl: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ outLength: UnsafeMutablePointer<UInt8>?,
    _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32, _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    guard let offered else { return SSL_TLSEXT_ERR_NOACK }
    var offset = 0
    while offset < Int(offeredLength) {
        let length = Int(offered[offset])
        if length == 2, offset + 2 < Int(offeredLength), offered[offset + 1] == 0x68, offered[offset + 2] == 0x32 {
            out?.pointee = offered + offset + 1
            outLength?.pointee = 2
            return SSL_TLSEXT_ERR_OK
        }
        offset += 1 + length
    }
    return SSL_TLSEXT_ERR_NOACK
}
