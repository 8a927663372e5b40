#if canImport(Glibc)
    import Glibc
#endif

/// How a scanner gets the file's bytes.
public enum LogReadMethod: Sendable, Hashable {
    /// `pread` into the scanner's own buffer: safe whatever happens to the file. The default.
    case read
    /// `mmap` of the file in 16 MiB windows, up to its size at open (a snapshot: no follow). Saves
    /// the kernel's copy (about a third of a warm-cache substring count), but a file truncated
    /// while mapped makes the next access raise SIGBUS, as with every mmap reader (ripgrep too):
    /// for one-shot scans of files that are not being truncated, such as `evq scan --count`.
    case memoryMap
}

/// A read-only mapping of one window of a file at a time, moved forward as the scan advances.
final class MappedFileWindow {
    private let fd: Int32
    private let size: Int64
    private static let windowSize: Int64 = 16 << 20
    private var base: UnsafeMutableRawPointer?
    private var windowStart: Int64 = 0
    private var windowLength = 0

    init(fd: Int32, size: Int64) {
        self.fd = fd
        self.size = size
    }

    deinit { unmap() }

    private func unmap() {
        if let base { munmap(base, windowLength) }
        base = nil
    }

    /// Up to `maxCount` bytes from `offset` (0 at the size at open); `nil` when `mmap` fails.
    func chunk(at offset: Int64, maxCount: Int) -> (UnsafeRawPointer, Int)? {
        if offset >= size { return (UnsafeRawPointer(bitPattern: 1)!, 0) }
        if base == nil || offset < windowStart || offset >= windowStart + Int64(windowLength) {
            unmap()
            let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
            windowStart = offset / page * page
            windowLength = Int(min(Self.windowSize, size - windowStart))
            let p = mmap(nil, windowLength, PROT_READ, MAP_PRIVATE, fd, off_t(windowStart))
            guard let p, p != MAP_FAILED else { return nil }
            base = p
        }
        let inWindow = Int(offset - windowStart)
        return (UnsafeRawPointer(base!) + inWindow, min(maxCount, windowLength - inWindow))
    }
}
