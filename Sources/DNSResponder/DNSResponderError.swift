#if canImport(Glibc)
import Glibc
#endif

/// Why the responder could not start: the failing call and its errno.
public struct DNSResponderError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The system call or step that failed (`bind`, `socket`, `zone`, …).
    public var operation: String
    /// Its errno (0 when the failure is not a system call's).
    public var errno: Int32
    /// What went wrong, for a person.
    public var detail: String

    /// Makes an error.
    public init(_ operation: String, errno: Int32 = 0, detail: String = "") {
        self.operation = operation
        self.errno = errno
        self.detail = detail
    }

    /// `operation: detail: strerror text (errno N)`, the empty parts left out.
    public var description: String {
        let reason = errno != 0 ? String(cString: strerror(errno)) + " (errno \(errno))" : ""
        return [operation, detail, reason].filter { !$0.isEmpty }.joined(separator: ": ")
    }
}
