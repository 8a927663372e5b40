@testable import DNSQuery
import Testing

/// The transaction tables' memory: blocks of a shard's arena, four to a 2 MiB chunk, reused when a
/// socket closes.
@Suite("Transaction tables")
struct TransactionTableTests {
    private let owner = UnsafeMutableRawPointer(bitPattern: 0x1000)!

    /// Takes ids until `count` are outstanding, from `ids`; returns them.
    private func fill(_ table: TransactionTable, count: Int, ids: TransactionIDSource) -> [UInt16] {
        (0..<count).map { _ in table.allocate(owner: owner, ids: ids, nowMs: 1)! }
    }

    @Test func aTableInAReusedBlockStartsWithEveryIDFree() {
        let arena = TransactionTable.Arena()
        let ids = TransactionIDSource()
        var first: TransactionTable? = TransactionTable(in: arena)
        let held = fill(first!, count: 3_000, ids: ids)
        // Half answered and resting, half quarantined for a long time, the rest left outstanding.
        for (index, id) in held.enumerated() where index % 3 != 2 {
            first!.release(id, untilMs: 1_000_000, answered: index % 3 == 0)
        }
        first = nil  // its block goes back to the arena, written all over
        let second = TransactionTable(in: arena)
        #expect(second.outstanding == 0)
        let stale = held.filter { second.owner(of: $0) != nil || second.vacancy(of: $0, nowMs: 2) != .free }
        #expect(stale.isEmpty, "\(stale.count) of \(held.count) ids still outstanding or in quarantine")
    }

    @Test func tablesOfOneArenaNeverShareMemory() {
        let arena = TransactionTable.Arena()
        let ids = TransactionIDSource()
        // Nine tables: three chunks, the last one partly used.
        let tables = (0..<9).map { _ in TransactionTable(in: arena) }
        // Every id of the first table outstanding: any overlap would show in another table.
        let all = TransactionTable.size
        var taken = 0
        while taken < all {
            if tables[0].allocate(owner: owner, ids: ids, nowMs: 1, tries: 1_000) != nil { taken += 1 }
        }
        for (index, table) in tables.enumerated().dropFirst() {
            #expect(table.outstanding == 0)
            let stray = (0..<all).first { table.owner(of: UInt16($0)) != nil }
            #expect(stray == nil, "table \(index) sees an id of table 0")
        }
        #expect(tables[0].allocate(owner: owner, ids: ids, nowMs: 1, tries: 64) == nil)
    }
}
