#if canImport(Glibc)
import Glibc
#endif

/// A system call of a scan failed; carries the `errno`.
///
/// Corresponds to the Win32 error a failing `EvtQuery`/`EvtNext` leaves in `GetLastError`.
public struct LogScanError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The failing call (`open`, `fstat`, `pread`).
    public var operation: String
    /// The `errno` value.
    public var errno: Int32

    /// The file the call concerned, when known.
    public var path: String?

    /// Makes an error.
    public init(operation: String, errno: Int32, path: String? = nil) {
        self.operation = operation
        self.errno = errno
        self.path = path
    }

    /// `open /var/log/x: No such file or directory (errno 2)`; without a path, `pread: …`.
    public var description: String {
        "\(operation)\(path.map { " \($0)" } ?? ""): \(errnoText(errno))"
    }
}
