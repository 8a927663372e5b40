/// Operation deadlines: a binary min-heap of (deadline, slot, generation) with lazy deletion.
///
/// Removing a timer (a cancel, a result, a re-arm) is O(1): the slot's `deadline` is cleared (or
/// changed), and the heap entry it leaves behind is skipped when it reaches the top — an entry is
/// live only if its slot's generation and deadline still match. When stale entries outnumber live
/// ones the heap is rebuilt in O(n), so the amortised cost stays O(1) and memory stays bounded.
/// Loop-owned. One libevent timer, armed for the earliest entry, serves every operation.
struct TimerHeap {
    struct Entry {
        var deadline: UInt64
        var slot: UInt32
        var generation: UInt32
    }

    private var entries: [Entry] = []
    private let slots: UnsafeMutablePointer<OperationTable.Slot>
    /// Live timers (slots whose `deadline` is set).
    private(set) var count = 0

    init(slots: UnsafeMutablePointer<OperationTable.Slot>) {
        self.slots = slots
    }

    /// The earliest entry's deadline (it may be stale; popping skips it).
    var earliest: UInt64? { entries.first?.deadline }

    /// Sets or moves the timer of `slot` (generation `generation`).
    mutating func schedule(slot: UInt32, generation: UInt32, deadline: UInt64) {
        let stored = max(deadline, 1)
        if slots[Int(slot)].deadline == 0 { count += 1 }
        slots[Int(slot)].deadline = stored
        entries.append(Entry(deadline: stored, slot: slot, generation: generation))
        siftUp(entries.count - 1)
        compactIfMostlyStale()
    }

    /// Removes the timer of `slot` if it has one: O(1).
    mutating func remove(slot: UInt32) {
        guard slots[Int(slot)].deadline != 0 else { return }
        slots[Int(slot)].deadline = 0
        count -= 1
        if count == 0 { entries.removeAll(keepingCapacity: true) }
    }

    /// Pops the earliest live timer whose deadline is at or before `now`, with its generation.
    mutating func popExpired(now: UInt64, generationOf: (UInt32) -> UInt32) -> (slot: UInt32, generation: UInt32)? {
        while let first = entries.first, first.deadline <= now {
            popFirst()
            let live = slots[Int(first.slot)].deadline == first.deadline && generationOf(first.slot) == first.generation
            guard live else { continue }
            slots[Int(first.slot)].deadline = 0
            count -= 1
            return (first.slot, first.generation)
        }
        return nil
    }

    private mutating func popFirst() {
        let last = entries.removeLast()
        guard !entries.isEmpty else { return }
        entries[0] = last
        siftDown(0)
    }

    private mutating func compactIfMostlyStale() {
        guard entries.count > 1024, entries.count > 2 * count + 1024 else { return }
        let slots = slots
        entries.removeAll { slots[Int($0.slot)].deadline != $0.deadline }
        // Entries of freed-and-reused slots can survive the filter only with a deadline equal to
        // the new one; popping still checks the generation.
        for index in stride(from: entries.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
    }

    private mutating func siftUp(_ start: Int) {
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

    private mutating func siftDown(_ start: Int) {
        var index = start
        let moving = entries[index]
        let count = entries.count
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
