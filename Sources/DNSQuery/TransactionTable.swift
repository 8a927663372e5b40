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
/// new query). Memory is reserved with `calloc`, so only touched pages count in RSS.
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
    private let owners: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// 0 = no quarantine; else expiry (ms on the shard's clock) << 1 | answered.
    private let quarantine: UnsafeMutablePointer<UInt32>
    /// Ids with an owner.
    private(set) var outstanding = 0
    /// The latest quarantine expiry handed out (ms): a retired socket closes after it.
    private(set) var lastExpiry: UInt32 = 0

    init() {
        guard let o = calloc(Self.size, MemoryLayout<UnsafeMutableRawPointer?>.stride),
            let q = calloc(Self.size, MemoryLayout<UInt32>.stride)
        else { fatalError("cannot reserve a transaction table") }
        owners = o.bindMemory(to: UnsafeMutableRawPointer?.self, capacity: Self.size)
        quarantine = q.bindMemory(to: UInt32.self, capacity: Self.size)
    }

    deinit {
        free(owners)
        free(quarantine)
    }

    /// Takes a random id that is neither outstanding nor in quarantine, for `owner`; nil if
    /// `tries` random draws found none (the caller then uses another socket).
    func allocate(owner: UnsafeMutableRawPointer, ids: inout TransactionIDSource, nowMs: UInt32, tries: Int = 24)
        -> UInt16?
    {
        for _ in 0..<tries {
            let id = ids.draw()
            let index = Int(id)
            guard owners[index] == nil else { continue }
            let q = quarantine[index]
            if q != 0 {
                guard Self.expired(q, nowMs: nowMs) else { continue }
                quarantine[index] = 0
            }
            owners[index] = owner
            outstanding += 1
            return id
        }
        return nil
    }

    /// The query waiting on `id`, if any (unretained).
    @inline(__always)
    func owner(of id: UInt16) -> UnsafeMutableRawPointer? { owners[Int(id)] }

    /// Every outstanding owner (for failing a whole channel at once). O(65,536): rare paths only.
    func allOwners() -> [UnsafeMutableRawPointer] {
        var found: [UnsafeMutableRawPointer] = []
        found.reserveCapacity(outstanding)
        for index in 0..<Self.size where found.count < outstanding {
            if let owner = owners[index] { found.append(owner) }
        }
        return found
    }

    /// Releases `id` into quarantine until `untilMs` (0: free at once).
    func release(_ id: UInt16, untilMs: UInt32, answered: Bool) {
        let index = Int(id)
        guard owners[index] != nil else { return }
        owners[index] = nil
        outstanding -= 1
        quarantine[index] = untilMs == 0 ? 0 : (untilMs << 1 | (answered ? 1 : 0))
        if untilMs > lastExpiry { lastExpiry = untilMs }
    }

    /// What a vacant id is now.
    func vacancy(of id: UInt16, nowMs: UInt32) -> Vacancy {
        let q = quarantine[Int(id)]
        guard q != 0, !Self.expired(q, nowMs: nowMs) else { return .free }
        return q & 1 == 1 ? .answered : .late
    }

    @inline(__always)
    private static func expired(_ q: UInt32, nowMs: UInt32) -> Bool { q >> 1 <= nowMs }
}
