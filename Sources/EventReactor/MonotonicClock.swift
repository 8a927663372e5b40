#if canImport(Glibc)
import Glibc
#endif

/// Nanoseconds on `CLOCK_MONOTONIC`: the one clock every deadline, latency and cancel-latency
/// figure in evquery is measured on.
public enum MonotonicClock {
    /// The current `CLOCK_MONOTONIC` time in nanoseconds. Callable from any thread.
    /// The corresponding C function is `clock_gettime(CLOCK_MONOTONIC, …)`.
    @inline(__always)
    public static func now() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
