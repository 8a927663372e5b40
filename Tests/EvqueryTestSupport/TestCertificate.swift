#if canImport(Glibc)
import Glibc
#endif

/// A self-signed certificate for `localhost` and 127.0.0.1 (EC P-256, valid a day), made by `openssl`
/// (at most 30 s) in a directory of its own, which is removed when the value is freed.
public final class TestCertificate: Sendable {
    /// The directory that holds the certificate and its key.
    public let directory: String
    /// The certificate, PEM.
    public var certificate: String { directory + "/cert.pem" }
    /// The private key, PEM.
    public var key: String { directory + "/key.pem" }

    /// Why no certificate was made, in words.
    public struct Failure: Error, CustomStringConvertible {
        /// What failed and why.
        public var description: String
    }

    /// Makes the certificate. - Throws: `Failure`, or `ChildProcess.SpawnError` without `openssl`.
    public init() throws {
        var template = Array("/tmp/evq-cert-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw Failure(description: "mkdtemp: \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
        let run = try ChildProcess.run(
            "/usr/bin/openssl",
            ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
             "-keyout", directory + "/key.pem", "-out", directory + "/cert.pem"],
            timeout: .seconds(30))
        guard run.status == 0 else {
            throw Failure(description: "openssl req exited with \(run.status): \(run.errors)")
        }
    }

    deinit {
        unlink(certificate)
        unlink(key)
        rmdir(directory)
    }
}
