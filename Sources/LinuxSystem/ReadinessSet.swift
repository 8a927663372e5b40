import CSystemShims

#if canImport(Glibc)
import Glibc
#endif

/// An epoll instance watching fds for readability, each under a 32-bit token: the blocking wait of
/// the threads that run without a reactor (the floor engine, the responder's workers). Owns its
/// epoll fd; not thread-safe.
public final class ReadinessSet {
    @usableFromInline let epoll: Int32
    @usableFromInline let tokens: UnsafeMutablePointer<UInt32>
    /// The most ready fds one `wait` reports.
    public static let maxReady = 64

    /// A new epoll instance (`epoll_create1(EPOLL_CLOEXEC)`).
    /// - Throws: `SystemError` of `epoll_create1`.
    public init() throws(SystemError) {
        epoll = evq_epoll_create()
        guard epoll >= 0 else { throw .current("epoll_create1") }
        tokens = .allocate(capacity: Self.maxReady)
        tokens.initialize(repeating: 0, count: Self.maxReady)
    }

    deinit {
        Glibc.close(epoll)
        tokens.deallocate()
    }

    /// Watches `fd` for readability (level-triggered); `wait` reports it as `token`.
    /// - Throws: `SystemError` of `epoll_ctl`.
    public func watchReadable(_ fd: Int32, token: UInt32) throws(SystemError) {
        guard evq_epoll_add_readable(epoll, fd, token) == 0 else { throw .current("epoll_ctl") }
    }

    /// Watches a stream socket `fd` for readability, writability and the peer's close, edge-triggered:
    /// `wait` reports `token` once per change, so its owner reads and writes until `EAGAIN` each time.
    /// Closing `fd` removes it.
    /// - Throws: `SystemError` of `epoll_ctl`.
    public func watchEdges(_ fd: Int32, token: UInt32) throws(SystemError) {
        guard evq_epoll_add_edge(epoll, fd, token) == 0 else { throw .current("epoll_ctl") }
    }

    /// Waits up to `timeoutMillis` (-1: without limit) for readable fds and calls `body` with each
    /// one's token. Returns how many were ready (0 on timeout or interruption).
    @inlinable @discardableResult
    public func wait(timeoutMillis: Int32, max: Int = ReadinessSet.maxReady, _ body: (UInt32) -> Void) -> Int {
        let ready = Int(evq_epoll_wait_tokens(epoll, tokens, Int32(Swift.min(max, Self.maxReady)), timeoutMillis))
        for index in 0..<Swift.max(0, ready) { body(tokens[index]) }
        return Swift.max(0, ready)
    }
}
