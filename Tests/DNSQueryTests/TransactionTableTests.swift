@testable import DNSQuery
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The transaction tables' memory: blocks of a shard's arena, four to a 2 MiB chunk, reused when a
/// socket closes.
@Suite("Transaction tables")
struct TransactionTableTests {
    private let owner = UnsafeMutableRawPointer(bitPattern: 0x1000)!

    @Test func aBlockGivenBackIsTheNextTakenAndComesBackZeroed() throws {
        let arena = TransactionTable.Arena()
        let block = try arena.takeBlock()
        memset(block, 0xA5, TransactionTable.Arena.blockBytes)
        arena.returnBlock(block)
        let again = try arena.takeBlock()
        #expect(again == block, "a block given back was not reused")
        let bytes = UnsafeRawBufferPointer(start: again, count: TransactionTable.Arena.blockBytes)
        #expect(bytes.allSatisfy { $0 == 0 }, "a reused block still holds its previous table's entries")
    }

    @Test func aTableInAReusedBlockStartsWithEveryIDFree() throws {
        let arena = TransactionTable.Arena()
        let ids = TransactionIDSource()
        var first: TransactionTable? = try TransactionTable(in: arena)
        let held = (0..<3_000).map { _ in first!.allocate(owner: owner, ids: ids, nowMs: 1)! }
        // A third released as answered, a third as cancelled (both resting far beyond `nowMs` below),
        // a third left outstanding.
        for (index, id) in held.enumerated() where index % 3 != 2 {
            first!.release(id, untilMs: 1_000_000, answered: index % 3 == 0)
        }
        first = nil  // its block goes back to the arena and is the next one taken
        let second = try TransactionTable(in: arena)
        let stale = held.filter { second.owner(of: $0) != nil || second.vacancy(of: $0, nowMs: 2) != .free }
        #expect(stale.isEmpty, "\(stale.count) of \(held.count) ids still outstanding or in quarantine")
    }

    @Test func blocksOfOneArenaAreDisjointAndEachChunkStartsOnAHugePageBoundary() throws {
        let arena = TransactionTable.Arena()
        // Nine blocks: three chunks, the last one partly used.
        let blocks = try (0..<9).map { _ in UInt(bitPattern: try arena.takeBlock()) }
        let size = UInt(TransactionTable.Arena.blockBytes)
        let sorted = blocks.sorted()
        #expect(Set(blocks).count == blocks.count)
        for (lower, upper) in zip(sorted, sorted.dropFirst()) {
            #expect(lower + size <= upper, "blocks at \(lower) and \(upper) overlap")
        }
        let chunk = UInt(TransactionTable.Arena.chunkBytes)
        let chunkStarts = Set(blocks.map { $0 & ~(chunk - 1) })
        #expect(chunkStarts.count == 3, "nine blocks span \(chunkStarts.count) aligned 2 MiB chunks, not 3")
        #expect(chunkStarts.isSubset(of: blocks), "a chunk does not start on a 2 MiB boundary")
    }
}
