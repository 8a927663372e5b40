/// An opaque, versioned, serialisable position in a log file: (device, inode, first-line hash)
/// name the file, (offset, ordinal) the record. It survives a restart as its `serialized` text.
///
/// Corresponds to the Windows `EvtCreateBookmark`/`EvtUpdateBookmark` and the bookmark XML
/// rendered with `EvtRender(EvtRenderBookmark)`.
public struct LogBookmark: Sendable, Hashable {
    /// The format version written by this code.
    public static let currentVersion: UInt8 = 1

    /// `st_dev` of the file.
    public var device: UInt64
    /// `st_ino` of the file.
    public var inode: UInt64
    /// `FileIdentity.firstLineHash` of the file.
    public var firstLineHash: UInt64
    /// Byte offset of the bookmarked record.
    public var offset: Int64
    /// Ordinal (0-based line number) of the bookmarked record.
    public var ordinal: Int64
    /// Byte length of the bookmarked record's line, newline included: reading resumes at
    /// `offset + length` with ordinal `ordinal + 1`.
    public var length: Int64

    /// Makes a bookmark from its parts.
    public init(device: UInt64, inode: UInt64, firstLineHash: UInt64, offset: Int64, ordinal: Int64, length: Int64) {
        self.device = device
        self.inode = inode
        self.firstLineHash = firstLineHash
        self.offset = offset
        self.ordinal = ordinal
        self.length = length
    }

    /// The bookmark of `record` in the file with `identity`.
    public init(record: LogRecord, in identity: FileIdentity) {
        self.init(
            device: identity.device, inode: identity.inode, firstLineHash: identity.firstLineHash,
            offset: record.offset, ordinal: record.ordinal, length: record.length)
    }

    /// Whether the bookmark names the file with `identity` (same device, inode and first line,
    /// and the file still reaches past the record).
    public func refers(to identity: FileIdentity) -> Bool {
        device == identity.device && inode == identity.inode && firstLineHash == identity.firstLineHash
            && offset + length <= identity.size
    }

    /// Text form: `evqb1-` and 49 bytes in lowercase hex (version, fields big-endian, and an
    /// FNV-1a-derived check byte), stable across runs and machines.
    public var serialized: String {
        var bytes = payload
        bytes.append(Self.check(bytes))
        return "evqb1-" + bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }

    private var payload: [UInt8] {
        var bytes: [UInt8] = [Self.currentVersion]
        for value in [
            device, inode, firstLineHash, UInt64(bitPattern: offset), UInt64(bitPattern: ordinal),
            UInt64(bitPattern: length),
        ] {
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            }
        }
        return bytes
    }

    private static func check(_ bytes: [UInt8]) -> UInt8 {
        UInt8(truncatingIfNeeded: FileIdentity.fnv1a(bytes))
    }

    /// Parses the text form.
    /// - Throws: `LogBookmarkError` saying what is wrong; never returns a half-read bookmark.
    public init(serialized text: String) throws(LogBookmarkError) {
        guard text.hasPrefix("evqb") else { throw .notABookmark }
        guard text.hasPrefix("evqb1-") else {
            throw .unsupportedVersion(String(text.dropFirst(4).prefix { $0 != "-" }))
        }
        let hex = Array(text.utf8.dropFirst(6))
        guard hex.count == 2 * 50 else { throw .wrongLength(hex.count / 2) }
        var bytes: [UInt8] = []
        for i in stride(from: 0, to: hex.count, by: 2) {
            guard let hi = Self.hexValue(hex[i]), let lo = Self.hexValue(hex[i + 1]) else { throw .invalidCharacter }
            bytes.append(hi << 4 | lo)
        }
        guard bytes[0] == Self.currentVersion else { throw .unsupportedVersion(String(bytes[0])) }
        guard Self.check(Array(bytes[0..<49])) == bytes[49] else { throw .checksumMismatch }
        func field(_ k: Int) -> UInt64 { bytes[(1 + 8 * k)..<(9 + 8 * k)].reduce(0) { $0 << 8 | UInt64($1) } }
        let offset = Int64(bitPattern: field(3))
        let ordinal = Int64(bitPattern: field(4))
        let length = Int64(bitPattern: field(5))
        guard offset >= 0, ordinal >= 0, length >= 0 else { throw .invalidPosition }
        self.init(
            device: field(0), inode: field(1), firstLineHash: field(2), offset: offset, ordinal: ordinal, length: length
        )
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}

/// Why a bookmark text was rejected.
///
/// Corresponds to `ERROR_EVT_INVALID_BOOKMARK`-style failures of `EvtCreateBookmark` with bad XML.
public enum LogBookmarkError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The text does not start with `evqb`.
    case notABookmark
    /// A version this code does not read.
    case unsupportedVersion(String)
    /// The payload has the wrong number of bytes (given).
    case wrongLength(Int)
    /// A character that is not lowercase hex.
    case invalidCharacter
    /// The check byte does not match: the text was altered or truncated.
    case checksumMismatch
    /// A negative offset, ordinal or length.
    case invalidPosition

    /// One sentence saying what is wrong with the text and what a bookmark looks like.
    public var description: String {
        switch self {
        case .notABookmark: "not a bookmark: expected text starting with evqb1- (as evq scan prints it)"
        case .unsupportedVersion(let version): "bookmark version \(version) is not one this build reads (evqb1)"
        case .wrongLength(let count): "the bookmark's payload has \(count) bytes, not 50: is it cut?"
        case .invalidCharacter: "the bookmark holds a character that is not lowercase hex"
        case .checksumMismatch: "the bookmark's check byte does not match: the text was altered or cut"
        case .invalidPosition: "the bookmark holds a negative offset, ordinal or length"
        }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
