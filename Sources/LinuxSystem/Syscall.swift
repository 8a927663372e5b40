#if canImport(Glibc)
import Glibc
#endif

/// The one wrapper every system call of this layer goes through: `EINTR` is retried, `EAGAIN` /
/// `EWOULDBLOCK` is a value (`nil`: "nothing now", not an error), any other failure throws a
/// `SystemError` naming the call.
public enum Syscall {
    /// Runs `body` (a C call returning a negative value and setting `errno` on failure) until it is
    /// not interrupted. Returns its result, or nil when it would block.
    /// - Throws: `SystemError(call, errno:)` for any other failure.
    @inlinable
    public static func run<Result: BinaryInteger>(_ call: StaticString, _ body: () -> Result)
        throws(SystemError) -> Result?
    {
        while true {
            let result = body()
            if result >= 0 { return result }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return nil
            default: throw SystemError("\(call)", errno: errno)
            }
        }
    }
}
