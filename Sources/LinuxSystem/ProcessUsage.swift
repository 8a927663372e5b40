import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// This process's CPU time and resident memory: the "CPU seconds per million queries" and "RSS"
/// measures (stable on a noisy machine, unlike wall-clock time).
public struct ProcessUsage: Sendable, Equatable {
    /// User + system CPU seconds so far (`getrusage(RUSAGE_SELF)`).
    public var cpuSeconds: Double
    /// Resident set size in bytes (`/proc/self/statm`).
    public var residentBytes: Int
    /// The user part of `cpuSeconds`.
    public var userSeconds = 0.0
    /// The system part of `cpuSeconds`.
    public var systemSeconds = 0.0

    /// The usage now.
    public static func now() -> ProcessUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return ProcessUsage(cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime), residentBytes: residentBytes(),
                            userSeconds: seconds(usage.ru_utime), systemSeconds: seconds(usage.ru_stime))
    }

    /// Resident bytes from `/proc/self/statm` (its second field, in pages).
    public static func residentBytes() -> Int {
        guard let file = fopen("/proc/self/statm", "r") else { return 0 }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 128)
        guard fgets(&line, Int32(line.count), file) != nil else { return 0 }
        let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            .split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// CPU seconds (user + system) of this process's live threads whose name starts with `prefix`
    /// (`/proc/self/task/*/comm` and `stat`): how `evq load` takes the embedded responder's share
    /// out of the client's CPU figure. Tick resolution (10 ms).
    public static func threadCPUSeconds(namePrefix prefix: String) -> Double {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return tasks.reduce(0) { total, task in
            guard let name = try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8),
                name.hasPrefix(prefix),
                let stat = try? String(contentsOfFile: "/proc/self/task/\(task)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return total }
            // After "pid (comm)": state is field 3, utime and stime are fields 14 and 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return total }
            return total + (user + system) / ticks
        }
    }
}
