import CSystemShims

#if canImport(Glibc)
import Glibc
#endif

/// A failed system call: the call's name and the `errno` it set. The one error of the system
/// layer; the layers above keep the number (`errno`) for code and show `description` to people.
public struct SystemError: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    /// The C call that failed, e.g. `connect`.
    public let call: String
    /// The `errno` it set.
    public let errno: Int32

    /// A failure of `call` with `errno`.
    public init(_ call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// A failure of `call` with the calling thread's current `errno`.
    public static func current(_ call: String) -> SystemError {
        SystemError(call, errno: Glibc.errno)
    }

    /// `connect: Connection refused (errno 111)`.
    public var description: String { "\(call): \(Self.text(errno)) (errno \(errno))" }

    /// The C library's text for an errno (`Connection refused`); thread-safe (`strerror_r`).
    public static func text(_ code: Int32) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 128) { buffer in
            String(cString: evq_strerror(code, buffer.baseAddress, buffer.count))
        }
    }
}
