/// One record of a text log: a parsed line, or a line kept raw because it is not of the format.
///
/// Corresponds to one event handle returned by the Windows `EvtNext`. Every line of a file
/// yields exactly one record; nothing is dropped, and `offset`/`ordinal` locate it in the file.
public struct LogRecord: Sendable, Equatable {
    /// When the event happened; `nil` when the line carries no (parsable) time.
    public var timestamp: LogTime?
    /// The originating host (RFC 3164 HOSTNAME, RFC 5424 HOSTNAME, JSON `host`/`hostname`).
    public var host: String?
    /// The application (RFC 3164 TAG, RFC 5424 APP-NAME, JSON `app`/`program`/`ident`).
    public var app: String?
    /// The process id, when the line carries a numeric one.
    public var pid: Int?
    /// The RFC 5424 MSGID (or JSON `msgid`).
    public var msgid: String?
    /// The severity (0 = emergency … 7 = debug), when known.
    public var severity: LogSeverity?
    /// The facility number (0…23), when known.
    public var facility: Int?
    /// RFC 5424 structured data in file order; duplicate SD-IDs and parameters are kept.
    public var structuredData: [StructuredDataElement]
    /// Other named fields (JSON members not mapped to a well-known field), in file order.
    public var extraFields: [(name: String, value: String)]
    /// The free-text message (for a raw record: the whole line).
    public var message: String
    /// Byte offset of the first byte of the line in the file.
    public var offset: Int64
    /// 0-based line number in the file.
    public var ordinal: Int64
    /// Bytes the line takes in the file, its newline included (when it has one), so the next
    /// line starts at `offset + length`.
    public var length: Int64
    /// How the line deviated from the expected shape.
    public var flags: LogRecordFlags

    /// Makes a record; every field but the position and message defaults to empty.
    public init(
        timestamp: LogTime? = nil, host: String? = nil, app: String? = nil, pid: Int? = nil,
        msgid: String? = nil, severity: LogSeverity? = nil, facility: Int? = nil,
        structuredData: [StructuredDataElement] = [], extraFields: [(name: String, value: String)] = [],
        message: String, offset: Int64 = 0, ordinal: Int64 = 0, length: Int64 = 0, flags: LogRecordFlags = []
    ) {
        self.timestamp = timestamp
        self.host = host
        self.app = app
        self.pid = pid
        self.msgid = msgid
        self.severity = severity
        self.facility = facility
        self.structuredData = structuredData
        self.extraFields = extraFields
        self.message = message
        self.offset = offset
        self.ordinal = ordinal
        self.length = length
        self.flags = flags
    }

    /// Field-by-field equality (tuples in `extraFields` are compared element-wise).
    public static func == (lhs: LogRecord, rhs: LogRecord) -> Bool {
        lhs.timestamp == rhs.timestamp && lhs.host == rhs.host && lhs.app == rhs.app && lhs.pid == rhs.pid
            && lhs.msgid == rhs.msgid && lhs.severity == rhs.severity && lhs.facility == rhs.facility
            && lhs.structuredData == rhs.structuredData && lhs.message == rhs.message
            && lhs.offset == rhs.offset && lhs.ordinal == rhs.ordinal && lhs.length == rhs.length
            && lhs.flags == rhs.flags
            && lhs.extraFields.elementsEqual(rhs.extraFields) { $0.name == $1.name && $0.value == $1.value }
    }
}

/// One RFC 5424 SD-ELEMENT: its SD-ID and its parameters in file order (duplicates kept).
public struct StructuredDataElement: Sendable, Equatable {
    /// The SD-ID, e.g. `timeQuality` or `origin@32473`.
    public var id: String
    /// The SD-PARAMs, unescaped (`\"`, `\\`, `\]`), in file order.
    public var parameters: [Parameter]

    /// One SD-PARAM.
    public struct Parameter: Sendable, Equatable {
        /// The PARAM-NAME.
        public var name: String
        /// The PARAM-VALUE with its escapes removed.
        public var value: String
        /// Makes a parameter.
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    /// Makes an element.
    public init(id: String, parameters: [Parameter]) {
        self.id = id
        self.parameters = parameters
    }
}

/// How a line deviated from the expected shape; a flagged record is still delivered.
public struct LogRecordFlags: OptionSet, Sendable, Hashable {
    /// The raw value.
    public let rawValue: UInt8
    /// Makes flags from a raw value.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The line was longer than the scanner's limit; the record holds its first bytes only.
    public static let cut = LogRecordFlags(rawValue: 1 << 0)
    /// The line is not of the file's format; `message` holds the whole line.
    public static let raw = LogRecordFlags(rawValue: 1 << 1)
    /// The line is not valid UTF-8; invalid sequences were replaced by U+FFFD.
    public static let invalidUTF8 = LogRecordFlags(rawValue: 1 << 2)
    /// The line is the last one of the file and has no terminating newline (yet). A forward resume
    /// from this record's bookmark starts at the line again, so a line finished later is read whole.
    public static let partial = LogRecordFlags(rawValue: 1 << 3)
}
