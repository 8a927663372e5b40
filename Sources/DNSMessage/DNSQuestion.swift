/// A question: the name, type and class a query asks for.
public struct DNSQuestion: Hashable, Sendable {
    /// The name asked for, case as sent.
    public var name: DNSName
    /// The type asked for.
    public var type: DNSType
    /// The class asked for.
    public var `class`: DNSClass

    /// Creates a question (class IN unless given).
    public init(name: DNSName, type: DNSType, class: DNSClass = .in) {
        self.name = name
        self.type = type
        self.class = `class`
    }
}
