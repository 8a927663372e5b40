import Atomics

#if canImport(Glibc)
import Glibc
#endif

/// The operation registry: a fixed-capacity slab of slots, each with an atomic gate word.
///
/// Gate word layout: generation in the high 32 bits, state in the low 32. Every path that can end
/// an operation (a result, a timer, a cancel from any thread, `cancelAll`, shutdown) must move the
/// state away from `pending` with one compare-and-swap; the loser does nothing. Slot memory is
/// reserved up front with `calloc`, so pages are only touched (and counted in RSS) as slots are used,
/// and no slot ever moves: other threads may read gates without locks.
final class OperationTable: @unchecked Sendable {
    enum State: UInt64 {
        case free = 0, pending = 1, finishing = 2, cancelling = 3
    }

    /// Loop-owned per-slot data (written by the starting thread before the gate is published).
    struct Slot {
        var body: (any OperationBody)?
        /// The operation's timer deadline (ns), 0 when none is armed (see `TimerHeap`).
        var deadline: UInt64
    }

    let capacity: Int
    private let gates: UnsafeMutablePointer<UnsafeAtomic<UInt64>.Storage>
    let slots: UnsafeMutablePointer<Slot>
    /// Free slot numbers for starts from other threads, and the high-water mark, under one lock.
    private let allocator: Locked<(free: [UInt32], highWater: UInt32, closed: Bool)>
    /// Free slot numbers for starts on the loop thread: slots are always released on the loop, so
    /// a loop that starts and ends operations never takes the lock. Loop-owned.
    /// A stack in raw memory (at most `loopFreeLimit`), so that taking or returning a slot on the
    /// loop is a load and a store, with no exclusivity or copy-on-write check.
    private let loopFree: UnsafeMutablePointer<UInt32>
    private var loopFreeCount = 0
    // Raw atomic words (every start reads `closedFlag`): a `ManagedAtomic`'s storage address is a
    // call that is not inlined across modules. Made once the tables are reserved (a throwing init
    // runs no deinit).
    private let closedFlag: UnsafeAtomic<Bool>
    private let published: UnsafeAtomic<UInt32>
    /// How many free slots the loop keeps for itself before handing a batch to other threads.
    private static let loopFreeLimit = 4096

    /// Reserves `capacity` slots (address space only: pages are touched as slots are used).
    /// - Throws: `systemCall` with ENOMEM when the kernel refuses the reservation; `invalidArgument`
    ///   for a capacity outside 1…2³²−2 (`maxOperations` is the caller's).
    init(capacity: Int) throws(ReactorError) {
        guard capacity > 0 && capacity < Int(UInt32.max) else {
            throw ReactorError(.invalidArgument, "maxOperations must be 1…\(UInt32.max - 1), not \(capacity)")
        }
        self.capacity = capacity
        let g = calloc(capacity, MemoryLayout<UnsafeAtomic<UInt64>.Storage>.stride)
        let s = calloc(capacity, MemoryLayout<Slot>.stride)
        guard let g, let s else {
            Glibc.free(g)
            Glibc.free(s)
            throw ReactorError(.systemCall, errno: ENOMEM, "calloc: an operation table of \(capacity) slots")
        }
        gates = g.bindMemory(to: UnsafeAtomic<UInt64>.Storage.self, capacity: capacity)
        loopFree = .allocate(capacity: Self.loopFreeLimit)
        closedFlag = .create(false)
        published = .create(0)
        slots = s.bindMemory(to: Slot.self, capacity: capacity)
        allocator = Locked((free: [], highWater: 0, closed: false))
    }

    deinit {
        let used = highWater
        for index in 0..<Int(used) where state(of: gateWord(UInt32(index))) != .free {
            (slots + index).deinitialize(count: 1)
        }
        loopFree.deallocate()
        closedFlag.destroy()
        published.destroy()
        Glibc.free(gates)
        Glibc.free(slots)
    }

    @inline(__always) static func word(_ generation: UInt32, _ state: State) -> UInt64 {
        UInt64(generation) << 32 | state.rawValue
    }
    @inline(__always) func state(of word: UInt64) -> State { State(rawValue: word & 0xffff_ffff) ?? .free }
    @inline(__always) static func generation(of word: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: word >> 32) }

    @inline(__always) private func gate(_ slot: UInt32) -> UnsafeAtomic<UInt64> {
        UnsafeAtomic(at: gates + Int(slot))
    }

    @inline(__always) func gateWord(_ slot: UInt32) -> UInt64 { gate(slot).load(ordering: .acquiring) }

    /// The number of slots ever used (every slot below it has an initialized gate). Any thread.
    var highWater: UInt32 { published.load(ordering: .acquiring) }

    /// Takes a free slot and opens its gate as `pending` with `body`; nil when full or closed.
    /// `onLoop` says the caller is the loop thread, which may use its own lock-free list.
    func allocate(body: any OperationBody, onLoop: Bool) -> (slot: UInt32, generation: UInt32)? {
        if closedFlag.load(ordering: .relaxed) { return nil }
        let taken: UInt32?
        if onLoop, loopFreeCount > 0 {
            loopFreeCount -= 1
            taken = loopFree[loopFreeCount]
        } else {
            taken = allocator.withLock { state in
                if state.closed { return nil }
                if let slot = state.free.popLast() { return slot }
                guard Int(state.highWater) < capacity else { return nil }
                defer {
                    state.highWater += 1
                    published.store(state.highWater, ordering: .releasing)
                }
                return state.highWater
            }
        }
        guard let slot = taken else { return nil }
        (slots + Int(slot)).initialize(to: Slot(body: body, deadline: 0))
        let generation = Self.generation(of: gate(slot).load(ordering: .relaxed))
        gate(slot).store(Self.word(generation, .pending), ordering: .releasing)
        return (slot, generation)
    }

    /// Moves the gate from `pending` to `to` for this generation; true for the one winner.
    @inline(__always)
    func close(_ slot: UInt32, generation: UInt32, to state: State) -> Bool {
        gate(slot).compareExchange(
            expected: Self.word(generation, .pending), desired: Self.word(generation, state),
            ordering: .acquiringAndReleasing
        ).exchanged
    }

    /// Frees a slot whose gate was won (loop thread): drops its body, advances its generation.
    /// Returns the body so the caller can complete it.
    func release(_ slot: UInt32, generation: UInt32) -> (any OperationBody)? {
        let body = (slots + Int(slot)).move().body
        gate(slot).store(Self.word(generation &+ 1, .free), ordering: .releasing)
        loopFree[loopFreeCount] = slot
        loopFreeCount += 1
        if loopFreeCount == Self.loopFreeLimit {
            let half = Self.loopFreeLimit / 2
            loopFreeCount -= half
            let batch = UnsafeBufferPointer(start: loopFree + loopFreeCount, count: half)
            allocator.withLock { $0.free.append(contentsOf: batch) }
        }
        return body
    }

    /// Refuses every later allocation (shutdown).
    func closeForever() {
        allocator.withLock { $0.closed = true }
        closedFlag.store(true, ordering: .releasing)
    }

    /// Whether `closeForever()` was called. Any thread.
    var isClosed: Bool { closedFlag.load(ordering: .acquiring) }

    /// What `cancel()` on a handle would find: used to tell `.alreadyCompleted` from `.unknown`.
    func classify(_ slot: UInt32, generation: UInt32) -> CancelResult {
        guard slot < highWater else { return .unknown }
        let current = Self.generation(of: gateWord(slot))
        // Generations only move forward, one per completion: a handle from the future is unknown.
        return generation &- current > UInt32.max / 2 || generation == current ? .alreadyCompleted : .unknown
    }
}
