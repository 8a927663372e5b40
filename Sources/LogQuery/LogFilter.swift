/// A compiled filter: a typed predicate over `LogRecord`s, parsed and checked once.
///
/// The language (corresponds to the XPath query of the Windows `EvtQuery`):
/// - comparisons `field OP value` with `==` (or `=`), `!=`, `<`, `<=`, `>`, `>=`:
///   `severity` against a name (`emerg` `alert` `crit` `err` `warning` `notice` `info` `debug`, and
///   aliases) or 0…7, lower meaning more severe; `pid`, `facility` against integers; `time` against an
///   RFC 3339 string; text fields (`host`, `app`, `msgid`, `message`) against a string, byte-wise;
/// - `field contains "text"` (byte substring) and `field ~ "regex"` on any field but `time`
///   (`severity` matches its name, `pid` and `facility` their digits);
/// - `and` (binds tighter), `or`, `not`, parentheses; keywords are case-insensitive.
/// Field names: `time`, `host`, `app`, `pid`, `msgid`, `severity`, `facility`, `message` (aliases
/// `timestamp`, `hostname`, `program`, `level`, `msg`), `sd.ID.NAME` / `sd.NAME` for RFC 5424
/// structured data and `extra.NAME` for other JSON members (true when any instance matches).
/// A record without the field fails every comparison except `!=`, which is `not ==`.
/// The reference with examples, each compiled by a test: docs/filter-language.md.
public struct LogFilter: Sendable, CustomStringConvertible {
    let root: LogFilterNode
    /// The text the filter was compiled from (`""` for `all`).
    public let source: String

    /// The filter every record passes.
    public static let all = LogFilter(root: .all, source: "")

    init(root: LogFilterNode, source: String) {
        self.root = root
        self.source = source
        self.readsOnlyHeaderFields = root.readsOnlyHeaderFields
        self.readsTime = root.readsTime
    }

    /// The field names a filter may use besides `sd.…` and `extra.…` (aliases left out).
    public static let fieldNames = ["time", "host", "app", "pid", "msgid", "severity", "facility", "message",
                                    "sd.ID.NAME", "sd.NAME", "extra.NAME"]

    /// Compiles a filter expression.
    /// - Throws: `LogFilterError` with the position and reason of the first problem; nothing runs.
    public init(_ query: String) throws(LogFilterError) {
        var parser = try LogFilterParser(query)
        self.init(root: try parser.parseQuery(), source: query)
    }

    /// Whether `record` passes the filter.
    public func matches(_ record: LogRecord) -> Bool { root.matches(record) }

    /// Whether the filter reads only fields a located line knows (no structured data or JSON members).
    let readsOnlyHeaderFields: Bool
    /// Whether the filter compares times (so a located line needs its timestamp worked out).
    let readsTime: Bool

    /// The source text.
    public var description: String { source.isEmpty ? "all" : source }

    /// Byte strings every matching line must contain (raw, before parsing), for the scanner's
    /// prefilter; empty when no literal is implied. Exact for RFC 3164/5424 lines and raw records;
    /// not for JSON lines (escapes), where the scanner does not use it.
    public var requiredLiterals: [[UInt8]] {
        var seen: [[UInt8]] = []
        for literal in root.requiredLiterals
        where !literal.isEmpty && !literal.contains(0x0A) && !seen.contains(literal) {
            seen.append(literal)
        }
        return seen
    }

    /// The literal when the whole filter is `message contains "literal"` (or an equivalent
    /// literal regex); the counting fast path needs only to find it in the message part of a line.
    var messageContainsLiteral: [UInt8]? {
        if case .contains(.message, let literal) = root, !literal.isEmpty, !literal.contains(0x0A) { return literal }
        return nil
    }
}

/// A record field named in a filter.
enum LogFilterField: Equatable, Sendable {
    case time, host, app, pid, msgid, severity, facility, message
    case structured(id: String?, name: String)
    case extra(String)

    init?(name: String) {
        switch name.lowercased() {
        case "time", "timestamp": self = .time
        case "host", "hostname": self = .host
        case "app", "program": self = .app
        case "pid": self = .pid
        case "msgid": self = .msgid
        case "severity", "level": self = .severity
        case "facility": self = .facility
        case "message", "msg": self = .message
        default:
            let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2, parts[0] == "sd", !parts[1].isEmpty {
                self = .structured(id: nil, name: parts[1])
            } else if parts.count >= 3, parts[0] == "sd", parts.allSatisfy({ !$0.isEmpty }) {
                self = .structured(
                    id: parts[1..<(parts.count - 1)].joined(separator: "."), name: parts[parts.count - 1])
            } else if parts.count >= 2, parts[0] == "extra", parts.dropFirst().allSatisfy({ !$0.isEmpty }) {
                self = .extra(parts.dropFirst().joined(separator: "."))
            } else {
                return nil
            }
        }
    }

