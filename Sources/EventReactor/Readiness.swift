import CLibevent

/// What an fd is ready for, or what happened to it: readable, writable, or its wait timed out.
public struct Readiness: OptionSet, Sendable, Hashable {
    public let rawValue: Int16
    /// Readiness from its bits (those of the values below).
    public init(rawValue: Int16) { self.rawValue = rawValue }
    /// The fd is readable.
    public static let read = Readiness(rawValue: Int16(EV_READ))
    /// The fd is writable.
    public static let write = Readiness(rawValue: Int16(EV_WRITE))
    /// The wait's timeout expired.
    public static let timeout = Readiness(rawValue: Int16(EV_TIMEOUT))
    /// As an interest: edge-triggered, reported once per change rather than while it lasts.
    public static let edgeTriggered = Readiness(rawValue: Int16(EV_ET))
}
