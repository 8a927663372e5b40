import CLibevent
import COpenSSL
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// The C trampolines of every stream connection: the argument is an unretained `StreamConnection`,
/// which holds a +1 on itself from `init` until `close()` (libevent's `bufferevent_free` clears the
/// callbacks, so none runs after it).
private let streamReadTrampoline: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, arg in
    guard let arg else { return }
    let connection = Unmanaged<StreamConnection>.fromOpaque(arg).takeUnretainedValue()
    connection.reactor.callbackStarting()
    connection.readable()
    connection.reactor.afterCallback()
}

/// The output of a connection closing once written (`closeWhenWritten(within:)`) has left: it closes now.
private let streamWrittenTrampoline: @convention(c) (OpaquePointer?, UnsafeMutableRawPointer?) -> Void = { _, arg in
    guard let arg else { return }
    let connection = Unmanaged<StreamConnection>.fromOpaque(arg).takeUnretainedValue()
    let reactor = connection.reactor
    reactor.callbackStarting()
    connection.close()
    reactor.afterCallback()
}

private let streamEventTrampoline: @convention(c) (OpaquePointer?, Int16, UnsafeMutableRawPointer?) -> Void = {
    _, what, arg in
    guard let arg else { return }
    let code = errno  // before anything else can overwrite it
    let connection = Unmanaged<StreamConnection>.fromOpaque(arg).takeUnretainedValue()
    connection.reactor.callbackStarting()
    connection.event(what, errno: code)
    connection.reactor.afterCallback()
}

/// A TCP connection on a reactor's loop, plain or under TLS: libevent's `bufferevent` over a
/// connected (or connecting) socket, `bufferevent_openssl` for TLS. Writes are queued in the
/// connection's output buffer and leave when the socket (and the TLS handshake) allow; the handler
/// runs on the loop thread with `.connected` (TLS: the handshake is over), `.readable` (new input is
/// in the input buffer) and, once, `.closed` with why.
///
/// Loop-bound: create, use and close it on the reactor's thread. From creation until `close()` it
/// counts as one registered event in the reactor's counters, and its libevent events count in the
/// audit's `libeventEvents`: closing it brings both back. The handler never runs after `close()`.
///
/// Creating the first connection sets `SIGPIPE` to be ignored for the process: libevent and OpenSSL
/// write with `writev`/`write`, and a peer that closed would otherwise kill the process.
public final class StreamConnection {
    /// What the handler is told.
    public enum Event {
        /// The TLS handshake completed (plain TCP connections never report it: the first write
        /// or read tells).
        case connected
        /// New bytes are in the input buffer (`inputCount`, `peekInput`, `drainInput`).
        case readable
        /// The connection ended: the peer closed it, a system call failed, or TLS failed. Runs once;
        /// the input still buffered may be read in the handler, and the connection closes when it
        /// returns.
        case closed(StreamError)
    }

    fileprivate unowned let reactor: Reactor
    fileprivate let handler: (Event) -> Void
    private var bufferEvent: OpaquePointer?
    private var ssl: OpaquePointer?
    private let context: TLSClientContext?
    private let sessionKey: String
    /// TLS: the handshake completed and the connection has not failed since, so a close sends
    /// close_notify (OpenSSL will not resume a session whose connection was dropped without one).
    private var orderly = false

