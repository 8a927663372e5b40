import LinuxSystem

#if canImport(Glibc)
    import Glibc
#endif

/// An inotify watch on the directory of a followed file: one fd that turns readable when anything
/// in the directory changes (the file grows, is renamed away, created again). It also remembers,
/// in order, where each file that had the followed name was renamed to (a `IN_MOVED_FROM` of the
/// name paired by cookie with its `IN_MOVED_TO`), so a follower that fell behind two rotations
/// can still read the one in between.
///
/// Loop-bound: used only on the reactor thread.
final class DirectoryWatch {
    /// A file that had the followed name and was renamed.
    struct Renamed: Equatable {
        var path: String
        var device: UInt64
        var inode: UInt64
    }

    /// The inotify fd (non-blocking); watch it for readability.
    let fd: Int32
    private var watch: Int32 = -1
    private let directory: String
    private let name: String
    /// `IN_MOVED_FROM` events waiting for their `IN_MOVED_TO`: cookie and old name.
    private var pendingMoves: [(cookie: UInt32, name: String)] = []
    /// Files renamed from the followed name, oldest first, each at the path it has now: a later
    /// rename in the directory (`log.1` → `log.2`) moves the entry along, and one onto its path
    /// drops the file it replaced. Identities are read when asked for, not when the event is
    /// drained (by then a name may already hold the next file).
    private var renamedPaths: [String?] = []

    /// Creates the inotify fd and watches `directory` for the file `name`.
    /// - Throws: `LogScanError` with the errno of `inotify_init1` or `inotify_add_watch`.
    init(directory: String, name: String) throws(LogScanError) {
        do {
            fd = try Inotify.open()
        } catch {
            throw LogScanError(operation: error.call, errno: error.errno)
        }
        self.directory = directory
        self.name = name
        let mask = UInt32(IN_MODIFY | IN_CREATE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_ATTRIB | IN_CLOSE_WRITE)
        watch = inotify_add_watch(fd, directory, mask)
        guard watch >= 0 else {
            let error = errno
            Glibc.close(fd)
            throw LogScanError(operation: "inotify_add_watch", errno: error)
        }
    }

    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

    /// Reads every queued event (never blocks), recording renames of the followed name.
    func drain() {
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return }
            var at = 0
            while at + 16 <= n {
                let mask = load(buffer, at + 4)
                let cookie = load(buffer, at + 8)
                let length = Int(load(buffer, at + 12))
                let nameBytes = buffer[(at + 16)..<(at + 16 + length)].prefix { $0 != 0 }
                let eventName = String(decoding: nameBytes, as: UTF8.self)
                note(mask: mask, cookie: cookie, name: eventName)
                at += 16 + length
            }
        }
    }

    private func load(_ bytes: [UInt8], _ at: Int) -> UInt32 {
        bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt32.self) }
    }

    private func note(mask: UInt32, cookie: UInt32, name eventName: String) {
        if mask & UInt32(IN_MOVED_FROM) != 0 {
            pendingMoves.append((cookie, eventName))
        } else if mask & UInt32(IN_MOVED_TO) != 0, let i = pendingMoves.firstIndex(where: { $0.cookie == cookie }) {
            let from = directory + "/" + pendingMoves.remove(at: i).name
            let to = directory + "/" + eventName
            for j in renamedPaths.indices {
                if renamedPaths[j] == to {
                    renamedPaths[j] = nil  // replaced by the file moved onto its name
                } else if renamedPaths[j] == from {
                    renamedPaths[j] = to
                }
            }
            if from == directory + "/" + name { renamedPaths.append(to) }
        }
        if pendingMoves.count > 64 { pendingMoves.removeFirst() }
        if renamedPaths.count > 1024 { renamedPaths.removeFirst(renamedPaths.count - 1024) }
    }

    /// Renames of the followed name, oldest first, with the identity of the file at each path now
    /// (files since deleted or replaced are left out).
    var renamed: [Renamed] {
        renamedPaths.compactMap { path in
            var st = stat()
            guard let path, stat(path, &st) == 0 else { return nil }
            return Renamed(path: path, device: UInt64(st.st_dev), inode: UInt64(st.st_ino))
        }
    }

    /// The files renamed from the followed name after the file (`device`, `inode`) was, oldest first.
    func renamedAfter(device: UInt64, inode: UInt64) -> [Renamed] {
        let renamed = renamed
        guard let i = renamed.lastIndex(where: { $0.device == device && $0.inode == inode }) else { return [] }
        return Array(renamed[(i + 1)...])
    }

    /// Removes the watch and closes the fd (idempotent).
    func close() {
        guard watch >= 0 else { return }
        inotify_rm_watch(fd, watch)
        Glibc.close(fd)
        watch = -1
    }
}
