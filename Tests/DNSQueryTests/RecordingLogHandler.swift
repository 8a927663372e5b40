import EventReactor
import Logging

/// A swift-log handler that keeps every entry it is given, for tests to read: the real LogHandler
/// API, recording instead of printing.
struct RecordingLogHandler: LogHandler {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: Logger.Metadata
    }

    /// The entries, shared by every copy of the handler (a Logger copies its handler).
    final class Store: Sendable {
        private let entries = Locked<[Entry]>([])
        func append(_ entry: Entry) { entries.withLock { $0.append(entry) } }
        var all: [Entry] { entries.withLock { $0 } }
        func first(containing text: String) -> Entry? { all.first { $0.message.contains(text) } }
    }

    let store: Store
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String,
             file: String, function: String, line: UInt) {
        store.append(Entry(level: level, message: message.description,
                           metadata: self.metadata.merging(metadata ?? [:]) { $1 }))
    }

    /// A logger writing into `store`, at `level` and above.
    static func logger(_ store: Store, level: Logger.Level = .trace) -> Logger {
        var logger = Logger(label: "test", factory: { _ in RecordingLogHandler(store: store) })
        logger.logLevel = level
        return logger
    }
}

#if canImport(Glibc)
import Glibc
#endif
