/// The section a record belongs to.
public enum DNSSection: Sendable, Hashable {
    /// The answer section.
    case answer
    /// The authority section.
    case authority
    /// The additional section.
    case additional
}
