// Driver for tools/scan-speed.sh: counts the lines of FILE passing FILTER with LogQuery's
// count-mode scanner and prints "<count> <seconds>". Built with swiftc -O over Sources/LogQuery.
// A third argument `mmap` reads through LogReadMethod.memoryMap instead of pread.
import LogQuery
#if canImport(Glibc)
    import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count == 3 || (arguments.count == 4 && arguments[3] == "mmap") else {
    fputs("usage: scan-speed FILE FILTER [mmap]\n", stderr)
    exit(2)
}
var start = timespec()
clock_gettime(CLOCK_MONOTONIC, &start)
do {
    let method: LogReadMethod = arguments.count == 4 ? .memoryMap : .read
    let count = try LogScanCounter.count(path: arguments[1], filter: arguments[2], readMethod: method)
    var end = timespec()
    clock_gettime(CLOCK_MONOTONIC, &end)
    let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
    print(count, seconds)
} catch {
    fputs("scan-speed: \(error)\n", stderr)
    exit(1)
}
