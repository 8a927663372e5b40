import CNghttp2
import EventReactor

/// One DNS-over-HTTPS connection to a server (RFC 8484), one of the server's pool of
/// `connectionsPerServer`: TLS with ALPN `h2` (a server that does not choose h2 fails the connection
/// in words), then an HTTP/2 client session (libnghttp2, driven by memory over the reactor's
/// `StreamConnection`). Each query is a request on a stream of its own — POST of the message
/// (`content-type` and `accept: application/dns-message`) or GET with `?dns=` base64url — with DNS id
/// 0 on the wire: the answer is matched by its stream, and its question is still checked. Streams
/// open at once up to the server's `SETTINGS_MAX_CONCURRENT_STREAMS`; queries beyond wait here in
/// order; the first streams open once the server's SETTINGS came. The transaction table holds each query under an id of the engine's own, as on TCP.
///
/// A query that ends before its answer (cancelled, timed out) resets its stream (`RST_STREAM`
/// CANCEL), or leaves the queue. An answer with an HTTP status other than 200, another content-type,
/// or over 65,535 bytes fails its query in words; a stream the server resets fails its query; a
/// GOAWAY lets the streams up to its last stream id finish, and the queries above it (and those not
/// yet sent) ask again on a new connection. A server that sends no SETTINGS within half of `tcpTimeout`
/// fails the connection. After `tcpIdle` with nothing outstanding the connection sends GOAWAY and
/// closes once it has left. Loop-owned.
final class DoHConnection: TCPConnection {
    /// One request on a stream and its answer as it comes.
    private struct Exchange {
        let id: UInt16
        /// The POST body (the query), and how much of it nghttp2 has taken.
        var request: [UInt8]
        var requestSent = 0
        var status = 0
        /// The content-type is `application/dns-message`; else the one that came (nil: none).
        var isDNSMessage = false
        var contentType: String?
        var body: [UInt8] = []
        /// The answer went past 65,535 bytes: the stream was reset and the rest not kept.
        var tooLong = false
    }

    /// A stream that ended: its exchange, and the error code it closed with before its answer was
    /// whole (nil: the answer is whole).
    private typealias Ended = (exchange: Exchange, errorCode: UInt32?)

    private var session: OpaquePointer?
    private let method: DoHMethod
    private let path: String
    /// The request's fixed header fields, names and values back to back (made once): `:method`,
    /// `:scheme`, `:authority`, POST's `:path`, `accept`, POST's `content-type`.
    private var headerBlock: [UInt8]
    private let headerFields: [(name: Range<Int>, value: Range<Int>)]
    /// TLS is up and the server chose h2: frames may leave.
    private var ready = false
    private var settingsReceived = false
    /// The server sent GOAWAY: no new stream here.
    private var wentAway = false
    private var settingsTimer: LoopTimer?
    /// Queries placed and not yet on a stream, in order (ids; `messages` holds their bytes, and an
    /// id whose message is gone left the queue).
    private var waiting: [UInt16] = []
    private var waitingHead = 0
    private var messages: [UInt16: [UInt8]] = [:]
    /// The open streams' exchanges, and each placed query's stream.
    private var exchanges: [Int32: Exchange] = [:]
    private var streamOf: [UInt16: Int32] = [:]
    /// Streams that ended inside nghttp2's callbacks, handled once it has returned.
    private var ended: [Ended] = []
    private var pumping = false

    /// `application/dns-message`, lower case (every byte of it is a letter, `/` or `-`, which `| 0x20`
    /// leaves as they are).
    private static let dnsMessage = Array("application/dns-message".utf8)

    /// The largest DNS message (RFC 8484 §6 carries one message per answer).
    static let maxAnswer = 65_535

