#if canImport(Glibc)
import Glibc
#endif

/// A value behind a `pthread_mutex_t`. Any thread.
///
/// evquery uses this instead of `Synchronization.Mutex`: on Linux that one is built on raw futex
/// calls, which ThreadSanitizer cannot see, so every access it guards would be reported as a race.
/// A pthread mutex is intercepted by TSan, so the sanitizer run checks our real locking.
public final class Locked<Value>: @unchecked Sendable {
    /// Unchecked for dynamic exclusivity: every access is inside `withLock`, which the mutex
    /// already makes exclusive (the check cost a thread-local lookup per call).
    @exclusivity(unchecked) private var value: Value
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    /// Guards `value`, which is sent in: the caller keeps no other reference to it, so a value that
    /// is not `Sendable` is reached only through the lock from then on (as `Synchronization.Mutex`).
    public init(_ value: sending Value) {
        self.value = value
        mutex.initialize(to: pthread_mutex_t())
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with the lock held and exclusive access to the value.
    @inline(__always)
    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
