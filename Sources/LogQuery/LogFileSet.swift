#if canImport(Glibc)
    import Glibc
#endif

/// The files of one log history, oldest first: paths and glob patterns expanded, and rotated
/// files ordered as logrotate names them, so that `auth.log.2.gz`, `auth.log.1`, `auth.log` (or
/// `syslog-20261205.gz`, `syslog-20261206`, `syslog`) are read as one stream, as journalctl and lnav
/// read them.
///
/// Order: files are grouped by their base name (the name without `.gz` and without a rotation
/// suffix `.N` or `-YYYYMMDD`); groups keep the order of their first appearance; within a group the
/// highest number comes first, dated files by date, and the live file (no suffix) last.
public struct LogFileSet: Sendable, Equatable {
    /// The paths, oldest first, each once.
    public let paths: [String]

    /// Expands `patterns` (paths, or `glob(3)` patterns with `*`, `?`, `[…]`) and orders the files.
    /// - Throws: `LogFileSetError`: a pattern that matches nothing, a path that does not exist or
    ///   cannot be read (checked with `access(R_OK)`), a directory.
    public init(patterns: [String]) throws(LogFileSetError) {
        var found: [String] = []
        for pattern in patterns {
            let matches = try Self.expand(pattern)
            for path in matches where !found.contains(path) { found.append(path) }
        }
        for path in found {
            var status = stat()
            guard stat(path, &status) == 0 else { throw .unreadable(path: path, errno: errno) }
            guard status.st_mode & S_IFMT != S_IFDIR else { throw .unreadable(path: path, errno: EISDIR) }
            guard access(path, R_OK) == 0 else { throw .unreadable(path: path, errno: errno) }
        }
        paths = Self.ordered(found)
    }

    private static func expand(_ pattern: String) throws(LogFileSetError) -> [String] {
        guard pattern.contains(where: { "*?[".contains($0) }) else { return [pattern] }
        var result = glob_t()
        defer { globfree(&result) }
        let status = glob(pattern, 0, nil, &result)
        guard status == 0, result.gl_pathc > 0 else { throw .noMatch(pattern: pattern) }
        return (0..<Int(result.gl_pathc)).compactMap { result.gl_pathv[$0].map { String(cString: $0) } }
    }

    /// Where a rotated file stands in its history: the base name, and its age (higher is older;
    /// the live file is 0). Dated suffixes age by date: an older date is older.
    static func rotationKey(_ path: String) -> (base: String, age: Int64) {
        var name = path
        if name.hasSuffix(".gz") { name.removeLast(3) }
        if let dot = name.lastIndex(of: "."), let n = Int64(name[name.index(after: dot)...]), n >= 0,
            name[name.index(after: dot)...].allSatisfy(\.isASCII)
        {
            return (String(name[..<dot]), n == .max ? .max : n + 1)  // the oldest there can be
        }
        if let dash = name.lastIndex(of: "-") {
            let suffix = name[name.index(after: dash)...]
            if suffix.count == 8 || suffix.count == 10, suffix.allSatisfy({ $0.isASCII && $0.isNumber }),
                let date = Int64(suffix)
            {
                // Later dates are younger: count down from a value above every date.
                return (String(name[..<dash]), 100_000_000_000 - date)
            }
        }
        return (name, 0)
    }

    static func ordered(_ paths: [String]) -> [String] {
        var groups: [String: [(path: String, age: Int64)]] = [:]
        var order: [String] = []
        for path in paths {
            let key = rotationKey(path)
            if groups[key.base] == nil { order.append(key.base) }
            groups[key.base, default: []].append((path, key.age))
        }
        return order.flatMap { base in
            groups[base]!.sorted { $0.age != $1.age ? $0.age > $1.age : $0.path < $1.path }.map(\.path)
        }
    }
}

/// Why a set of log files could not be made.
public enum LogFileSetError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A glob pattern matched no file.
    case noMatch(pattern: String)
    /// A file that does not exist, cannot be read, or is a directory (the `errno`).
    case unreadable(path: String, errno: Int32)

    /// The error in words: `no file matches 'x*.log'`, `open /var/log/x: Permission denied (errno 13)`.
    public var description: String {
        switch self {
        case .noMatch(let pattern): "no file matches '\(pattern)'"
        case .unreadable(let path, let number): "open \(path): \(String(cString: strerror(number))) (errno \(number))"
        }
    }
}
