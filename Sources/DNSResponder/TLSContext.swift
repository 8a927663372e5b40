import COpenSSL

#if canImport(Glibc)
import Glibc
#endif

/// The responder's OpenSSL server context for one TLS transport: the certificate chain and key,
/// TLS 1.2 and 1.3, session tickets (resumption), and the ALPN protocol it speaks (`dot` for DNS
/// over TLS, offered but not required; `h2` for DNS over HTTPS, required). Made once before the
/// threads start; OpenSSL lets every thread make sessions from it.
final class TLSContext: @unchecked Sendable {
    /// The ALPN protocol the transport speaks.
    enum ALPN: Int { case dot = 1, h2 = 2 }

    let context: OpaquePointer
    let alpn: ALPN

    /// Loads `certificate` (PEM, a chain) and `key` (PEM) and checks they match.
    /// - Throws: `DNSResponderError` naming the file and OpenSSL's reason.
    init(certificate: String, key: String, alpn: ALPN) throws(DNSResponderError) {
        for (what, path) in [("--tls-cert", certificate), ("--tls-key", key)] where access(path, R_OK) != 0 {
            throw DNSResponderError("tls", errno: errno, detail: "\(what) \(path)")
        }
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw DNSResponderError("tls", detail: "SSL_CTX_new: \(Self.lastError())")
        }
        self.context = context
        self.alpn = alpn
        // TLS 1.2 at least; clients that close without close_notify end cleanly; a moving write
        // buffer, as the connection's output array may grow between a WANT_WRITE and the retry.
        _ = SSL_CTX_ctrl(context, SSL_CTRL_SET_MIN_PROTO_VERSION, Int(TLS1_2_VERSION), nil)
        _ = SSL_CTX_set_options(context, UInt64(1) << 7)  // SSL_OP_IGNORE_UNEXPECTED_EOF
        _ = SSL_CTX_ctrl(context, SSL_CTRL_MODE,
                         Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER), nil)
        let sessionContext: [UInt8] = Array("evq-\(alpn)".utf8)
        _ = SSL_CTX_set_session_id_context(context, sessionContext, UInt32(sessionContext.count))
        // A throw from here on runs deinit, which frees the context.
        guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
            throw DNSResponderError("tls", detail: "--tls-cert \(certificate): \(Self.lastError())")
        }
        guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1,
            SSL_CTX_check_private_key(context) == 1
        else {
            throw DNSResponderError("tls", detail: "--tls-key \(key): \(Self.lastError())")
        }
        SSL_CTX_set_alpn_select_cb(context, selectALPN, UnsafeMutableRawPointer(bitPattern: alpn.rawValue))
    }

    deinit { SSL_CTX_free(context) }

    /// A server session on the accepted socket `fd` (`SSL_new`, `SSL_set_fd`, accept state).
    func session(fd: Int32) -> OpaquePointer? {
        guard let ssl = SSL_new(context) else { return nil }
        SSL_set_fd(ssl, fd)
        SSL_set_accept_state(ssl)
        return ssl
    }

    /// OpenSSL's reason for the last failure on this thread, in words; the queue is emptied.
    static func lastError() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            if let text = ERR_reason_error_string(code) { reasons.append(String(cString: text)) }
        }
        return reasons.isEmpty ? "unknown error" : reasons.joined(separator: ": ")
    }

    /// Whether the session's ALPN protocol is `h2`.
    static func negotiatedH2(_ ssl: OpaquePointer) -> Bool {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length == 2 else { return false }
        return data[0] == 0x68 && data[1] == 0x32
    }
}

/// OpenSSL's ALPN choice: the transport's protocol if the client offers it (pointing into the
/// client's list, as OpenSSL asks); else DoH refuses the handshake and DoT goes on without ALPN.
private func selectALPN(
    _ ssl: OpaquePointer?, _ out: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ outLength: UnsafeMutablePointer<UInt8>?,
    _ offered: UnsafePointer<UInt8>?, _ offeredLength: UInt32, _ argument: UnsafeMutableRawPointer?
) -> Int32 {
    let wanted: [UInt8] = Int(bitPattern: argument) == TLSContext.ALPN.h2.rawValue ? [0x68, 0x32] : [0x64, 0x6F, 0x74]
    var offset = 0
    if let offered {
        while offset < Int(offeredLength) {
            let length = Int(offered[offset])
            let start = offset + 1
            guard start + length <= Int(offeredLength) else { break }
            if length == wanted.count && (0..<length).allSatisfy({ offered[start + $0] == wanted[$0] }) {
                out?.pointee = offered + start
                outLength?.pointee = UInt8(length)
                return SSL_TLSEXT_ERR_OK
            }
            offset = start + length
        }
    }
    return wanted.count == 2 ? SSL_TLSEXT_ERR_ALERT_FATAL : SSL_TLSEXT_ERR_NOACK
}
