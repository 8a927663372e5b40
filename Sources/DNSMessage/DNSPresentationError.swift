/// Why presentation-format text (a name, an address, record data, a zone file) could not be read.
public struct DNSPresentationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong, in words.
    public var message: String
    /// The 1-based line of the zone file, when the text came from one; 0 otherwise.
    public var line: Int

    /// Creates an error with a message and an optional line number.
    public init(_ message: String, line: Int = 0) {
        self.message = message
        self.line = line
    }

    /// `"line <n>: <message>"`, or just the message without a line.
    public var description: String { line > 0 ? "line \(line): \(message)" : message }
}
