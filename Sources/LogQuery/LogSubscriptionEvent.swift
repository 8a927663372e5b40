/// What a subscription hands to its `deliver` closure, in file order, on the reactor thread.
///
/// Corresponds to the events an `EvtSubscribe` callback receives (`EvtSubscribeActionDeliver`),
/// plus the rotation facts a text log adds.
public enum LogSubscriptionEvent: Sendable {
    /// New matching records of the file with `identity` (bookmarks: `LogBookmark(record:in:)`).
    case records([LogRecord], identity: FileIdentity)
    /// The followed file was renamed away and another one created at the path: the old file was
    /// read to its end first; records now come from `to`.
    case rotated(from: FileIdentity, to: FileIdentity)
    /// The followed file was cut (copytruncate: its size shrank or its first line changed). Lines
    /// written after `possibleGapAfter` (a byte offset of the old content) and before the cut
    /// may never have been read: a possible gap, reported, never hidden. Reading restarts at 0.
    case truncated(FileIdentity, possibleGapAfter: Int64)
}