    init(server: ServerState, shard: EngineShard, tls: TLSClientContext) throws(StreamError) {
        let configuration = shard.configuration
        let method = configuration.dohMethod, path = configuration.dohPath
        let host = configuration.tlsServerName
            ?? (server.address.isIPv6 ? "[\(server.address.hostText)]" : server.address.hostText)
        let authority = server.address.port == 443 ? host : "\(host):\(server.address.port)"
        // Pseudo-header fields first (RFC 9113 §8.3); GET's `:path` goes in between, when it is written.
        var fixed = [(":method", method == .post ? "POST" : "GET"), (":scheme", "https"), (":authority", authority)]
        if method == .post { fixed.append((":path", path)) }
        fixed.append(("accept", "application/dns-message"))
        if method == .post { fixed.append(("content-type", "application/dns-message")) }
        var block: [UInt8] = []
        var fields: [(name: Range<Int>, value: Range<Int>)] = []
        for (name, value) in fixed {
            let nameStart = block.count
            block += Array(name.utf8)
            let valueStart = block.count
            block += Array(value.utf8)
            fields.append((nameStart..<valueStart, valueStart..<block.count))
        }
        self.method = method
        self.path = path
        headerBlock = block
        headerFields = fields
        try super.init(server: server, shard: shard, kind: .doh, tls: tls)
        guard let session = Self.makeSession(self) else {
            close(failing: StreamError(closedBy: "HTTP/2: nghttp2 could not make a session"))
            throw StreamError(closedBy: "HTTP/2: nghttp2 could not make a session")
        }
        self.session = session
        // `self.shard` (unowned), not the parameter: the timer holds its closure until it is freed.
        settingsTimer = LoopTimer(reactor: shard.reactor) { [unowned self] in
            guard !settingsReceived, !isClosed else { return }
            self.shard.counters.connectionsFailed += 1
            close(failing: StreamError(closedBy: "the DoH server sent no HTTP/2 SETTINGS within "
                + "\(self.shard.timing.tcpTimeout / 2_000_000) ms"))
        }
    }

