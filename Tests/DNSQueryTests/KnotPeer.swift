import DNSQuery
import Foundation

/// A private knotd on 127.0.0.1, started once for the test run by `tools/knot-server.sh` (installed
/// by `tools/install-test-peers.d/dns-peers.sh`) and stopped when the process exits.
enum KnotPeer {
    static let zone = """
        $ORIGIN example.test.
        $TTL 300
        @        IN SOA ns1.example.test. hostmaster.example.test. 1 3600 600 86400 300
        @        IN NS  ns1
        ns1      IN A   127.0.0.1
        www      IN A   192.0.2.10
        www      IN AAAA 2001:db8::10
        MixedCase IN A  192.0.2.20
        \(bigTXT)
        \(KnotRDataTests.zoneLines)
        """

    /// 12 TXT records of 200 bytes: about 2.6 KB, over the 1232-byte EDNS size, so UDP is truncated.
    static let bigTXT = (0..<12).map { index in
        "big      IN TXT \"\(String(repeating: Character(UnicodeScalar(UInt8(97 + index))), count: 200))\""
    }.joined(separator: "\n")

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The server's address, or the reason it could not start.
    static let server: Result<DNSServer, KnotError> = start()

    struct KnotError: Error, CustomStringConvertible {
        var description: String
    }

    private static func start() -> Result<DNSServer, KnotError> {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("evq-dnsquery-knot-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let zoneFile = directory.appendingPathComponent("example.test.zone")
        do {
            try zone.write(to: zoneFile, atomically: true, encoding: .utf8)
        } catch {
            return .failure(KnotError(description: "cannot write the zone: \(error)"))
        }
        // knotd stops when this process exits, even by a crash that skips `atexit`.
        setenv("KNOT_WATCH_PID", "\(getpid())", 1)
        for _ in 0..<3 {
            let port = freePort()
            let status = run(["start", directory.path, "\(port)", zoneFile.path])
            if status == 0 {
                stopDirectory = directory.path
                atexit { KnotPeer.stop() }
                return .success(DNSServer(ipv4: 127, 0, 0, 1, port: port))
            }
        }
        return .failure(KnotError(description: "tools/knot-server.sh start failed (is knot installed?)"))
    }

    nonisolated(unsafe) private static var stopDirectory: String?

    /// Stops knotd and removes its scratch directory (each test process has its own).
    private static func stop() {
        guard let directory = stopDirectory else { return }
        _ = run(["stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `bash SCRIPT ARGUMENTS` (tools/knot-server.sh by default) and waits for it (posix_spawn +
    /// waitpid: Foundation's `Process.waitUntilExit` does not return here when the script leaves a daemon).
    static func run(_ arguments: [String], script: String = "tools/knot-server.sh") -> Int32 {
        let argv = ["/bin/bash", repository.appendingPathComponent(script).path] + arguments
        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/bin/bash", nil, nil, &cArguments, environ) == 0 else { return -1 }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (status >> 8) & 0xff
    }

    /// A port the kernel just had free on 127.0.0.1 (the port of a scripted server socket, closed again).
    static func freePort() -> UInt16 { ScriptedServer().port }
}
