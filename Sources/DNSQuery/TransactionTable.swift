import LinuxSystem
#if canImport(Glibc)
import Glibc
#endif

/// The transaction ids of one socket: id → the query waiting on it, and a quarantine for ids whose
/// query was cancelled, timed out or answered. Loop-owned.
///
/// Ids come from the CSPRNG and are unique among the outstanding queries of the socket, so a
/// socket holds at most 65,536 (the engine caps it lower, see `DNSQueryEngine.Configuration`).
/// A released id stays in quarantine until its expiry: it is not handed out again, and a reply
/// carrying it is recognised as late (or duplicate) and dropped, so a stale reply can never meet
/// a new query that reused its id (libevent's evdns reuses at once, and the stale reply fails the
/// new query). Its memory is a block of its shard's `TransactionTable.Arena`.
final class TransactionTable {
    /// What an id that names no outstanding query is.
    enum Vacancy {
        /// Never used, or its quarantine expired.
        case free
        /// Its query was cancelled or timed out (or moved on to another attempt) recently.
        case late
        /// Its query was answered recently: a second reply is a duplicate.
        case answered
    }

    static let size = 65_536
    /// One word per id, so that placing a query or routing a reply touches one cache line of the
    /// table, not two: 0 = free; the owner's address (a live object, so below 2^63) = outstanding;
    /// `quarantined | expiry (ms on the shard's clock) << 1 | answered` = in quarantine.
    private let entries: UnsafeMutablePointer<UInt64>
    private static let quarantined: UInt64 = 1 << 63
    /// Ids with an owner.
    private(set) var outstanding = 0
    /// The latest quarantine expiry handed out (ms): a retired socket closes after it.
    private(set) var lastExpiry: UInt32 = 0
    /// The id `allocate` tries first next time, already drawn from the CSPRNG, its entry prefetched.
    private var nextID: UInt16?
    private let arena: Arena

    /// A table in a block of `arena`, every id free; throws the arena's `mmap` failure when it had
    /// to map a chunk and could not.
    init(in arena: Arena) throws(SystemError) {
        self.arena = arena
        entries = try arena.takeBlock().bindMemory(to: UInt64.self, capacity: Self.size)
    }

    deinit {
        arena.returnBlock(UnsafeMutableRawPointer(entries))
    }

    /// Takes a random id that is neither outstanding nor in quarantine, for `owner`; nil if
    /// `tries` random draws found none (the caller then uses another socket).
    func allocate(owner: UnsafeMutableRawPointer, ids: TransactionIDSource, nowMs: UInt32, tries: Int = 24)
        -> UInt16?
    {
        for _ in 0..<tries {
            // The id tried now was drawn (and its entry's cache line fetched) by the previous call:
            // a random entry of a 512 KiB table is a cache miss that would otherwise stall here.
            let id = nextID ?? ids.draw()
            let drawn = ids.draw()
            nextID = drawn
            prefetchForWrite(entries + Int(drawn))
            let entry = entries[Int(id)]
            if entry != 0 {
                guard entry & Self.quarantined != 0, Self.expired(entry, nowMs: nowMs) else { continue }
            }
            entries[Int(id)] = UInt64(UInt(bitPattern: owner))
            outstanding += 1
            return id
        }
        return nil
    }

    /// Starts loading the cache line of `id`'s entry (a reply batch prefetches every entry it will
    /// look up before the first lookup, so the misses overlap).
    @inline(__always)
    func prefetch(_ id: UInt16) {
        prefetchForWrite(entries + Int(id))
    }

    /// The query waiting on `id`, if any (unretained).
    @inline(__always)
    func owner(of id: UInt16) -> UnsafeMutableRawPointer? {
        let entry = entries[Int(id)]
        guard entry & Self.quarantined == 0 else { return nil }
        return UnsafeMutableRawPointer(bitPattern: UInt(entry))
    }

    /// Every outstanding owner (for failing a whole channel at once). O(65,536): rare paths only.
    func allOwners() -> [UnsafeMutableRawPointer] {
        var found: [UnsafeMutableRawPointer] = []
        found.reserveCapacity(outstanding)
        for index in 0..<Self.size where found.count < outstanding {
            if let owner = owner(of: UInt16(index)) { found.append(owner) }
        }
        return found
    }

