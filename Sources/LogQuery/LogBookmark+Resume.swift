#if canImport(Glibc)
    import Glibc
#endif

extension LogBookmark {
    /// Where a forward read resumes after the bookmarked record in the open file `fd`.
    ///
    /// A one-shot scan delivers a last line that has no newline yet (flagged `.partial`), and its
    /// bookmark covers only the bytes written so far. Such a bookmark is told apart by its last
    /// byte: a complete line's `length` ends with its newline, a partial one's does not. Reading
    /// resumes past a complete line, and at the start of a partial one, so a writer that finishes
    /// the line later has it read again whole (never its tail as a record of its own); while it is
    /// still unfinished, the resumed scan delivers it again, still `.partial`.
    func resumePosition(in fd: Int32) -> (offset: Int64, ordinal: Int64) {
        let past = (offset + length, ordinal + 1)
        guard length > 0 else { return past }
        var byte: UInt8 = 0
        guard pread(fd, &byte, 1, off_t(offset + length - 1)) == 1 else { return past }
        return byte == 0x0A ? past : (offset, ordinal)
    }
}
