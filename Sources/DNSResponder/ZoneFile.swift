import DNSMessage
import LinuxSystem

#if canImport(Glibc)
import Glibc
#endif

/// Zone files read from disk for the responder: the text of a file and the `$INCLUDE` loader that
/// `DNSZoneParser` calls, which resolves a relative name against the including file's directory
/// (the working directory for the top file) and names every file by its real path, so a loop
/// through other spellings of a path is still seen.
enum ZoneFile {
    /// The largest zone file read (a responder's zones are small; this bounds a mistaken path such
    /// as a device or a huge log).
    static let maxBytes = 256 << 20

    /// Reads `path` whole as UTF-8 text and returns it with the file's real path.
    /// - Throws: `DNSPresentationError` saying which call failed on which file and why, in words
    ///   (`open a.zone: No such file or directory (errno 2)`).
    static func read(_ path: String) throws(DNSPresentationError) -> (text: String, path: String) {
        func failure(_ call: String, _ code: Int32) -> DNSPresentationError {
            DNSPresentationError("\(call) \(path): \(String(cString: strerror(code))) (errno \(code))")
        }
        guard let resolved = realpath(path, nil) else { throw failure("open", errno) }
        let real = String(cString: resolved)
        free(resolved)
        let fd = open(real, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("open", errno) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw failure("fstat", errno) }
        guard info.st_mode & S_IFMT == S_IFREG else { throw DNSPresentationError("cannot read \(path): not a regular file") }
        guard Int(info.st_size) <= maxBytes else {
            throw DNSPresentationError("cannot read \(path): larger than \(maxBytes >> 20) MiB")
        }
        do {
            return (String(decoding: try FileContents.readAll(fd: fd, maxBytes: maxBytes), as: UTF8.self), real)
        } catch where error.errno == EFBIG {
            throw DNSPresentationError("cannot read \(path): larger than \(maxBytes >> 20) MiB")
        } catch {
            throw failure(error.call, error.errno)
        }
    }

    /// The loader for `DNSZoneParser.parse(_:origin:defaultTTL:path:include:)`.
    static func include(_ name: String, from: String?) throws(DNSPresentationError) -> (text: String, path: String) {
        guard !name.hasPrefix("/"), let from, let slash = from.lastIndex(of: "/") else { return try read(name) }
        return try read(String(from[...slash]) + name)
    }
}
