extension LogQuery {
    /// Why this query's `.gz` file ended before its end (a corrupt or truncated member), once a scan
    /// has reached that point; nil for a plain file or an intact one. Read it after `next` ended with
    /// `.noMoreItems` (on any thread: that completion has run).
    public var damage: LogStreamDamage? { scanner?.damage }

    /// Whether `mark` names this file and a line start in it: offsets of a `.gz` file are those of its
    /// decompressed stream, checked by the scanner (not against the compressed file's size).
    func bookmarkFits(_ mark: LogBookmark, _ now: FileIdentity) -> Bool {
        guard let scanner, scanner.isCompressed else { return mark.refers(to: now) && isLineStart(mark.offset) }
        guard mark.device == now.device, mark.inode == now.inode, mark.firstLineHash == now.firstLineHash else {
            return false
        }
        return scanner.isLineStart(mark.offset) == true && scanner.isLineStart(mark.offset + mark.length) != false
    }
}