    private static let ignoreBrokenPipe: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    /// Wraps the connected (or connecting) stream socket `fd`, which the connection then owns (it is
    /// closed with the connection, also when this throws).
    /// - Parameters:
    ///   - reactor: the loop; call on its thread.
    ///   - fd: the connected or connecting stream socket, owned by the connection from here on.
    ///   - tls: with a context, the connection speaks TLS (client side); nil: plain TCP.
    ///   - serverName: with TLS, the name sent (SNI) and the certificate must carry; nil: the
    ///     certificate must carry the address `addressText` instead.
    ///   - addressText: the peer's address as text (`127.0.0.1`), for verification and as the key of
    ///     the TLS session kept for resumption.
    ///   - handler: runs on the loop thread for each `Event`.
    /// - Throws: `StreamError` when libevent or OpenSSL cannot make the connection's objects.
    /// The corresponding C functions are `bufferevent_socket_new` and `bufferevent_openssl_socket_new`.
    public init(
        reactor: Reactor, fd: Int32, tls: TLSClientContext?, serverName: String? = nil, addressText: String,
        handler: @escaping (Event) -> Void
    ) throws(StreamError) {
        reactor.assertInLoop()
        _ = Self.ignoreBrokenPipe
        self.reactor = reactor
        self.handler = handler
        context = tls
        sessionKey = (serverName ?? "") + "@" + addressText
        let options = Int32(BEV_OPT_CLOSE_ON_FREE.rawValue)
        let made: OpaquePointer?
        if let tls {
            guard let ssl = SSL_new(tls.context) else {
                Socket.close(fd)
                throw StreamError(tlsFailure: "SSL_new", detail: TLSClientContext.drainErrors())
            }
            self.ssl = ssl
            tls.prepare(ssl, for: self, serverName: serverName, addressText: addressText, sessionKey: sessionKey)
            made = bufferevent_openssl_socket_new(reactor.base.pointer, fd, ssl, BUFFEREVENT_SSL_CONNECTING, options)
            if made == nil { SSL_free(ssl) }  // on success, the bufferevent frees it
        } else {
            made = bufferevent_socket_new(reactor.base.pointer, fd, options)
        }
        guard let made else {
            ssl = nil
            Socket.close(fd)
            throw StreamError(errno: ENOMEM, "bufferevent_socket_new")
        }
        bufferEvent = made
        if tls != nil { bufferevent_openssl_set_allow_dirty_shutdown(made, 1) }
        let context = Unmanaged.passRetained(self).toOpaque()
        bufferevent_setcb(made, streamReadTrampoline, nil, streamEventTrampoline, context)
        bufferevent_enable(made, Int16(EV_READ | EV_WRITE))
        reactor.counters.eventArmed()
    }

    /// Whether `close()` has not run yet.
    public var isOpen: Bool { bufferEvent != nil }

    /// Whether the TLS handshake resumed a session kept from an earlier connection to the same
    /// server (false for plain TCP). The corresponding C function is `SSL_session_reused`.
    public var resumedSession: Bool {
        guard let ssl, bufferEvent != nil else { return false }
        return SSL_session_reused(ssl) == 1
    }

    /// The application protocol the server chose by ALPN (`h2`), nil when it chose none (or the
    /// connection is plain TCP, or closed). The corresponding C function is `SSL_get0_alpn_selected`.
    public var negotiatedProtocol: String? {
        guard let ssl, bufferEvent != nil else { return nil }
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Closes the connection once the output queued so far has left (at once when none is queued),
    /// or when `limit` passes without the socket taking any of it (a peer that stopped reading):
    /// the last words of a protocol (an HTTP/2 GOAWAY) reach the peer, and the connection is gone
    /// within a bound either way. Nothing is read meanwhile and the handler does not run again;
    /// `close()` still closes it at once. The corresponding C function is `bufferevent_set_timeouts`.
    public func closeWhenWritten(within limit: Duration) {
        reactor.assertInLoop()
        guard let bufferEvent else { return }
        closing = true
        guard evbuffer_get_length(bufferevent_get_output(bufferEvent)) > 0 else { return close() }
        let parts = max(limit, .microseconds(1)).components
        var timeout = timeval(tv_sec: Int(parts.seconds), tv_usec: Int(parts.attoseconds / 1_000_000_000_000))
        bufferevent_set_timeouts(bufferEvent, nil, &timeout)
        bufferevent_disable(bufferEvent, Int16(EV_READ))
        bufferevent_setcb(bufferEvent, nil, streamWrittenTrampoline, streamEventTrampoline,
                          Unmanaged.passUnretained(self).toOpaque())
    }

    /// Set by `closeWhenWritten(within:)`: the handler is done with.
    private var closing = false

    /// Queues `bytes` for the peer (copied); false if the connection is closed or out of memory.
    /// The corresponding C function is `bufferevent_write`.
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let bufferEvent else { return false }
        return bufferevent_write(bufferEvent, bytes.baseAddress, bytes.count) == 0
    }

    /// Bytes waiting in the input buffer.
    public var inputCount: Int {
        guard let bufferEvent else { return 0 }
        return evbuffer_get_length(bufferevent_get_input(bufferEvent))
    }

    /// The first `count` input bytes in one piece (made contiguous if they were not), or nil when
    /// fewer are buffered. Valid until the next `drainInput`, read or `close()`.
    /// The corresponding C function is `evbuffer_pullup`.
    public func peekInput(_ count: Int) -> UnsafeRawBufferPointer? {
        guard let bufferEvent, count > 0 else { return nil }
        let input = bufferevent_get_input(bufferEvent)
        guard evbuffer_get_length(input) >= count, let start = evbuffer_pullup(input, count) else { return nil }
        return UnsafeRawBufferPointer(start: start, count: count)
    }

