// Driver for tools/scan-speed.sh: counts the lines of FILE passing FILTER with LogQuery's
// count-mode scanner and prints "<count> <seconds>". Built with swiftc -O over Sources/LogQuery.
import LogQuery
#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    fputs("usage: scan-speed FILE FILTER\n", stderr)
    exit(2)
}
var start = timespec()
clock_gettime(CLOCK_MONOTONIC, &start)
do {
    let count = try LogScanCounter.count(path: arguments[1], filter: arguments[2])
    var end = timespec()
    clock_gettime(CLOCK_MONOTONIC, &end)
    let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
    print(count, seconds)
} catch {
    fputs("scan-speed: \(error)\n", stderr)
    exit(1)
}
