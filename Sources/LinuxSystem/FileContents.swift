#if canImport(Glibc)
import Glibc
#endif

/// Whole small files (zone files, datafiles) read into memory.
public enum FileContents {
    /// Reads the file open on `fd` from its current offset to its end, retrying `EINTR`.
    /// - Parameter maxBytes: past this many bytes the read stops with `EFBIG`.
    /// - Throws: `SystemError("read", errno:)`, or `SystemError("read", errno: EFBIG)` past `maxBytes`.
    public static func readAll(fd: Int32, maxBytes: Int = .max) throws(SystemError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            guard let count = try Syscall.run("read", { chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) } })
            else { throw SystemError("read", errno: EAGAIN) }  // a blocking fd never says "would block"
            if count == 0 { return bytes }
            bytes += chunk[..<count]
            guard bytes.count <= maxBytes else { throw SystemError("read", errno: EFBIG) }
        }
    }
}
