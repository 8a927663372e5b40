import Foundation

/// A file in a fresh temporary directory, removed when the value is dropped by `withLogFile`.
func withLogFile<T>(_ bytes: [UInt8], _ body: (String) throws -> T) throws -> T {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("logq-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let path = directory.appendingPathComponent("test.log").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return try body(path)
}

func withLogFile<T>(_ text: String, _ body: (String) throws -> T) throws -> T {
    try withLogFile(Array(text.utf8), body)
}
