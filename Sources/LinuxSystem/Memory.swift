import CSystemShims
#if canImport(Glibc)
import Glibc
#endif

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

    /// `bytes` in zlib's format inflated (`uncompress2`), at most `limit` bytes of output.
    /// - Throws: `SystemError("uncompress", …)` when the data is not zlib's format or is cut
    ///   short (`EINVAL`), or inflates past `limit` (`EFBIG`).
    public static func unzlib(_ bytes: [UInt8], limit: Int) throws(SystemError) -> [UInt8] {
        var capacity = max(64, min(limit, bytes.count * 4))
        while true {
            var output = [UInt8](repeating: 0, count: capacity)
            var length = UInt(capacity)
            let status = bytes.withUnsafeBufferPointer { source in
                evq_zlib_uncompress(&output, &length, source.baseAddress, UInt(source.count))
            }
            switch status {
            case 0:
                output.removeSubrange(Int(length)...)
                return output
            case -5 where capacity < limit && length == UInt(capacity):  // Z_BUF_ERROR: the output did not fit
                capacity = min(limit, capacity * 4)
            case -5 where length == UInt(capacity):
                throw SystemError("uncompress", errno: EFBIG)
            default:  // Z_DATA_ERROR, or Z_BUF_ERROR with room left: the input is cut short
                throw SystemError("uncompress", errno: EINVAL)
            }
        }
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