    /// Releases `id` into quarantine until `untilMs` (0: free at once).
    func release(_ id: UInt16, untilMs: UInt32, answered: Bool) {
        guard owner(of: id) != nil else { return }
        outstanding -= 1
        entries[Int(id)] = untilMs == 0 ? 0 : Self.quarantined | UInt64(untilMs) << 1 | (answered ? 1 : 0)
        if untilMs > lastExpiry { lastExpiry = untilMs }
    }

    /// What a vacant id is now.
    func vacancy(of id: UInt16, nowMs: UInt32) -> Vacancy {
        let entry = entries[Int(id)]
        guard entry & Self.quarantined != 0, !Self.expired(entry, nowMs: nowMs) else { return .free }
        return entry & 1 == 1 ? .answered : .late
    }

    @inline(__always)
    private static func expired(_ entry: UInt64, nowMs: UInt32) -> Bool {
        UInt32(truncatingIfNeeded: entry >> 1) <= nowMs
    }
}

extension TransactionTable {
    /// Where a shard's tables live: 2 MiB chunks of four tables each (in the order the shard opens
    /// channels, whatever their server or transport), which the kernel is asked to back with one
    /// huge page (`MADV_HUGEPAGE`). An id is a random entry of its table, so with 4 KiB pages each
    /// query's table lookups (placing it, routing its reply) missed the TLB: a page walk, which
    /// under a hypervisor costs more than the cache miss. One huge page covers four tables with one
    /// TLB entry.
    ///
    /// Costs: the first write to a chunk makes all of its 2 MiB resident (a few tables' random
    /// entries soon touch every 4 KiB page anyway), and may make the kernel compact memory first
    /// (with THP `defrag=madvise`), once per chunk, on the loop, when a channel opens. A reused
    /// block is zeroed whole (512 KiB) when taken. Chunks are unmapped with the arena (the shard),
    /// not when their tables close. Without transparent huge pages a chunk is plain memory.
    ///
    /// Loop-owned, like its shard: taken and given back on the loop, or by the shard's `close()`
    /// once the loop has stopped.
    final class Arena {
        static let chunkBytes = 2 << 20
        static let blockBytes = TransactionTable.size * MemoryLayout<UInt64>.stride
        private var chunks: [UnsafeMutableRawPointer] = []
        /// Blocks no table holds: never used (zero), or given back (zeroed when taken again).
        private var spareBlocks: [(block: UnsafeMutableRawPointer, dirty: Bool)] = []

        init() {}

        deinit {
            for chunk in chunks { munmap(chunk, Self.chunkBytes) }
        }

        /// A zeroed block for one table; throws the `mmap` errno when a chunk is needed and the kernel
        /// refuses it (address-space limit, map count).
        func takeBlock() throws(SystemError) -> UnsafeMutableRawPointer {
            if spareBlocks.isEmpty { try addChunk() }
            let (block, dirty) = spareBlocks.removeLast()
            if dirty { memset(block, 0, Self.blockBytes) }
            return block
        }

        /// Takes back a table's block.
        func returnBlock(_ block: UnsafeMutableRawPointer) {
            spareBlocks.append((block, true))
        }

        /// Maps a chunk on a 2 MiB boundary (where a huge page must start): twice the size, the
        /// unaligned ends unmapped. Anonymous memory reads as zero until written.
        private func addChunk() throws(SystemError) {
            let size = Self.chunkBytes
            guard let mapped = mmap(nil, 2 * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
                mapped != MAP_FAILED
            else {
                throw SystemError.current("mmap")
            }
            let start = UInt(bitPattern: mapped)
            let aligned = (start + UInt(size) - 1) & ~(UInt(size) - 1)
            if aligned > start { munmap(mapped, Int(aligned - start)) }
            let end = start + UInt(2 * size), tail = aligned + UInt(size)
            if end > tail { munmap(UnsafeMutableRawPointer(bitPattern: tail), Int(end - tail)) }
            let chunk = UnsafeMutableRawPointer(bitPattern: aligned)!
            _ = madvise(chunk, size, MADV_HUGEPAGE)
            chunks.append(chunk)
            for index in stride(from: size / Self.blockBytes - 1, through: 0, by: -1) {
                spareBlocks.append((chunk + index * Self.blockBytes, false))
            }
        }
    }
}