    /// A client session calling back into `connection`, its SETTINGS queued (no server push).
    private static func makeSession(_ connection: DoHConnection) -> OpaquePointer? {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else { return nil }
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_header_callback(callbacks, dohHeader)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, dohDataChunk)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, dohFrameReceived)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, dohStreamClosed)
        var option: OpaquePointer?
        guard nghttp2_option_new(&option) == 0, let option else { return nil }
        defer { nghttp2_option_del(option) }
        // Before the server's SETTINGS: at most the 100 streams RFC 9113 §6.5.2 advises it to allow.
        nghttp2_option_set_peer_max_concurrent_streams(option, 100)
        var session: OpaquePointer?
        guard nghttp2_session_client_new2(&session, callbacks, Unmanaged.passUnretained(connection).toOpaque(),
                                          option) == 0, let session
        else { return nil }
        var settings = nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_ENABLE_PUSH.rawValue), value: 0)
        nghttp2_submit_settings(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, 1)
        return session
    }

    override var isUsable: Bool { super.isUsable && !wentAway }

    override func enqueue(_ message: UnsafeMutableRawBufferPointer, id: UInt16) {
        busy()
        messages[id] = Array(message)
        waiting.append(id)
        pump()
    }

    override func didRelease(_ id: UInt16) {
        super.didRelease(id)
        guard let session else { return }
        if let stream = streamOf.removeValue(forKey: id) {
            // Its interest is gone: the server may stop, and an answer still coming is dropped by nghttp2.
            exchanges[stream] = nil
            nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, NGHTTP2_CANCEL.rawValue)
            shard.counters.streamResets += 1
            pump()
        } else {
            messages[id] = nil  // still waiting: it leaves the queue
        }
        if !pumping { closeIfDone() }
    }

    /// After GOAWAY, the connection closes once its last query has ended.
    private func closeIfDone() {
        if wentAway, table.outstanding == 0, !isClosed { close(failing: nil) }
    }

    override func idle() {
        // GOAWAY first (RFC 9113 §6.8), so the server knows the close is orderly.
        if let session {
            nghttp2_session_terminate_session(session, NGHTTP2_NO_ERROR.rawValue)
            pump()
        }
        closesWhenWritten = true
        close(failing: nil)
    }

    override func connected() {
        super.connected()
        guard stream?.negotiatedProtocol == "h2" else {
            shard.counters.connectionsFailed += 1
            let chose = stream?.negotiatedProtocol.map { "chose \($0)" } ?? "chose none"
            return close(failing: StreamError(
                closedBy: "the server did not agree to HTTP/2 by ALPN (\(chose)): DNS over HTTPS needs h2"))
        }
        ready = true
        settingsTimer?.arm(after: .nanoseconds(Int64(clamping: shard.timing.tcpTimeout / 2)))
        pump()
    }

    override func readable() {
        guard let stream, let session else { return }
        let count = stream.inputCount
        guard let input = stream.peekInput(count) else { return }
        let taken = nghttp2_session_mem_recv(session, input.baseAddress?.assumingMemoryBound(to: UInt8.self), count)
        guard taken >= 0 else {
            shard.counters.connectionsFailed += 1
            return close(failing: StreamError(closedBy: "HTTP/2: " + String(cString: nghttp2_strerror(Int32(taken)))))
        }
        stream.drainInput(count)
        pump()
    }

    override func willClose(onLoop: Bool) {
        if onLoop { settingsTimer?.free() }
        settingsTimer = nil
        nghttp2_session_del(session)
        session = nil
        exchanges = [:]
        streamOf = [:]
        messages = [:]
        waiting = []
        waitingHead = 0
        ended = []
    }

    // MARK: Moving frames

    /// Opens streams for the waiting queries (up to the server's limit), writes what nghttp2 has to
    /// send, and hands the streams that ended to their queries; again until nothing moves (an answer's
    /// completion may place the next query here). Not reentrant: a call made inside it returns at once
    /// and the running one takes its work.
    private func pump() {
        guard !pumping else { return }
        pumping = true
        defer {
            pumping = false
            closeIfDone()
        }
        while let session, !isClosed {
            let opened = openStreams(session)
            if ready {
                while true {
                    var data: UnsafePointer<UInt8>?
                    let count = nghttp2_session_mem_send(session, &data)
                    guard count >= 0 else {
                        shard.counters.connectionsFailed += 1
                        return close(failing: StreamError(
                            closedBy: "HTTP/2: " + String(cString: nghttp2_strerror(Int32(count)))))
                    }
                    guard count > 0, let data else { break }
                    stream?.write(UnsafeRawBufferPointer(start: data, count: count))
                }
            }
            if ended.isEmpty && opened == 0 { break }
            let batch = ended
            ended = []
            for stream in batch {
                guard self.session != nil else { break }
                finish(stream.exchange, errorCode: stream.errorCode)
            }
        }
    }

    /// Submits the waiting queries while the server's limit allows; after GOAWAY, hands them back to
    /// be asked elsewhere. Returns how many streams it opened.
    private func openStreams(_ session: OpaquePointer) -> Int {
        var opened = 0
        while waitingHead < waiting.count, self.session != nil {
            if !wentAway {
                // The server's SETTINGS first: its stream limit is then known.
                guard ready, settingsReceived else { break }
                let limit = Int(nghttp2_session_get_remote_settings(
                    session, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS))
                guard exchanges.count < limit else { break }
            }
            let id = waiting[waitingHead]
            waitingHead += 1
            guard let message = messages.removeValue(forKey: id) else { continue }
            if wentAway {
                refuse(id, StreamError(closedBy: "the DoH server sent GOAWAY before the query was sent"))
                continue
            }
            let stream = submit(message, session: session)
            guard stream > 0 else {
                shard.counters.sendErrors += 1
                fail(id, StreamError(closedBy: "HTTP/2: " + String(cString: nghttp2_strerror(stream))))
                continue
            }
            exchanges[stream] = Exchange(id: id, request: method == .post ? message : [])
            streamOf[id] = stream
            opened += 1
        }
        if waitingHead == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        }
        return opened
    }

    /// Submits one request carrying `message`; the stream id, or nghttp2's negative error.
    private func submit(_ message: [UInt8], session: OpaquePointer) -> Int32 {
        // The fixed fields from `headerBlock`, then the one that varies: POST's content-length, GET's path.
        let variable: (name: String, value: String) = method == .post
            ? ("content-length", "\(message.count)")
            : (":path", path + (path.contains("?") ? "&" : "?") + "dns=" + base64URL(message))
        var name = variable.name, value = variable.value
        return headerBlock.withUnsafeMutableBufferPointer { block in
            name.withUTF8 { name in
                value.withUTF8 { value in
                    withUnsafeTemporaryAllocation(of: nghttp2_nv.self, capacity: headerFields.count + 1) { headers in
                        let none = UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)
                        // GET's `:path` after the three fixed pseudo-header fields, POST's content-length last.
                        let variableIndex = method == .post ? headerFields.count : 3
                        var index = 0
                        for field in headerFields {
                            if index == variableIndex { index += 1 }
                            headers[index] = nghttp2_nv(
                                name: block.baseAddress! + field.name.lowerBound, value: block.baseAddress! + field.value.lowerBound,
                                namelen: field.name.count, valuelen: field.value.count, flags: none)
                            index += 1
                        }
                        // nghttp2 copies names and values during the call.
                        headers[variableIndex] = nghttp2_nv(
                            name: UnsafeMutablePointer(mutating: name.baseAddress!),
                            value: UnsafeMutablePointer(mutating: value.baseAddress!),
                            namelen: name.count, valuelen: value.count, flags: none)
                        guard method == .post else {
                            return nghttp2_submit_request(session, nil, headers.baseAddress, headers.count, nil, nil)
                        }
                        var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: dohReadBody)
                        return nghttp2_submit_request(session, nil, headers.baseAddress, headers.count, &provider, nil)
                    }
                }
            }
        }
    }

    /// Hands an ended stream to its query: the answer when it is a whole 200 of
    /// `application/dns-message`, else the failure in words.
    private func finish(_ exchange: Exchange, errorCode: UInt32?) {
        streamOf[exchange.id] = nil
        if let errorCode {
            if exchange.tooLong {
                shard.counters.dohRefused += 1
                shard.counters.droppedMalformed += 1
                return fail(exchange.id, StreamError(closedBy: "the DoH server's answer is longer than 65,535 bytes"))
            }
            if errorCode == NGHTTP2_REFUSED_STREAM.rawValue {
                return refuse(exchange.id, StreamError(closedBy: "the DoH server refused the stream (REFUSED_STREAM)"))
            }
            shard.counters.streamResets += 1
            let name = String(cString: nghttp2_http2_strerror(errorCode))
            return fail(exchange.id, StreamError(closedBy: "the DoH server reset the stream (\(name))"))
        }
        guard exchange.status == 200 else {
            shard.counters.dohRefused += 1
            return fail(exchange.id, StreamError(closedBy: "the DoH server answered HTTP status \(exchange.status)"))
        }
        guard exchange.isDNSMessage else {
            shard.counters.dohRefused += 1
            return fail(exchange.id, StreamError(closedBy: "the DoH server answered with content-type "
                + "\(exchange.contentType ?? "(none)"), not application/dns-message"))
        }
        exchange.body.withUnsafeBytes { body in
            if shard.dispatch(body, streamedTo: exchange.id, on: self) {
                // Read and refused (malformed, another question): a stream carries one answer, so
                // the query does not wait for another.
                fail(exchange.id, StreamError(closedBy: "the DoH server's answer was refused (malformed, or not "
                    + "for the question asked)"))
            }
        }
    }

    /// The query placed under `id`, if it still waits here.
    private func query(_ id: UInt16) -> QueryOperation? {
        table.owner(of: id).map { Unmanaged<QueryOperation>.fromOpaque($0).takeUnretainedValue() }
    }

    private func fail(_ id: UInt16, _ error: StreamError) { query(id)?.channelFailed(error) }

    private func refuse(_ id: UInt16, _ error: StreamError) { query(id)?.channelRefused(error) }

    // MARK: nghttp2's callbacks (inside `nghttp2_session_mem_recv` and `_mem_send`)

    fileprivate static func from(_ pointer: UnsafeMutableRawPointer?) -> DoHConnection {
        Unmanaged<DoHConnection>.fromOpaque(pointer!).takeUnretainedValue()
    }

    fileprivate func header(_ stream: Int32, name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        guard exchanges[stream] != nil else { return }
        if name.elementsEqual(":status".utf8) {
            exchanges[stream]?.status = Int(String(decoding: value, as: UTF8.self)) ?? 0
        } else if name.elementsEqual("content-type".utf8) {
            // `application/dns-message`, in any case, parameters after `;` allowed; no String for it.
            let type = value.prefix { $0 != 0x3B }
            let trimmed = type.drop { $0 == 0x20 }.reversed().drop { $0 == 0x20 }.reversed()
            if trimmed.count == Self.dnsMessage.count, zip(trimmed, Self.dnsMessage).allSatisfy({ $0 | 0x20 == $1 }) {
                exchanges[stream]?.isDNSMessage = true
            } else {
                exchanges[stream]?.contentType = String(decoding: value, as: UTF8.self)
            }
        }
    }

    fileprivate func data(_ stream: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        guard var exchange = exchanges.removeValue(forKey: stream) else { return }
        defer { exchanges[stream] = exchange }  // taken out: no copy of the body on append
        guard !exchange.tooLong else { return }
        if exchange.body.count + bytes.count > Self.maxAnswer {
            exchange.tooLong = true
            exchange.body = []
            nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream, NGHTTP2_CANCEL.rawValue)
        } else {
            exchange.body.append(contentsOf: bytes)
        }
    }

    fileprivate func frameReceived(_ frame: UnsafePointer<nghttp2_frame>) {
        let type = frame.pointee.hd.type
        if type == UInt8(NGHTTP2_SETTINGS.rawValue) {
            if frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_ACK.rawValue) == 0 { settingsReceived = true }
        } else if type == UInt8(NGHTTP2_GOAWAY.rawValue) {
            shard.counters.goaways += 1
            wentAway = true
        }
        let endStream = frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
        if endStream && (type == UInt8(NGHTTP2_HEADERS.rawValue) || type == UInt8(NGHTTP2_DATA.rawValue)),
            let exchange = exchanges.removeValue(forKey: frame.pointee.hd.stream_id)
        {
            ended.append((exchange, exchange.tooLong ? NGHTTP2_CANCEL.rawValue : nil))
        }
    }

    fileprivate func streamClosed(_ stream: Int32, errorCode: UInt32) {
        // Still here: the stream ended before its answer was whole.
        guard let exchange = exchanges.removeValue(forKey: stream) else { return }
        ended.append((exchange, errorCode == NGHTTP2_NO_ERROR.rawValue ? NGHTTP2_INTERNAL_ERROR.rawValue : errorCode))
    }

    fileprivate func readBody(_ stream: Int32, into buffer: UnsafeMutablePointer<UInt8>, length: Int,
                              flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard var exchange = exchanges.removeValue(forKey: stream) else {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            return 0
        }
        let count = min(length, exchange.request.count - exchange.requestSent)
        exchange.request.withUnsafeBufferPointer { request in
            buffer.update(from: request.baseAddress! + exchange.requestSent, count: count)
        }
        exchange.requestSent += count
        if exchange.requestSent == exchange.request.count {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            exchange.request = []
        }
        exchanges[stream] = exchange
        return count
    }
}

