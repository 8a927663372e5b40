import CNghttp2

/// The server side of one HTTP/2 connection (libnghttp2, driven by memory: bytes in with
/// `receive`, bytes out with `send(into:)`), gathering complete DoH requests for its owner to
/// answer: many streams at once, each answered or reset when its owner chooses (a delayed answer
/// leaves its stream open). Thread-bound to the stream thread that owns the connection.
final class HTTP2Session {
    /// One request as it arrives.
    struct Request {
        var method = ""
        var path = ""
        var contentType = ""
        var body: [UInt8] = []
        /// The body went past `maxBody` (the rest was not kept).
        var bodyTooLong = false
    }

    /// A response being sent: its body and how far DATA frames have taken it.
    private struct Response {
        var body: [UInt8]
        var sent = 0
        /// Send the body in two DATA frames (the split fault).
        var split: Bool
    }

    /// A DNS message is at most 65,535 bytes.
    static let maxBody = 65_535

    private var session: OpaquePointer?
    private var requests: [Int32: Request] = [:]
    private var responses: [Int32: Response] = [:]
    /// Requests complete since the last `takeRequests`.
    private var complete: [(stream: Int32, request: Request)] = []
    /// Streams reset (by either side) so far.
    private(set) var streamResets = 0
    /// The client sent GOAWAY: it ends the connection in good order.
    private(set) var peerWentAway = false

    /// A server session that has queued its SETTINGS (256 concurrent streams).
    init?() {
        var callbacks: OpaquePointer?
        guard nghttp2_session_callbacks_new(&callbacks) == 0, let callbacks else { return nil }
        defer { nghttp2_session_callbacks_del(callbacks) }
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, h2BeginHeaders)
        nghttp2_session_callbacks_set_on_header_callback(callbacks, h2Header)
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, h2DataChunk)
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, h2FrameReceived)
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, h2StreamClosed)
        var made: OpaquePointer?
        guard nghttp2_session_server_new(&made, callbacks, Unmanaged.passUnretained(self).toOpaque()) == 0 else {
            return nil
        }
        session = made
        var settings = nghttp2_settings_entry(
            settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: 256)
        nghttp2_submit_settings(made, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, 1)
    }

    deinit { nghttp2_session_del(session) }

    /// Feeds bytes read from the client; false on a protocol error (the connection must close).
    func receive(_ bytes: UnsafeRawBufferPointer) -> Bool {
        nghttp2_session_mem_recv(session, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count)
            == bytes.count
    }

    /// The requests completed by the bytes fed since the last call.
    func takeRequests() -> [(stream: Int32, request: Request)] {
        defer { complete.removeAll(keepingCapacity: true) }
        return complete
    }

    /// Whether either side still wants the connection (false after a GOAWAY both ways, or an error).
    var wantsMore: Bool { nghttp2_session_want_read(session) != 0 || nghttp2_session_want_write(session) != 0 }

    /// Appends the frames nghttp2 has to send (responses, SETTINGS, acks, GOAWAY) to `output`;
    /// false on an error.
    func send(into output: inout [UInt8]) -> Bool {
        while true {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            guard count >= 0 else { return false }
            guard count > 0, let data else { return true }
            output.append(contentsOf: UnsafeBufferPointer(start: data, count: count))
        }
    }

    /// Answers `stream` with `status` and, for 200, the DNS message `body`
    /// (`content-type: application/dns-message`). A stream the client reset meanwhile is skipped.
    func respond(_ stream: Int32, status: Int, body: [UInt8], split: Bool = false) {
        responses[stream] = Response(body: body, split: split)
        // nghttp2 copies the names and values; the constant ones are made once.
        var status = Array("\(status)".utf8)
        var length = Array("\(body.count)".utf8)
        let type = status == [0x32, 0x30, 0x30] ? Self.dnsMessage : Self.textPlain
        let none = UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)
        status.withUnsafeMutableBufferPointer { status in
            length.withUnsafeMutableBufferPointer { length in
                var fields = [
                    nghttp2_nv(name: Self.names[0].pointer, value: status.baseAddress, namelen: Self.names[0].count,
                               valuelen: status.count, flags: none),
                    nghttp2_nv(name: Self.names[1].pointer, value: type.pointer, namelen: Self.names[1].count,
                               valuelen: type.count, flags: none),
                    nghttp2_nv(name: Self.names[2].pointer, value: length.baseAddress, namelen: Self.names[2].count,
                               valuelen: length.count, flags: none),
                ]
                var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: h2ReadBody)
                if nghttp2_submit_response(session, stream, &fields, fields.count, &provider) != 0 {
                    responses[stream] = nil
                }
            }
        }
    }

    /// The response's header names and constant values, as C bytes made once for the process.
    nonisolated(unsafe) private static let names = [":status", "content-type", "content-length"].map(cBytes)
    nonisolated(unsafe) private static let dnsMessage = cBytes("application/dns-message")
    nonisolated(unsafe) private static let textPlain = cBytes("text/plain")

    /// Resets `stream` (`RST_STREAM`, INTERNAL_ERROR): the reset fault.
    func reset(_ stream: Int32) {
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream,
                                  NGHTTP2_INTERNAL_ERROR.rawValue)
    }

    fileprivate static func from(_ pointer: UnsafeMutableRawPointer?) -> HTTP2Session {
        Unmanaged<HTTP2Session>.fromOpaque(pointer!).takeUnretainedValue()
    }

    fileprivate func began(_ stream: Int32) { requests[stream] = Request() }

    fileprivate func header(_ stream: Int32, name: String, value: String) {
        switch name {
        case ":method": requests[stream]?.method = value
        case ":path": requests[stream]?.path = value
        case "content-type": requests[stream]?.contentType = value
        default: break
        }
    }

    fileprivate func data(_ stream: Int32, _ bytes: UnsafeBufferPointer<UInt8>) {
        guard var request = requests[stream] else { return }
        requests[stream] = nil  // no copy on append
        if request.body.count + bytes.count > Self.maxBody {
            request.bodyTooLong = true
        } else {
            request.body.append(contentsOf: bytes)
        }
        requests[stream] = request
    }

    fileprivate func wentAway() { peerWentAway = true }

    fileprivate func ended(_ stream: Int32) {
        guard let request = requests.removeValue(forKey: stream) else { return }
        complete.append((stream, request))
    }

    fileprivate func closed(_ stream: Int32, errorCode: UInt32) {
        requests[stream] = nil
        responses[stream] = nil
        if errorCode != NGHTTP2_NO_ERROR.rawValue { streamResets += 1 }
    }

    fileprivate func readBody(_ stream: Int32, into buffer: UnsafeMutablePointer<UInt8>, length: Int,
                              flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard var response = responses[stream] else {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            return 0
        }
        var count = min(length, response.body.count - response.sent)
        if response.split && response.sent == 0 && response.body.count > 1 { count = min(count, response.body.count / 2) }
        response.body.withUnsafeBytes { bytes in
            buffer.update(from: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + response.sent, count: count)
        }
        response.sent += count
        if response.sent == response.body.count {
            flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue
            responses[stream] = nil
        } else {
            responses[stream] = response
        }
        return count
    }
}

