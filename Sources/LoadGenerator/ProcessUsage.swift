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

    /// The usage now.
    public static func now() -> ProcessUsage {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return ProcessUsage(cpuSeconds: seconds(usage.ru_utime) + seconds(usage.ru_stime), residentBytes: residentBytes())
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
}
