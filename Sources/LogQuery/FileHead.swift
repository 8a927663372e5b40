#if canImport(Glibc)
    import Glibc
#endif

/// The first complete line of a file (at most 4096 bytes of it), as a hash and a length: a
/// copytruncate shows as a head that changed or got shorter while the size alone may have grown.
struct FileHead: Equatable {
    var hash: UInt64
    var length: Int

    /// The head of the open file, or nil while its first line is not complete (or on a read error).
    static func of(fileDescriptor fd: Int32) -> FileHead? {
        var bytes = [UInt8](repeating: 0, count: 4096)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4096, 0) }
        guard n > 0 else { return nil }
        if let newline = bytes[0..<n].firstIndex(of: 0x0A) {
            return FileHead(hash: FileIdentity.fnv1a(bytes[0..<newline]), length: newline + 1)
        }
        return n == 4096 ? FileHead(hash: FileIdentity.fnv1a(bytes), length: 4096) : nil
    }
}
