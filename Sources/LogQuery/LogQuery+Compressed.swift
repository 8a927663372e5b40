extension LogQuery {
    /// Why this query's `.gz` file ended before its end (a corrupt or truncated member), once a scan
    /// or a count has reached that point; nil for a plain file or an intact one. Read it after `next`
    /// ended with `.noMoreItems`, or after `count` succeeded (on any thread: that completion has run).
    public var damage: LogStreamDamage? { scanner?.damage ?? countDamage }

    /// Whether `mark` names this file and a line start in it: offsets of a `.gz` file are those of its
    /// decompressed stream, checked by the scanner (not against the compressed file's size).
    func bookmarkFits(_ mark: LogBookmark, _ now: FileIdentity) -> Bool {
        guard let scanner else { return mark.refers(to: now) && isLineStart(mark.offset) }
        return scanner.fits(mark, now: now)
    }
}