/// How DoH queries are sent (RFC 8484 §4.1).
public enum DoHMethod: String, Sendable, Hashable, CaseIterable {
    /// POST with the message as the body (`content-type: application/dns-message`): the default.
    case post
    /// GET with the message base64url-encoded in `?dns=` (cacheable by HTTP caches).
    case get
}

/// `bytes` in base64url without padding (RFC 4648 §5), as RFC 8484 §4.1 sends it in `?dns=`.
func base64URL(_ bytes: [UInt8]) -> String {
    let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
    var text: [UInt8] = []
    text.reserveCapacity((bytes.count * 4 + 2) / 3)
    var index = 0
    while index < bytes.count {
        let chunk = bytes[index..<min(index + 3, bytes.count)]
        var value = 0
        for byte in chunk { value = value << 8 | Int(byte) }
        value <<= 8 * (3 - chunk.count)
        for position in 0...chunk.count { text.append(alphabet[(value >> (18 - 6 * position)) & 63]) }
        index += 3
    }
    return String(decoding: text, as: UTF8.self)
}

// C functions that find the connection through `user_data`.

private func dohHeader(_ session: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?, _ name: UnsafePointer<UInt8>?,
                       _ nameLength: Int, _ value: UnsafePointer<UInt8>?, _ valueLength: Int, _ flags: UInt8,
                       _ user: UnsafeMutableRawPointer?) -> Int32 {
    guard let frame, let name, let value else { return 0 }
    DoHConnection.from(user).header(frame.pointee.hd.stream_id, name: UnsafeBufferPointer(start: name, count: nameLength),
                                    value: UnsafeBufferPointer(start: value, count: valueLength))
    return 0
}

