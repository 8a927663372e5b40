#if canImport(Glibc)
import Glibc
#endif

/// A self-signed certificate for `localhost` and 127.0.0.1 (EC P-256, valid a day, or expired: valid
/// only on 2020-01-01), made by `openssl` (at most 30 s a step) in a directory of its own, which is
/// removed when the value is freed.
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

    /// Makes the certificate; `expired`, one whose validity ended in 2020 (`openssl ca -selfsign`
    /// with its dates given, since `openssl req` starts a certificate now).
    /// - Throws: `Failure`, or `ChildProcess.SpawnError` without `openssl`.
    public init(expired: Bool = false) throws {
        var template = Array("/tmp/evq-cert-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw Failure(description: "mkdtemp: \(String(cString: strerror(errno)))")
        }
        directory = String(cString: made)
        let request = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                       "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key]
        guard expired else {
            try Self.openssl(["req", "-x509", "-days", "1", "-out", certificate] + request)
            return
        }
        let configuration = """
            [ca]
            default_ca = self
            [self]
            database = \(directory)/index.txt
            serial = \(directory)/serial
            new_certs_dir = \(directory)
            default_md = sha256
            policy = any
            copy_extensions = copy
            [any]
            commonName = supplied

            """
        for (name, text) in [("ca.cnf", configuration), ("index.txt", ""), ("serial", "01\n")] {
            guard let file = fopen(directory + "/" + name, "w") else {
                throw Failure(description: "\(directory)/\(name): \(String(cString: strerror(errno)))")
            }
            fputs(text, file)
            fclose(file)
        }
        try Self.openssl(["req", "-new", "-out", directory + "/request.pem"] + request)
        try Self.openssl(["ca", "-batch", "-config", directory + "/ca.cnf", "-selfsign", "-keyfile", key, "-in",
                          directory + "/request.pem", "-startdate", "20200101000000Z", "-enddate",
                          "20200102000000Z", "-out", certificate])
    }

    /// Runs `openssl arguments`, at most 30 s. - Throws: `Failure` when it does not exit 0.
    private static func openssl(_ arguments: [String]) throws {
        let run = try ChildProcess.run("/usr/bin/openssl", arguments, timeout: .seconds(30))
        guard run.status == 0 else {
            throw Failure(description: "openssl \(arguments[0]) exited with \(run.status): \(run.errors)")
        }
    }

    deinit {
        // What openssl left: the certificate, its key, and for an expired one the request and the
        // self-signing's configuration, database and copy of the certificate.
        if let folder = opendir(directory) {
            while let entry = readdir(folder) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                if name != "." && name != ".." { unlink(directory + "/" + name) }
            }
            closedir(folder)
        }
        rmdir(directory)
    }
}
