import CSystemShims

#if canImport(Glibc)
import Glibc
#endif

/// Calls about the running process and its threads.
public enum ProcessCalls {
    /// Names the calling thread (`pthread_setname_np`), cut to the kernel's 15 bytes; shown by `top -H`
    /// and read back from `/proc/self/task/*/comm`.
    public static func setCurrentThreadName(_ name: String) {
        _ = evq_set_current_thread_name(String(name.prefix(15)))
    }

    /// A non-blocking, close-on-exec `eventfd` starting at `value`.
    /// - Throws: `SystemError` of `eventfd`.
    public static func eventFD(_ value: UInt32 = 0) throws(SystemError) -> Int32 {
        let fd = evq_eventfd_nonblocking(value)
        guard fd >= 0 else { throw .current("eventfd") }
        return fd
    }

    /// Fills `buffer` from the kernel's CSPRNG (`getrandom(2)`); whether all of it was filled.
    public static func fillRandom(_ buffer: UnsafeMutableRawBufferPointer) -> Bool {
        var filled = 0
        while filled < buffer.count {
            let n = evq_getrandom(buffer.baseAddress! + filled, buffer.count - filled)
            if n < 0 {
                if errno == EINTR { continue }
                return false
            }
            filled += n
        }
        return true
    }
}

/// Starts loading the cache line at `address` for a write (`__builtin_prefetch(address, 1, 3)`):
/// a hint, no call.
@inlinable @inline(__always)
public func prefetchForWrite(_ address: UnsafeRawPointer) {
    evq_prefetch_for_write(address)
}