private func dohDataChunk(_ session: OpaquePointer?, _ flags: UInt8, _ stream: Int32, _ data: UnsafePointer<UInt8>?,
                          _ length: Int, _ user: UnsafeMutableRawPointer?) -> Int32 {
    guard let data else { return 0 }
    DoHConnection.from(user).data(stream, UnsafeBufferPointer(start: data, count: length))
    return 0
}

private func dohFrameReceived(_ session: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?,
                              _ user: UnsafeMutableRawPointer?) -> Int32 {
    if let frame { DoHConnection.from(user).frameReceived(frame) }
    return 0
}

private func dohStreamClosed(_ session: OpaquePointer?, _ stream: Int32, _ errorCode: UInt32,
                             _ user: UnsafeMutableRawPointer?) -> Int32 {
    DoHConnection.from(user).streamClosed(stream, errorCode: errorCode)
    return 0
}

private func dohReadBody(_ session: OpaquePointer?, _ stream: Int32, _ buffer: UnsafeMutablePointer<UInt8>?,
                         _ length: Int, _ flags: UnsafeMutablePointer<UInt32>?,
                         _ source: UnsafeMutablePointer<nghttp2_data_source>?, _ user: UnsafeMutableRawPointer?) -> Int {
    guard let buffer, let flags else { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
    return DoHConnection.from(user).readBody(stream, into: buffer, length: length, flags: flags)
}
