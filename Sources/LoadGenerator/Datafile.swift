import DNSMessage

/// One query of a workload: a name and a record type (the type's mnemonic or `TYPEnnn`).
public struct WorkloadQuery: Sendable, Equatable {
    public var name: String
    public var type: String

    /// Makes a query entry.
    public init(name: String, type: String) {
        self.name = name
        self.type = type
    }
}

/// A dnsperf datafile: one query per line, `name type` (type defaults to A), blank lines and lines
/// starting with `#` or `;` ignored — the format dnsperf reads, so the same file drives both.
public enum Datafile {
    /// A line that is not `name [type]`.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var line: Int
        public var reason: String
        public var description: String { "datafile line \(line): \(reason)" }

        /// An error at a 1-based line (0 for the file as a whole).
        public init(line: Int, reason: String) {
            self.line = line
            self.reason = reason
        }
    }

    /// Parses a datafile's text.
    /// - Throws: `ParseError` with the 1-based line number for a malformed line, or if no query is found.
    public static func parse(_ text: String) throws(ParseError) -> [WorkloadQuery] {
        var queries: [WorkloadQuery] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: " \t\r")
            if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count <= 2 else {
                throw ParseError(line: number + 1, reason: "expected 'name [type]', found \(fields.count) fields")
            }
            let name = String(fields[0])
            do { _ = try DNSName(parsing: name) } catch {
                throw ParseError(line: number + 1, reason: "invalid name '\(name)': \(error)")
            }
            let type = fields.count == 2 ? String(fields[1]).uppercased() : "A"
            guard type.allSatisfy({ $0.isLetter || $0.isNumber }) else {
                throw ParseError(line: number + 1, reason: "invalid type '\(type)'")
            }
            queries.append(WorkloadQuery(name: name, type: type))
        }
        guard !queries.isEmpty else { throw ParseError(line: 0, reason: "no queries in the datafile") }
        return queries
    }

    /// `count` synthetic names under `suffix` (`q0.suffix`, `q1.suffix`, …), all type A: what the
    /// embedded responder answers by synthesis.
    public static func synthetic(count: Int, suffix: String) -> [WorkloadQuery] {
        (0..<count).map { WorkloadQuery(name: "q\($0).\(suffix)", type: "A") }
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var slice = self
        while let first = slice.first, set.contains(first) { slice.removeFirst() }
        while let last = slice.last, set.contains(last) { slice.removeLast() }
        return slice
    }
}
