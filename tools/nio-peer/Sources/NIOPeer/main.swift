// Measures SwiftNIO's event loop the way `evq reactor-probe` measures evquery's reactor; prints
// `name value` lines. Run by tools/compare-reactor.sh.
import Dispatch
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

func now() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func residentBytes() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var line = [CChar](repeating: 0, count: 128)
    guard fgets(&line, Int32(line.count), file) != nil else { return 0 }
    let fields = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).split(separator: " ")
    return (Int(fields[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE)))
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

let rounds = 15
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let loop = group.next()
let done = NIOLockedValueBox(0)
func waitFor(_ target: Int) { while done.withLockedValue({ $0 }) < target { sched_yield() } }

// RSS per outstanding scheduled task at 1,000,000 (a cancelled task fails its promise: counted as done).
let million = 1_000_000
let before = residentBytes()
let tasks: [Scheduled<Void>] = try loop.submit {
    (0..<million).map { index in
        let task = loop.scheduleTask(in: .seconds(3600) + .nanoseconds(Int64(index))) {}
        task.futureResult.whenComplete { _ in done.withLockedValue { $0 += 1 } }
        return task
    }
}.wait()
let rss = Double(residentBytes() - before) / Double(million)

// Cancel one of 1,000,000: random victims on the loop. NIO's cancel searches its queue (O(n)), so
// 100 victims a round (evq reactor-probe cancels 10,000 a round); both print a per-cancel median.
var order = Array(0..<million)
var rng = SystemRandomNumberGenerator()
order.shuffle(using: &rng)
var cancelTimes: [Double] = []
var completed = 0
for round in 0..<rounds {
    let victims = order[(round * 100)..<((round + 1) * 100)].map { tasks[$0] }
    let start = now()
    try loop.submit { for task in victims { task.cancel() } }.wait()
    completed += victims.count
    waitFor(completed)
    cancelTimes.append(Double(now() - start) / Double(victims.count))
}
// Shutting the group down fails the remaining tasks (cancelling them one by one would take minutes).
try group.syncShutdownGracefully()

// scheduleTask + cancel pairs on a fresh loop, 10,000 a round, promise completion included.
let pairGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let pairLoop = pairGroup.next()
done.withLockedValue { $0 = 0 }
completed = 0
var pairTimes: [Double] = []
for _ in 0..<rounds {
    let start = now()
    try pairLoop.submit {
        for _ in 0..<10_000 {
            let task = pairLoop.scheduleTask(in: .seconds(60)) {}
            task.futureResult.whenComplete { _ in done.withLockedValue { $0 += 1 } }
            task.cancel()
        }
    }.wait()
    completed += 10_000
    waitFor(completed)
    pairTimes.append(Double(now() - start) / 10_000)
}

print("start_cancel_pair_ns \(median(pairTimes))")
print("cancel_one_of_1m_ns \(median(cancelTimes))")
print("rss_bytes_per_op_at_1m \(rss)")
try pairGroup.syncShutdownGracefully()
