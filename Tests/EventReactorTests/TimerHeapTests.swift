@testable import EventReactor
import Testing

/// The reactor's deadline heap on its own, against a plain model: expired timers come out earliest
/// first, each live one once, and a removed or moved timer's old entry never, through the heap's
/// compactions.
@Suite("Timer heap")
struct TimerHeapTests {
    @Test func expiredTimersComeOutEarliestFirstEachLiveOneOnceAndStaleEntriesNever() {
        let slotCount = 500
        let slots = UnsafeMutablePointer<OperationTable.Slot>.allocate(capacity: slotCount)
        slots.initialize(repeating: OperationTable.Slot(body: nil, deadline: 0), count: slotCount)
        defer { slots.deallocate() }
        let timers = TimerHeap(slots: slots)
        var random = SplitMix64(seed: 20261123)
        // The model: each armed slot's deadline and generation.
        var armed: [UInt32: (deadline: UInt64, generation: UInt32)] = [:]
        var generations = [UInt32](repeating: 0, count: slotCount)
        var now: UInt64 = 1_000
        var latest: UInt64 = 1_000
        for round in 0..<40 {
            // Arm, move and remove: most deadlines later than all before (as a DNS attempt's), some
            // earlier; moves and removals leave stale entries, enough to compact many times.
            for _ in 0..<3_000 {
                let slot = UInt32(random.next() % UInt64(slotCount))
                switch random.next() % 10 {
                case 0..<6:
                    latest += random.next() % 50
                    if armed[slot] == nil { generations[Int(slot)] &+= 1 }
                    armed[slot] = (latest, generations[Int(slot)])
                    timers.schedule(slot: slot, generation: generations[Int(slot)], deadline: latest)
                case 6..<8:
                    let deadline = now + random.next() % (latest - now + 1)
                    if armed[slot] == nil { generations[Int(slot)] &+= 1 }
                    armed[slot] = (deadline, generations[Int(slot)])
                    timers.schedule(slot: slot, generation: generations[Int(slot)], deadline: deadline)
                default:
                    armed[slot] = nil
                    timers.remove(slot: slot)
                }
            }
            #expect(timers.count == armed.count, "round \(round)")
            // Expire up to a point (everything in the last round).
            now = round == 39 ? .max : now + (latest - now) / 3
            var expected = armed.filter { $0.value.deadline <= now }
            var last: UInt64 = 0
            while let (slot, generation) = timers.popExpired(now: now, generationOf: { generations[Int($0)] }) {
                guard let timer = expected.removeValue(forKey: slot) else {
                    Issue.record("slot \(slot) came out but is not an expired live timer (round \(round))")
                    continue
                }
                #expect(timer.generation == generation && timer.deadline >= last, "slot \(slot)")
                last = timer.deadline
                armed[slot] = nil
            }
            #expect(expected.isEmpty, "\(expected.count) expired timers did not come out (round \(round))")
            #expect(timers.count == armed.count)
        }
        #expect(timers.count == 0 && timers.earliest == nil)
    }
}