private func cBytes(_ text: String) -> (pointer: UnsafeMutablePointer<UInt8>, count: Int) {
    let bytes = Array(text.utf8)
    let pointer = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, bytes.count))
    pointer.initialize(from: bytes, count: bytes.count)
    return (pointer, bytes.count)
}

// nghttp2's callbacks: C functions that find the session through `user_data`.

private func h2BeginHeaders(_ session: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?,
                          _ user: UnsafeMutableRawPointer?) -> Int32 {
    guard let frame, frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
        frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST
    else { return 0 }
    HTTP2Session.from(user).began(frame.pointee.hd.stream_id)
    return 0
}

private func h2Header(_ session: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?, _ name: UnsafePointer<UInt8>?,
                    _ nameLength: Int, _ value: UnsafePointer<UInt8>?, _ valueLength: Int, _ flags: UInt8,
                    _ user: UnsafeMutableRawPointer?) -> Int32 {
    guard let frame, let name, let value else { return 0 }
    // Only `:method`, `:path` and `content-type` are read: the others cost no String.
    let first = nameLength > 0 ? name[0] : 0
    guard (nameLength == 7 && first == 0x3A) || (nameLength == 5 && first == 0x3A) || (nameLength == 12 && first == 0x63)
    else { return 0 }
    HTTP2Session.from(user).header(
        frame.pointee.hd.stream_id,
        name: String(decoding: UnsafeBufferPointer(start: name, count: nameLength), as: UTF8.self),
        value: String(decoding: UnsafeBufferPointer(start: value, count: valueLength), as: UTF8.self))
    return 0
}

private func h2DataChunk(_ session: OpaquePointer?, _ flags: UInt8, _ stream: Int32, _ data: UnsafePointer<UInt8>?,
                       _ length: Int, _ user: UnsafeMutableRawPointer?) -> Int32 {
    guard let data else { return 0 }
    HTTP2Session.from(user).data(stream, UnsafeBufferPointer(start: data, count: length))
    return 0
}

private func h2FrameReceived(_ session: OpaquePointer?, _ frame: UnsafePointer<nghttp2_frame>?,
                           _ user: UnsafeMutableRawPointer?) -> Int32 {
    guard let frame else { return 0 }
    let type = frame.pointee.hd.type
    if type == UInt8(NGHTTP2_GOAWAY.rawValue) { HTTP2Session.from(user).wentAway() }
    let endStream = frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0
    if endStream && (type == UInt8(NGHTTP2_HEADERS.rawValue) || type == UInt8(NGHTTP2_DATA.rawValue)) {
        HTTP2Session.from(user).ended(frame.pointee.hd.stream_id)
    }
    return 0
}

private func h2StreamClosed(_ session: OpaquePointer?, _ stream: Int32, _ errorCode: UInt32,
                          _ user: UnsafeMutableRawPointer?) -> Int32 {
    HTTP2Session.from(user).closed(stream, errorCode: errorCode)
    return 0
}

private func h2ReadBody(_ session: OpaquePointer?, _ stream: Int32, _ buffer: UnsafeMutablePointer<UInt8>?, _ length: Int,
                      _ flags: UnsafeMutablePointer<UInt32>?, _ source: UnsafeMutablePointer<nghttp2_data_source>?,
                      _ user: UnsafeMutableRawPointer?) -> Int {
    guard let buffer, let flags else { return Int(NGHTTP2_ERR_CALLBACK_FAILURE.rawValue) }
    return HTTP2Session.from(user).readBody(stream, into: buffer, length: length, flags: flags)
}
