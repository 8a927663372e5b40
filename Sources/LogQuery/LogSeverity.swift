/// A syslog severity, 0 (emergency, most severe) … 7 (debug); ordered by its number, so
/// `severity <= warning` means "warning or worse".
///
/// Corresponds to the Windows event `Level` (1 critical … 5 verbose), with syslog's finer scale.
public struct LogSeverity: RawRepresentable, Sendable, Hashable, Comparable {
    /// The syslog number, 0…7.
    public let rawValue: Int
    /// Makes a severity from 0…7; `nil` outside that range.
    public init?(rawValue: Int) {
        guard (0...7).contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// Orders by number: `.emergency < .debug`.
    public static func < (lhs: LogSeverity, rhs: LogSeverity) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Names accepted in filters and JSON `level` fields, by number (aliases share a number).
    static let names: [(String, Int)] = [
        ("emerg", 0), ("emergency", 0), ("panic", 0), ("alert", 1), ("crit", 2), ("critical", 2),
        ("err", 3), ("error", 3), ("warning", 4), ("warn", 4), ("notice", 5), ("info", 6),
        ("informational", 6), ("debug", 7),
    ]

    /// Looks up a name (case-insensitive: `warning`, `warn`, `err`, `error`, …) or a number `0`…`7`.
    public init?(name: String) {
        let lower = name.lowercased()
        if let number = Int(lower) {
            self.init(rawValue: number)
            return
        }
        guard let entry = Self.names.first(where: { $0.0 == lower }) else { return nil }
        self.init(rawValue: entry.1)
    }

    /// The canonical short name (`emerg`, `alert`, `crit`, `err`, `warning`, `notice`, `info`, `debug`).
    public var name: String {
        ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"][rawValue]
    }
}