    /// Whether the field's raw bytes appear verbatim in an RFC 3164/5424 line (so a literal
    /// required of the field is required of the line).
    var isVerbatimInLine: Bool {
        switch self {
        case .host, .app, .msgid, .message: true
        default: false
        }
    }

    /// Whether this field, read from `record`, is one of the fields a `LogFieldSource` may not
    /// know without the whole record (structured data, JSON members).
    var needsWholeRecord: Bool {
        switch self {
        case .structured, .extra: true
        default: false
        }
    }

    /// The field's values as text (several for repeated SD params or JSON members).
    func texts(_ r: LogRecord) -> [String] {
        switch self {
        case .time: []
        case .host: r.host.map { [$0] } ?? []
        case .app: r.app.map { [$0] } ?? []
        case .pid: r.pid.map { [String($0)] } ?? []
        case .msgid: r.msgid.map { [$0] } ?? []
        case .severity: r.severity.map { [$0.name] } ?? []
        case .facility: r.facility.map { [String($0)] } ?? []
        case .message: [r.message]
        case .structured(let id, let name):
            r.structuredData.filter { id == nil || $0.id == id }.flatMap { $0.parameters }.filter { $0.name == name }
                .map(\.value)
        case .extra(let name): r.extraFields.filter { $0.name == name }.map(\.value)
        }
    }
}

/// A comparison operator.
enum LogFilterComparison: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="

    func holds<T: Comparable>(_ lhs: T, _ rhs: T) -> Bool {
        switch self {
        case .equal: lhs == rhs
        case .notEqual: lhs != rhs
        case .less: lhs < rhs
        case .lessOrEqual: lhs <= rhs
        case .greater: lhs > rhs
        case .greaterOrEqual: lhs >= rhs
        }
    }
}

/// A node of a compiled filter.
indirect enum LogFilterNode: Sendable {
    case all
    case and(LogFilterNode, LogFilterNode)
    case or(LogFilterNode, LogFilterNode)
    case not(LogFilterNode)
    case severity(LogFilterComparison, LogSeverity)
    case integer(LogFilterField, LogFilterComparison, Int)
    case time(LogFilterComparison, LogTime)
    case text(LogFilterField, LogFilterComparison, [UInt8])
    case contains(LogFilterField, [UInt8])
    case regex(LogFilterField, LogFilterRegex)

    func matches<Source: LogFieldSource>(_ r: Source) -> Bool {
        switch self {
        case .all: return true
        case .and(let a, let b): return a.matches(r) && b.matches(r)
        case .or(let a, let b): return a.matches(r) || b.matches(r)
        case .not(let a): return !a.matches(r)
        case .severity(let op, let value):
            guard let s = r.severity else { return op == .notEqual }
            return op.holds(s, value)
        case .integer(let field, let op, let value):
            guard let v = r.integer(field) else { return op == .notEqual }
            return op.holds(v, value)
        case .time(let op, let value):
            guard let t = r.timestamp else { return op == .notEqual }
            return op.holds(t, value)
        case .text(let field, let op, let value):
            let equal = r.anyText(field) { ByteSearch.equals($0, value) }
            switch op {
            case .equal: return equal
            case .notEqual: return !equal
            default: return r.anyText(field) { op.holds(ByteString(Array($0)), ByteString(value)) }
            }
        case .contains(let field, let literal):
            return r.anyText(field) { ByteSearch.contains($0, literal) }
        case .regex(let field, let regex):
            return r.anyText(field) { regex.matches($0) }
        }
    }

    var readsTime: Bool {
        switch self {
        case .time: true
        case .and(let a, let b), .or(let a, let b): a.readsTime || b.readsTime
        case .not(let a): a.readsTime
        default: false
        }
    }

    var readsOnlyHeaderFields: Bool {
        switch self {
        case .all, .severity, .time: true
        case .and(let a, let b), .or(let a, let b): a.readsOnlyHeaderFields && b.readsOnlyHeaderFields
        case .not(let a): a.readsOnlyHeaderFields
        case .integer(let f, _, _), .text(let f, _, _), .contains(let f, _), .regex(let f, _): !f.needsWholeRecord
        }
    }

    var requiredLiterals: [[UInt8]] {
        switch self {
        case .and(let a, let b): a.requiredLiterals + b.requiredLiterals
        case .text(let field, .equal, let value) where field.isVerbatimInLine: [value]
        case .contains(let field, let literal) where field.isVerbatimInLine: [literal]
        case .regex(let field, let regex) where field.isVerbatimInLine: regex.requiredLiteral.map { [$0] } ?? []
        default: []
        }
    }
}

/// Bytes ordered lexicographically (unsigned), for `<`/`>` on text fields.
struct ByteString: Comparable {
    var bytes: [UInt8]
    init(_ bytes: [UInt8]) { self.bytes = bytes }
    static func < (lhs: ByteString, rhs: ByteString) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
}
