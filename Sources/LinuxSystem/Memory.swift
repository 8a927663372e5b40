import CSystemShims

/// Byte searches over raw memory that Swift's Glibc module hides (they need `_GNU_SOURCE`).
public enum Memory {
    /// The first occurrence of the `needleLength` bytes at `needle` in `hayLength` bytes at `hay`,
    /// or nil. The corresponding C function is `memmem`.
    @inlinable @inline(__always)
    public static func find(_ needle: UnsafeRawPointer?, length needleLength: Int, in hay: UnsafeRawPointer,
                            length hayLength: Int) -> UnsafeRawPointer? {
        evq_memmem(hay, hayLength, needle, needleLength).map { UnsafeRawPointer($0) }
    }

    /// The last `byte` in the `length` bytes at `start`, or nil. The corresponding C function is
    /// `memrchr`.
    @inlinable @inline(__always)
    public static func lastIndex(of byte: UInt8, in start: UnsafeRawPointer, length: Int) -> UnsafeRawPointer? {
        evq_memrchr(start, Int32(byte), length).map { UnsafeRawPointer($0) }
    }

    /// How many of the `length` bytes at `start` equal `byte`: 32 bytes a step with AVX2 where the
    /// CPU has it (asked once), else 16 with SSE2.
    @inlinable @inline(__always)
    public static func count(of byte: UInt8, in start: UnsafeRawPointer, length: Int) -> Int {
        Int(evq_count_byte(start, length, byte))
    }
}

/// zlib compression (the zlib format, as HdrHistogram's compressed encoding expects).
public enum Compression {
    /// `bytes` compressed by zlib's `compress2` at the default level.
    /// - Throws: `SystemError("compress2", errno: status)` with zlib's status if it fails (it only
    ///   fails for want of memory).
    public static func zlib(_ bytes: [UInt8]) throws(SystemError) -> [UInt8] {
        var length = evq_zlib_compress_bound(UInt(bytes.count))
        var compressed = [UInt8](repeating: 0, count: Int(length))
        let status = bytes.withUnsafeBufferPointer { source in
            evq_zlib_compress(&compressed, &length, source.baseAddress, UInt(source.count))
        }
        guard status == 0 else { throw SystemError("compress2", errno: status) }
        compressed.removeSubrange(Int(length)...)
        return compressed
    }
}

/// inotify, the kernel's file-change notifications.
public enum Inotify {
    /// A new non-blocking, close-on-exec inotify instance (`inotify_init1`); watches are added with
    /// `inotify_add_watch` and events read from the fd.
    /// - Throws: `SystemError` of `inotify_init1`.
    public static func open() throws(SystemError) -> Int32 {
        let fd = evq_inotify_init_nonblocking()
        guard fd >= 0 else { throw .current("inotify_init1") }
        return fd
    }
}
