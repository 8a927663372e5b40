/// `gzip -c -n` of `text`: a gzip member as the system's gzip writes it.
public func gzip(_ text: String) throws -> [UInt8] {
    let run = try ChildProcess.run("/bin/gzip", ["-c", "-n"], input: Array(text.utf8), timeout: .seconds(30))
    guard run.exited && run.status == 0 else { throw ChildProcess.SpawnError(description: "gzip: exit \(run.status): \(run.errors)") }
    return run.stdout
}
