#if canImport(Glibc)
    import Glibc
#endif

/// What identifies a log file across reopenings: device, inode, a hash of its first line, size.
/// Part of the follow logic: a changed (device, inode) at the path is a rotation by rename;
/// the same inode with a smaller size or another first line is a copytruncate.
public struct FileIdentity: Sendable, Hashable, Codable {
    /// `st_dev`.
    public var device: UInt64
    /// `st_ino`.
    public var inode: UInt64
    /// FNV-1a 64 of the first line (at most its first 4096 bytes, without the newline); 0 for an
    /// empty file. Two files starting with the same line are not told apart by it alone.
    public var firstLineHash: UInt64
    /// `st_size` when the identity was taken.
    public var size: Int64
    /// `st_mtim` when the identity was taken.
    public var modificationTime: LogTime

    /// Makes an identity from its parts.
    public init(device: UInt64, inode: UInt64, firstLineHash: UInt64, size: Int64, modificationTime: LogTime) {
        self.device = device
        self.inode = inode
        self.firstLineHash = firstLineHash
        self.size = size
        self.modificationTime = modificationTime
    }

    /// Reads the identity of an open file (`fstat` and a `pread` of its first 4096 bytes).
    /// - Throws: `LogScanError` with the errno of the failing call.
    public static func of(fileDescriptor fd: Int32) throws(LogScanError) -> FileIdentity {
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw LogScanError(operation: "fstat", errno: errno) }
        var head = [UInt8](repeating: 0, count: 4096)
        let n = head.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 4096, 0) }
        guard n >= 0 else { throw LogScanError(operation: "pread", errno: errno) }
        let line = head[0..<n].prefix { $0 != 0x0A }
        return FileIdentity(
            device: UInt64(st.st_dev), inode: UInt64(st.st_ino), firstLineHash: n == 0 ? 0 : fnv1a(line),
            size: Int64(st.st_size),
            modificationTime: LogTime(
                nanosecondsSinceEpoch: Int64(st.st_mtim.tv_sec) * 1_000_000_000 + Int64(st.st_mtim.tv_nsec)))
    }

    /// Opens `path` read-only, reads its identity, closes it.
    /// - Throws: `LogScanError` (`open`, `fstat`, `pread`).
    public static func of(path: String) throws(LogScanError) -> FileIdentity {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw LogScanError(operation: "open", errno: errno) }
        defer { close(fd) }
        return try of(fileDescriptor: fd)
    }

    /// Whether `other` is the same file (same device and inode), whatever its content now.
    public func isSameFile(as other: FileIdentity) -> Bool { device == other.device && inode == other.inode }

    /// How the file at the same path changed from `self` (earlier) to `now`.
    public func change(to now: FileIdentity) -> FileChange {
        if !isSameFile(as: now) { return .replaced }
        // The first line can only be compared once the old file had one.
        if now.size < size || (firstLineHash != 0 && now.firstLineHash != firstLineHash) { return .truncated }
        return now.size > size ? .grew : .unchanged
    }

    /// FNV-1a, 64 bits.
    static func fnv1a(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}

/// How a followed file changed between two looks at it.
public enum FileChange: Sendable, Hashable {
    /// Same file, same size.
    case unchanged
    /// Same file, bigger: new records to read.
    case grew
    /// Another file now has the path (rotation by rename and create): finish the old one first.
    case replaced
    /// Same file but shorter, or another first line (copytruncate): records may have been lost.
    case truncated
}
