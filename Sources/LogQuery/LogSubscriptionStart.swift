/// Where a subscription starts reading the followed file.
///
/// Corresponds to the `EvtSubscribeToFutureEvents`, `EvtSubscribeStartAtOldestRecord` and
/// `EvtSubscribeStartAfterBookmark` (+ `EvtSubscribeStrict`) flags of `EvtSubscribe`.
public enum LogSubscriptionStart: Sendable, Equatable {
    /// Only lines completed after the subscription started (a partial last line counts as new).
    case future
    /// Every line of the file as it is now, then the new ones.
    case oldest
    /// The lines after the bookmarked one. When the bookmark's file is gone (another file at the
    /// path, a cut file): `strict` ends the subscription with `.notFound`; otherwise it starts at
    /// the oldest line of the file now at the path.
    case afterBookmark(LogBookmark, strict: Bool)
}
