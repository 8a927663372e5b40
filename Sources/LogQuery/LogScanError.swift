/// A system call of a scan failed; carries the `errno`.
///
/// Corresponds to the Win32 error a failing `EvtQuery`/`EvtNext` leaves in `GetLastError`.
public struct LogScanError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The failing call (`open`, `fstat`, `pread`).
    public var operation: String
    /// The `errno` value.
    public var errno: Int32

    /// Makes an error.
    public init(operation: String, errno: Int32) {
        self.operation = operation
        self.errno = errno
    }

    /// "operation: errno N".
    public var description: String { "\(operation) failed: errno \(errno)" }
}