    /// Drops the first `count` input bytes. The corresponding C function is `evbuffer_drain`.
    public func drainInput(_ count: Int) {
        guard let bufferEvent else { return }
        evbuffer_drain(bufferevent_get_input(bufferEvent), count)
    }

    /// Frees the connection, its socket and its TLS state (idempotent; safe inside the handler).
    /// A TLS connection in good order first sends close_notify, so its session may be resumed.
    /// The handler does not run again. The corresponding C functions are `SSL_shutdown` and
    /// `bufferevent_free`.
    public func close() {
        reactor.assertInLoop()
        guard let bufferEvent else { return }
        self.bufferEvent = nil
        if let ssl, orderly { _ = SSL_shutdown(ssl) }  // non-blocking, once: best effort
        ssl = nil
        bufferevent_free(bufferEvent)
        reactor.counters.eventDisarmed()
        Unmanaged.passUnretained(self).release()
    }

    /// Gives up the socket without freeing libevent's objects: for an owner torn down off the loop
    /// after the loop stopped. Closes the fd; the bufferevent, its `SSL` and this object are left
    /// allocated (the base does not free them), as every event torn down off its loop is.
    public func abandon() {
        guard let bufferEvent else { return }
        self.bufferEvent = nil
        let fd = bufferevent_getfd(bufferEvent)
        if fd >= 0 { Socket.close(fd) }
    }

    /// OpenSSL handed over a session to resume later: the context keeps it. False when closed.
    func keepSession(_ session: OpaquePointer) -> Bool {
        guard bufferEvent != nil, let context else { return false }
        context.keep(session, for: sessionKey)
        return true
    }

    /// New input: the handler is told, unless the connection is closing once written.
    fileprivate func readable() {
        if !closing { handler(.readable) }
    }

    /// A bufferevent event (`BEV_EVENT_*`): the handshake completed, or the connection ended.
    fileprivate func event(_ what: Int16, errno code: Int32) {
        guard let bufferEvent else { return }
        guard !closing else { return close() }
        let what = Int32(what)
        if what & Int32(BEV_EVENT_CONNECTED) != 0 {
            orderly = true
            if let ssl { context?.handshakeCompleted(ssl, sessionKey: sessionKey) }
            handler(.connected)
            return
        }
        orderly = false
        let error: StreamError
        if what & Int32(BEV_EVENT_EOF) != 0 {
            error = StreamError(closedBy: "the peer closed the connection")
        } else if ssl != nil, let tlsError = tlsFailure(bufferEvent) {
            error = tlsError
        } else {
            error = StreamError(errno: code == 0 ? ECONNRESET : code, "connection")
        }
        handler(.closed(error))
        close()
    }

    /// The TLS error behind a `BEV_EVENT_ERROR`, in words: a failed certificate check says why
    /// (`certificate verify failed: self-signed certificate`); nil when OpenSSL reported none.
    private func tlsFailure(_ bufferEvent: OpaquePointer) -> StreamError? {
        var texts: [String] = []
        while true {
            let code = bufferevent_get_openssl_error(bufferEvent)
            if code == 0 { break }
            texts.append(TLSClientContext.text(of: code))
        }
        if let ssl {
            let verify = SSL_get_verify_result(ssl)
            if verify != X509_V_OK {
                let reason = String(cString: X509_verify_cert_error_string(verify))
                return StreamError(tlsFailure: "certificate verify failed", detail: reason)
            }
        }
        guard !texts.isEmpty else { return nil }
        return StreamError(tlsFailure: "TLS", detail: texts.joined(separator: "; "))
    }
}

/// Why a stream connection ended or could not be made: an errno, the peer's close, or a TLS
/// failure, each in words (`connection: Connection refused (errno 111)`,
/// `certificate verify failed: Hostname mismatch`).
public struct StreamError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The errno, 0 when the failure was not a system call's (TLS, the peer's close).
    public let errno: Int32
    /// Whether TLS failed (the handshake, a certificate, a record).
    public let isTLS: Bool
    /// One sentence saying what failed.
    public let description: String

    /// A system call's failure: `what: Connection refused (errno 111)`.
    public init(errno: Int32, _ what: String) {
        self.errno = errno
        isTLS = false
        description = "\(what): \(SystemError.text(errno)) (errno \(errno))"
    }

    /// A TLS failure: `what: detail`.
    public init(tlsFailure what: String, detail: String) {
        errno = 0
        isTLS = true
        description = detail.isEmpty ? what : "\(what): \(detail)"
    }

    /// An orderly close by the peer, in words.
    public init(closedBy text: String) {
        errno = 0
        isTLS = false
        description = text
    }
}
