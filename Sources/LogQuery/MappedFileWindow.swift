import LinuxSystem

#if canImport(Glibc)
    import Glibc
#endif

/// How a scanner gets the file's bytes.
public enum LogReadMethod: Sendable, Hashable {
    /// `pread` into the scanner's own buffer: safe whatever happens to the file. The default.
    case read
    /// `mmap` of the file in 4 MiB windows, up to its size at open (a snapshot: no follow). Saves
    /// the kernel's copy (about a third of a warm-cache substring count). A file truncated while
    /// mapped does not raise SIGBUS for the process (as it does for every plain mmap reader, ripgrep
    /// too): `TruncatedMappingGuard` reads zeros there and the scan ends at the new size, as a `pread`
    /// scan would. A window that cannot be mapped (or guarded) is read with `pread` instead.
    case memoryMap
}

/// A read-only mapping of one window of a file at a time, moved forward as the scan advances, each
/// window registered with `TruncatedMappingGuard` while it is mapped.
final class MappedFileWindow {
    private let fd: Int32
    /// The end of the mapped part: the size at open, lowered by `shrink(to:)`.
    private(set) var size: Int64
    /// 4 MiB: unmapping a window whose pages were all touched takes ~0.2 ms, inside one slice (16 MiB
    /// took ~0.8 ms: a loop stall near 1 ms); smaller windows cost more calls for no shorter slices.
    private static let windowSize: Int64 = 4 << 20
    private var base: UnsafeMutableRawPointer?
    private var windowStart: Int64 = 0
    private var windowLength = 0
    private var slot: Int?

    init(fd: Int32, size: Int64) {
        self.fd = fd
        self.size = size
    }

    deinit { unmap() }

    private func unmap() {
        if let slot { TruncatedMappingGuard.unregister(slot) }
        slot = nil
        if let base { munmap(base, windowLength) }
        base = nil
    }

    /// Lowers the end of the mapped part to a file's new, smaller size (a truncation seen by the
    /// guard): chunks end there.
    func shrink(to newSize: Int64) {
        size = min(size, max(0, newSize))
    }

    /// Up to `maxCount` bytes from `offset` (0 at `size`); `nil` when `mmap` fails or the window cannot
    /// be guarded (read those bytes another way).
    func chunk(at offset: Int64, maxCount: Int) -> (UnsafeRawPointer, Int)? {
        if offset >= size { return (UnsafeRawPointer(bitPattern: 1)!, 0) }
        if base == nil || offset < windowStart || offset >= windowStart + Int64(windowLength) {
            unmap()
            let page = Int64(sysconf(Int32(_SC_PAGESIZE)))
            windowStart = offset / page * page
            windowLength = Int(min(Self.windowSize, size - windowStart))
            let p = mmap(nil, windowLength, PROT_READ, MAP_PRIVATE, fd, off_t(windowStart))
            guard let p, p != MAP_FAILED else { return nil }
            guard let registered = TruncatedMappingGuard.register(p, length: windowLength) else {
                munmap(p, windowLength)
                return nil
            }
            base = p
            slot = registered
            // Read in order: a page missing from the cache is read ahead in large steps
            // (docs/design.md, "Small shapes on the hot paths").
            madvise(p, windowLength, MADV_SEQUENTIAL)
        }
        let inWindow = Int(offset - windowStart)
        let available = min(Int64(windowLength - inWindow), size - offset)
        return (UnsafeRawPointer(base!) + inWindow, Int(min(Int64(maxCount), available)))
    }
}
