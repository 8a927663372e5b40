/// A binary min-heap of (deadline, slot) with each slot's position stored back in the operation
/// table, so that removing any operation's timer is O(log n) with no search. Loop-owned.
/// One libevent timer, armed for the earliest deadline, serves every operation on the reactor.
struct TimerHeap {
    struct Entry {
        var deadline: UInt64
        var slot: UInt32
    }

    private(set) var entries: [Entry] = []
    private let slots: UnsafeMutablePointer<OperationTable.Slot>

    init(slots: UnsafeMutablePointer<OperationTable.Slot>) {
        self.slots = slots
    }

    var count: Int { entries.count }
    var earliest: UInt64? { entries.first?.deadline }

    /// Inserts or moves the timer of `slot`.
    mutating func schedule(slot: UInt32, deadline: UInt64) {
        let index = Int(slots[Int(slot)].heapIndex)
        if index >= 0 {
            let old = entries[index].deadline
            entries[index].deadline = deadline
            if deadline < old { siftUp(index) } else { siftDown(index) }
            return
        }
        entries.append(Entry(deadline: deadline, slot: slot))
        slots[Int(slot)].heapIndex = Int32(entries.count - 1)
        siftUp(entries.count - 1)
    }

    /// Removes the timer of `slot` if it has one.
    mutating func remove(slot: UInt32) {
        let index = Int(slots[Int(slot)].heapIndex)
        guard index >= 0 else { return }
        slots[Int(slot)].heapIndex = -1
        let last = entries.removeLast()
        guard index < entries.count else { return }
        entries[index] = last
        slots[Int(last.slot)].heapIndex = Int32(index)
        if index > 0 && last.deadline < entries[(index - 1) / 2].deadline { siftUp(index) } else { siftDown(index) }
    }

    /// Pops the earliest timer if its deadline is at or before `now`.
    mutating func popExpired(now: UInt64) -> UInt32? {
        guard let first = entries.first, first.deadline <= now else { return nil }
        remove(slot: first.slot)
        return first.slot
    }

    private mutating func siftUp(_ start: Int) {
        var index = start
        let moving = entries[index]
        while index > 0 {
            let parent = (index - 1) / 2
            guard moving.deadline < entries[parent].deadline else { break }
            entries[index] = entries[parent]
            slots[Int(entries[index].slot)].heapIndex = Int32(index)
            index = parent
        }
        entries[index] = moving
        slots[Int(moving.slot)].heapIndex = Int32(index)
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
            slots[Int(entries[index].slot)].heapIndex = Int32(index)
            index = child
        }
        entries[index] = moving
        slots[Int(moving.slot)].heapIndex = Int32(index)
    }
}
