#if canImport(Glibc)
import Glibc
#endif

/// Why the reactor could not run or finish an operation. Carries `errno` where a system call failed.
public struct ReactorError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The kind of failure; new kinds may be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Kind: UInt8 { case limitReached, shutDown, timedOut, systemCall, backend, invalidArgument }
        fileprivate let kind: Kind
        /// A configured limit (for instance `maxOperations`) was reached. Windows: `ERROR_NOT_ENOUGH_QUOTA`.
        public static let limitReached = Code(kind: .limitReached)
        /// The reactor is shut down or shutting down. Windows: `ERROR_OPERATION_ABORTED`.
        public static let shutDown = Code(kind: .shutDown)
        /// The operation's deadline passed. Windows: `ERROR_TIMEOUT`.
        public static let timedOut = Code(kind: .timedOut)
        /// A system call failed; `errno` holds its error number.
        public static let systemCall = Code(kind: .systemCall)
        /// libevent could not be set up as required (for instance the backend is not epoll).
        public static let backend = Code(kind: .backend)
        /// A value the caller passed is out of range (a group of 0 reactors, `maxOperations` 0);
        /// the detail says which. Windows: `ERROR_INVALID_PARAMETER`.
        public static let invalidArgument = Code(kind: .invalidArgument)
        public var description: String { "\(kind)" }
    }

    /// What went wrong.
    public let code: Code
    /// The `errno` of the failed system call, or 0.
    public let errno: Int32
    /// A human-readable detail (the call that failed, the limit that was hit).
    public let detail: String

    /// Makes an error value; `errno` defaults to 0.
    public init(_ code: Code, errno: Int32 = 0, _ detail: String = "") {
        self.code = code
        self.errno = errno
        self.detail = detail
    }

    /// `code: detail: errno text (errno N)`, the empty parts left out
    /// (`systemCall: calloc: …: Cannot allocate memory (errno 12)`).
    public var description: String {
        var text = "\(code)"
        if !detail.isEmpty { text += ": \(detail)" }
        if errno != 0 { text += ": \(String(cString: strerror(errno))) (errno \(errno))" }
        return text
    }
}
