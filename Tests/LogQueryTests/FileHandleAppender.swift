import Foundation

/// Appends text to a file (a writer in follow tests).
struct FileHandleAppender {
    let handle: FileHandle

    init?(path: String) {
        guard let handle = FileHandle(forWritingAtPath: path) else { return nil }
        self.handle = handle
    }

    func append(_ text: String) {
        handle.seekToEndOfFile()
        handle.write(Data(text.utf8))
    }
}
