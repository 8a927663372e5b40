/// A binary min-heap of payloads keyed by a deadline (monotonic nanoseconds), for a thread that
/// sleeps until the earliest one is due. Not thread-safe.
public struct DeadlineHeap<Payload> {
    private var storage: [(due: UInt64, payload: Payload)] = []

    /// An empty heap.
    public init() {}

    /// The earliest deadline, if any.
    public var earliest: UInt64? { storage.first?.due }
    /// How many payloads it holds.
    public var count: Int { storage.count }

    /// Adds `payload` due at `due`.
    public mutating func insert(_ payload: Payload, due: UInt64) {
        storage.append((due, payload))
        var child = storage.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard storage[child].due < storage[parent].due else { break }
            storage.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the payload with the earliest deadline; the heap must not be empty.
    public mutating func removeEarliest() -> Payload {
        storage.swapAt(0, storage.count - 1)
        let earliest = storage.removeLast().payload
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < storage.count && storage[left].due < storage[smallest].due { smallest = left }
            if right < storage.count && storage[right].due < storage[smallest].due { smallest = right }
            if smallest == parent { break }
            storage.swapAt(parent, smallest)
            parent = smallest
        }
        return earliest
    }
}
