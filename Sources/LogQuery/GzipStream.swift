import CZlib

#if canImport(Glibc)
    import Glibc
#endif

/// A `.gz` file read in place as the bytes it decompresses to, streaming (no temporary file):
/// `read(into:count:at:)` serves offsets of the decompressed stream, inflating forward from where it
/// is, or from the file's start again for an offset behind it. Concatenated members (`cat a.gz b.gz`)
/// are one stream. Memory: a 64 KiB input buffer, a 64 KiB scratch buffer for skipping, and zlib's
/// 32 KiB window (about 44 KiB of inflate state).
///
/// A member that is corrupt or cut short ends the stream where its last good byte came out: `damage`
/// then says what and where, and reads past that point return 0 (the end).
///
/// Not thread-safe: one thread at a time.
final class GzipStream {
    private let fd: Int32
    private let stream: UnsafeMutablePointer<z_stream>
    private let input: UnsafeMutableRawBufferPointer
    private let scratch: UnsafeMutableRawBufferPointer
    /// The next byte of the file to read into `input`.
    private var fileOffset: Int64 = 0
    /// The decompressed offset of the next byte inflate gives.
    private(set) var position: Int64 = 0
    private(set) var damage: LogStreamDamage?
    private var ended = false
    private var inMember = false

    /// Whether the file starts with the gzip magic bytes (`1f 8b`).
    static func isGzip(_ sample: some Collection<UInt8>) -> Bool {
        sample.count >= 2 && sample.first == 0x1F && sample.dropFirst().first == 0x8B
    }

    /// Prepares to read the gzip file open on `fd` (not closed here).
    /// - Throws: `LogScanError` (`inflateInit`, `ENOMEM`) when zlib cannot start.
    init(fd: Int32) throws(LogScanError) {
        self.fd = fd
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        input = .allocate(byteCount: 64 * 1024, alignment: 64)
        scratch = .allocate(byteCount: 64 * 1024, alignment: 64)
        guard evq_inflate_init_gzip(stream) == Z_OK else {
            stream.deallocate()
            input.deallocate()
            scratch.deallocate()
            throw LogScanError(operation: "inflateInit", errno: ENOMEM)
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
        scratch.deallocate()
    }

    /// Reads up to `count` decompressed bytes at `offset` into `buffer`; returns how many (0 at the end
    /// or past the damage), or nil with `errno` set when the file cannot be read.
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int64) -> Int? {
        if offset < position { restart() }
        while position < offset {
            guard let n = inflate(into: scratch.baseAddress!, count: Int(min(Int64(scratch.count), offset - position)))
            else { return nil }
            if n == 0 { return 0 }
        }
        return inflate(into: buffer, count: count)
    }

    private func restart() {
        inflateReset(stream)
        stream.pointee.avail_in = 0
        fileOffset = 0
        position = 0
        damage = nil
        ended = false
        inMember = false
    }

    /// Inflates up to `count` bytes (at least one unless at the end).
    private func inflate(into out: UnsafeMutableRawPointer, count: Int) -> Int? {
        guard !ended, count > 0 else { return 0 }
        stream.pointee.next_out = out.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(count)
        while stream.pointee.avail_out == uInt(count) {
            if stream.pointee.avail_in == 0 {
                let n = pread(fd, input.baseAddress, input.count, off_t(fileOffset))
                if n < 0 {
                    if errno == EINTR { continue }
                    return nil
                }
                if n == 0 {
                    // The file ends: inside a member it was cut short.
                    if inMember { damage = LogStreamDamage(reason: "the file ends inside a member", decompressedBytes: position) }
                    ended = true
                    break
                }
                fileOffset += Int64(n)
                stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_in = uInt(n)
            }
            if !inMember {
                // A member starts here; bytes after the last member that are not one are damage.
                let next = stream.pointee.next_in!
                if next[0] != 0x1F || (stream.pointee.avail_in > 1 && next[1] != 0x8B) {
                    damage = LogStreamDamage(reason: "bytes after the last member are not gzip", decompressedBytes: position)
                    ended = true
                    break
                }
                inMember = true
            }
            let status = CZlib.inflate(stream, Z_NO_FLUSH)
            if status == Z_STREAM_END {
                inMember = false
                inflateReset(stream)
            } else if status != Z_OK && status != Z_BUF_ERROR {
                let message = stream.pointee.msg.map { String(cString: $0) } ?? "zlib error \(status)"
                damage = LogStreamDamage(reason: "corrupt data (\(message))", decompressedBytes: position + Int64(count) - Int64(stream.pointee.avail_out))
                ended = true
                break
            }
        }
        let produced = count - Int(stream.pointee.avail_out)
        position += Int64(produced)
        return produced
    }
}

/// Why a compressed log file's stream ended before its end: a corrupt or truncated `.gz` member.
/// The records before it were read; the line it cut is dropped.
public struct LogStreamDamage: Sendable, Equatable, CustomStringConvertible {
    /// zlib's message (`corrupt data (invalid block type)`), or `the file ends inside a member`.
    public var reason: String
    /// The decompressed bytes that came out before the damage.
    public var decompressedBytes: Int64

    /// `corrupt data (invalid block type) after 1234 decompressed bytes`.
    public var description: String { "\(reason) after \(decompressedBytes) decompressed bytes" }
}
