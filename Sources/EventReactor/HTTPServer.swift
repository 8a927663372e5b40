import CLibevent

#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server on a reactor's loop: libevent's own `evhttp` (its parser, keep-alive,
/// its limits on header and body size), for endpoints such as Prometheus's `/metrics`. Requests
/// are answered on the reactor's thread, one at a time, by the handler given at start; give the
/// server a reactor of its own so that a slow scrape never delays other operations.
///
/// The corresponding C functions are `evhttp_new`, `evhttp_bind_socket_with_handle`,
/// `evhttp_set_gencb`, `evhttp_send_reply` and `evhttp_free`.
public final class HTTPServer: Sendable {
    /// What a request asked.
    public struct Request: Sendable {
        /// `GET`, `HEAD`, `POST`, … (`OTHER` for the rest).
        public var method: String
        /// The path of the request's URI, without the query (`/metrics`).
        public var path: String
    }

    /// What a request gets.
    public struct Response: Sendable {
        public var status: Int
        public var contentType: String
        public var body: [UInt8]

        /// A response with its status, `Content-Type` and body.
        public init(status: Int, contentType: String = "text/plain; charset=utf-8", body: [UInt8]) {
            self.status = status
            self.contentType = contentType
            self.body = body
        }
    }

    /// The reactor the server runs on.
    public let reactor: Reactor
    /// The port it listens on (the kernel's choice when started with port 0).
    public let port: UInt16
    private let http: Locked<LoopBoundHTTP?>

    /// Listens on `host:port` (an IPv4 or IPv6 address; port 0: the kernel chooses) and answers
    /// each request with `handler` on `reactor`'s thread. Call from any thread but the reactor's.
    /// - Throws: `ReactorError`: `.invalidArgument` for a host that is not a numeric address (no
    ///   name is resolved), `.systemCall` with the errno when the address cannot be bound.
    public init(reactor: Reactor, host: String, port: UInt16,
                handler: @escaping @Sendable (Request) -> Response) throws(ReactorError) {
        self.reactor = reactor
        let started = reactor.syncOnLoop { () -> Result<LoopBoundHTTP, ReactorError> in
            LoopBoundHTTP.start(reactor: reactor, host: host, port: port, handler: handler)
        }
        switch started {
        case .success(let bound):
            self.port = bound.port
            http = Locked(bound)
        case .failure(let error):
            throw error
        }
    }

    /// Stops listening and frees the server (open connections are closed). Idempotent; call from
    /// any thread but the reactor's, before the reactor shuts down.
    public func close() {
        guard let bound = http.withLock({ current -> LoopBoundHTTP? in
            defer { current = nil }
            return current
        }) else { return }
        reactor.syncOnLoop { bound.free() }
    }

    deinit { close() }
}

/// The handler passed through libevent as the callback's argument.
private final class HTTPHandlerBox {
    let handler: @Sendable (HTTPServer.Request) -> HTTPServer.Response
    init(_ handler: @escaping @Sendable (HTTPServer.Request) -> HTTPServer.Response) { self.handler = handler }
}

/// The `evhttp` and its handler box; created, used and freed on the reactor's thread only.
private final class LoopBoundHTTP: @unchecked Sendable {
    private var http: OpaquePointer?
    private let box: UnsafeMutableRawPointer
    let port: UInt16

    private init(http: OpaquePointer, box: UnsafeMutableRawPointer, port: UInt16) {
        self.http = http
        self.box = box
        self.port = port
    }

    static func start(reactor: Reactor, host: String, port: UInt16,
                      handler: @escaping @Sendable (HTTPServer.Request) -> HTTPServer.Response)
        -> Result<LoopBoundHTTP, ReactorError>
    {
        reactor.assertInLoop()
        // A numeric address only: libevent would resolve a name, a DNS query nobody asked for.
        var scratch = in6_addr()
        guard inet_pton(AF_INET, host, &scratch) == 1 || inet_pton(AF_INET6, host, &scratch) == 1 else {
            return .failure(ReactorError(.invalidArgument, "listen on \(host): not a numeric IPv4 or IPv6 address"))
        }
        guard let http = evhttp_new(reactor.base.pointer) else {
            return .failure(ReactorError(.backend, "evhttp_new"))
        }
        errno = 0
        guard let socket = evhttp_bind_socket_with_handle(http, host, port) else {
            let code = errno
            evhttp_free(http)
            let reason = code != 0 ? String(cString: strerror(code)) : "not an address to listen on"
            return .failure(ReactorError(.systemCall, errno: code, "listen on \(host):\(port): \(reason)"))
        }
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(evhttp_bound_socket_get_fd(socket), $0, &length) }
        }
        var bound = port
        if named == 0 {
            bound = withUnsafeBytes(of: address) { raw in
                // sin_port and sin6_port sit at the same offset, in network order.
                UInt16(bigEndian: raw.load(fromByteOffset: 2, as: UInt16.self))
            }
        }
        evhttp_set_allowed_methods(http, UInt16(EVHTTP_REQ_GET.rawValue | EVHTTP_REQ_HEAD.rawValue))
        evhttp_set_timeout(http, 10)
        let box = Unmanaged.passRetained(HTTPHandlerBox(handler)).toOpaque()
        evhttp_set_gencb(http, httpTrampoline, box)
        return .success(LoopBoundHTTP(http: http, box: box, port: bound))
    }

    /// Frees the evhttp (its listener and connections), then the handler box. Reactor thread.
    func free() {
        guard let http else { return }
        evhttp_free(http)
        self.http = nil
        Unmanaged<HTTPHandlerBox>.fromOpaque(box).release()
    }
}

/// evhttp's request callback: asks the handler and sends its response.
private let httpTrampoline: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { request, arg in
    guard let request, let arg else { return }
    let box = Unmanaged<HTTPHandlerBox>.fromOpaque(arg).takeUnretainedValue()
    let method = switch evhttp_request_get_command(request) {
    case EVHTTP_REQ_GET: "GET"
    case EVHTTP_REQ_HEAD: "HEAD"
    case EVHTTP_REQ_POST: "POST"
    default: "OTHER"
    }
    let uri = evhttp_request_get_uri(request).map { String(cString: $0) } ?? "/"
    let path = String(uri.prefix { $0 != "?" })
    let response = box.handler(HTTPServer.Request(method: method, path: path))
    evhttp_add_header(evhttp_request_get_output_headers(request), "Content-Type", response.contentType)
    guard let buffer = evbuffer_new() else {
        evhttp_send_error(request, 500, "out of memory")
        return
    }
    response.body.withUnsafeBytes { _ = evbuffer_add(buffer, $0.baseAddress, $0.count) }
    evhttp_send_reply(request, Int32(response.status), nil, buffer)  // nil: libevent names the status
    evbuffer_free(buffer)
}
