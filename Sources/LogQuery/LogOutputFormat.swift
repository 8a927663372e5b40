/// How a record is rendered as one line of text (`evq scan --output`).
///
/// Corresponds to the Windows `EvtRender` (`EvtRenderEventXml`) and `EvtFormatMessage`.
public enum LogOutputFormat: String, Sendable, CaseIterable {
    /// `Dec 07 10:00:01 host app[pid]: message`, as `journalctl -o short` (UTC).
    case short
    /// `2026-12-07T10:00:01Z host app[pid]: message`, as `journalctl -o short-iso` (UTC).
    case iso
    /// The line as it is in the file (its newline ending the output line).
    case raw
    /// One JSON object per record with every parsed field and the record's bookmark.
    case json
}
