import COpenSSL
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// Called by OpenSSL when a TLS session arrives that may be resumed later (TLS 1.3 sends it after
/// the handshake): the context keeps the newest per server. Returns 1: the context took the reference.
private let newSessionTrampoline: @convention(c) (OpaquePointer?, OpaquePointer?) -> Int32 = { ssl, session in
    guard let ssl, let session, let raw = SSL_get_ex_data(ssl, 0) else { return 0 }
    // Slot 0 holds the connection, unretained: OpenSSL calls back only while it reads, inside one
    // of the connection's callbacks, so the connection is alive.
    return Unmanaged<StreamConnection>.fromOpaque(raw).takeUnretainedValue().keepSession(session) ? 1 : 0
}

/// The client side of TLS 1.2 and 1.3 (OpenSSL's `SSL_CTX`) for `StreamConnection`: which
/// certificates are trusted (a CA file, or the system's store), whether the peer's certificate
/// and name are checked at all, and the sessions kept for resumption (the newest per server name
/// and address, reused by the next connection to it).
///
/// Loop-bound: the kept sessions are the loop's; make one context per reactor.
public final class TLSClientContext {
    let context: OpaquePointer
    /// Whether certificates and names are checked.
    public let verifiesPeer: Bool
    private var sessions: [String: OpaquePointer] = [:]

    /// A client context trusting the certificates in `caFile` (PEM), or the system's store when nil;
    /// `verifyPeer: false` accepts any certificate and name (`--insecure`, for self-signed test
    /// servers). TLS 1.2 at least. `applicationProtocols` are offered by ALPN in order of preference
    /// (`["h2"]` for DNS over HTTPS; empty: no ALPN), and `StreamConnection.negotiatedProtocol` tells
    /// which one the server chose.
    /// - Throws: `StreamError` naming the file and why it could not be read, or OpenSSL's words.
    /// The corresponding C functions are `SSL_CTX_new`, `SSL_CTX_load_verify_locations`,
    /// `SSL_CTX_set_default_verify_paths` and `SSL_CTX_set_alpn_protos`.
    public init(caFile: String?, verifyPeer: Bool, applicationProtocols: [String] = []) throws(StreamError) {
        if let caFile, access(caFile, R_OK) != 0 {
            // Words naming the file, not an errno: a caller asked for a file that is not there.
            throw StreamError(tlsFailure: "CA file \(caFile)", detail: SystemError.text(errno))
        }
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw StreamError(tlsFailure: "SSL_CTX_new", detail: Self.drainErrors())
        }
        self.context = context
        verifiesPeer = verifyPeer
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        // SSL_OP_IGNORE_UNEXPECTED_EOF: a server that closes without close_notify ends the connection
        // as a close (libevent's EOF), not as OpenSSL 3's "unexpected eof while reading" error. DNS
        // framing (the length prefix, HTTP/2's frames) still tells a reply cut short by it.
        _ = SSL_CTX_set_options(context, UInt64(1) << 7)
        if verifyPeer {
            let loaded = caFile.map { SSL_CTX_load_verify_locations(context, $0, nil) }
                ?? SSL_CTX_set_default_verify_paths(context)
            guard loaded == 1 else {
                SSL_CTX_free(context)
                throw StreamError(tlsFailure: "CA certificates \(caFile ?? "(system store)")", detail: Self.drainErrors())
            }
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_SESS_CACHE_MODE, Int(SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE), nil)
        SSL_CTX_sess_set_new_cb(context, newSessionTrampoline)
        if !applicationProtocols.isEmpty {
            // The wire form: each name after its one-byte length.
            let wire = applicationProtocols.flatMap { [UInt8(clamping: $0.utf8.count)] + Array($0.utf8.prefix(255)) }
            guard SSL_CTX_set_alpn_protos(context, wire, UInt32(wire.count)) == 0 else {  // 0 is success here
                SSL_CTX_free(context)
                throw StreamError(tlsFailure: "ALPN \(applicationProtocols)", detail: Self.drainErrors())
            }
        }
    }

    deinit {
        for session in sessions.values { SSL_SESSION_free(session) }
        SSL_CTX_free(context)
    }

    /// Sets up `connection`'s new `SSL` before its handshake: the name to send and check (or the
    /// address to check), and the session to resume, if one is kept.
    func prepare(_ ssl: OpaquePointer, for connection: StreamConnection, serverName: String?, addressText: String,
                 sessionKey: String) {
        SSL_set_ex_data(ssl, 0, Unmanaged.passUnretained(connection).toOpaque())
        if let serverName {
            // OpenSSL copies the name during the call.
            _ = serverName.withCString { name in
                SSL_ctrl(ssl, SSL_CTRL_SET_TLSEXT_HOSTNAME, Int(TLSEXT_NAMETYPE_host_name),
                         UnsafeMutableRawPointer(mutating: name))
            }
            if verifiesPeer { _ = SSL_set1_host(ssl, serverName) }
        } else if verifiesPeer {
            _ = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), addressText)
        }
        if let session = sessions[sessionKey] { _ = SSL_set_session(ssl, session) }
    }

    /// The handshake of `ssl` is over: a TLS 1.2 session is kept now (TLS 1.3's arrive later,
    /// through the new-session callback).
    func handshakeCompleted(_ ssl: OpaquePointer, sessionKey: String) {
        if SSL_version(ssl) < TLS1_3_VERSION, let session = SSL_get1_session(ssl) { keep(session, for: sessionKey) }
    }

    /// Keeps `session` (a reference the context now owns) as the one to resume for `key`; the
    /// reference it replaces is dropped (a resumed TLS 1.2 session comes back as the same one with
    /// one more reference, which is dropped too).
    func keep(_ session: OpaquePointer, for key: String) {
        if let old = sessions.updateValue(session, forKey: key) { SSL_SESSION_free(old) }
    }

    /// OpenSSL's queued errors of this thread in words, cleared.
    static func drainErrors() -> String {
        var texts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            texts.append(text(of: code))
        }
        return texts.joined(separator: "; ")
    }

    /// One OpenSSL error code in words (its reason: `certificate verify failed`).
    static func text(of code: UInt) -> String {
        if let reason = ERR_reason_error_string(code) { return String(cString: reason) }
        var buffer = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
