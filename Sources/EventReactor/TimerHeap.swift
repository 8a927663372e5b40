/// Operation deadlines: a binary min-heap of (deadline, slot, generation) with lazy deletion.
///
/// Removing a timer (a cancel, a result, a re-arm) is O(1): the slot's `deadline` is cleared (or
/// changed), and the heap entry it leaves behind is skipped when it reaches the top — an entry is
/// live only if its slot's generation and deadline still match. When stale entries outnumber live
/// ones the heap is rebuilt in O(n), so the amortised cost stays O(1) and memory stays bounded.
/// Loop-owned. One libevent timer, armed for the earliest entry, serves every operation.
///
/// A class held by a `let`, its entries in raw memory it grows itself: a push or a pop is plain
/// loads and stores, with no dynamic exclusivity check and no copy-on-write check (both showed in
/// the DNS engine's profile under load).
final class TimerHeap {
    struct Entry {
        var deadline: UInt64
        var slot: UInt32
        var generation: UInt32
    }

    private var entries: UnsafeMutablePointer<Entry>
    private var capacity = 64
    /// Entries in the heap, live and stale.
    private var used = 0
    private let slots: UnsafeMutablePointer<OperationTable.Slot>
    /// Live timers (slots whose `deadline` is set).
    private(set) var count = 0

    init(slots: UnsafeMutablePointer<OperationTable.Slot>) {
        self.slots = slots
        entries = .allocate(capacity: capacity)
    }

    deinit { entries.deallocate() }

    /// The earliest entry's deadline (it may be stale; popping skips it).
    var earliest: UInt64? { used > 0 ? entries[0].deadline : nil }

    private func append(_ entry: Entry) {
        if used == capacity {
            let grown = UnsafeMutablePointer<Entry>.allocate(capacity: capacity * 2)
            grown.moveInitialize(from: entries, count: used)
            entries.deallocate()
            entries = grown
            capacity *= 2
        }
        (entries + used).initialize(to: entry)
        used += 1
    }

    /// Sets or moves the timer of `slot` (generation `generation`).
    func schedule(slot: UInt32, generation: UInt32, deadline: UInt64) {
        let stored = max(deadline, 1)
        if slots[Int(slot)].deadline == 0 { count += 1 }
        slots[Int(slot)].deadline = stored
        append(Entry(deadline: stored, slot: slot, generation: generation))
        siftUp(used - 1)
        compactIfMostlyStale()
    }

    /// Removes the timer of `slot` if it has one: O(1).
    func remove(slot: UInt32) {
        guard slots[Int(slot)].deadline != 0 else { return }
        slots[Int(slot)].deadline = 0
        count -= 1
        if count == 0 { used = 0 }
    }

    /// Pops the earliest live timer whose deadline is at or before `now`, with its generation.
    func popExpired(now: UInt64, generationOf: (UInt32) -> UInt32) -> (slot: UInt32, generation: UInt32)? {
        while used > 0, entries[0].deadline <= now {
            let first = entries[0]
            popFirst()
            let live = slots[Int(first.slot)].deadline == first.deadline && generationOf(first.slot) == first.generation
            guard live else { continue }
            slots[Int(first.slot)].deadline = 0
            count -= 1
            return (first.slot, first.generation)
        }
        return nil
    }

    private func popFirst() {
        used -= 1
        guard used > 0 else { return }
        entries[0] = entries[used]
        siftDown(0)
    }

    private func compactIfMostlyStale() {
        guard used > 1024, used > 2 * count + 1024 else { return }
        var kept = 0
        for index in 0..<used {
            let entry = entries[index]
            guard slots[Int(entry.slot)].deadline == entry.deadline else { continue }
            entries[kept] = entry
            kept += 1
        }
        used = kept
        // Entries of freed-and-reused slots can survive the filter only with a deadline equal to
        // the new one; popping still checks the generation.
        for index in stride(from: used / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private func siftUp(_ start: Int) {
        var index = start
        let moving = entries[index]
        while index > 0 {
            let parent = (index - 1) / 2
            guard moving.deadline < entries[parent].deadline else { break }
            entries[index] = entries[parent]
            index = parent
        }
        entries[index] = moving
    }

    private func siftDown(_ start: Int) {
        var index = start
        let moving = entries[index]
        let count = used
        while true {
            let left = 2 * index + 1
            guard left < count else { break }
            let right = left + 1
            let child = right < count && entries[right].deadline < entries[left].deadline ? right : left
            guard entries[child].deadline < moving.deadline else { break }
            entries[index] = entries[child]
            index = child
        }
        entries[index] = moving
    }
}
