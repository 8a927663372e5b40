import Foundation
import Testing

import LinuxSystem
@testable import LogQuery

#if canImport(Glibc)
    import Glibc
#endif

/// Serialized: one test takes every guard slot for a moment, which would send the other's windows to
/// `pread` (still the right counts, but no fault to see).
@Suite(.serialized) struct TruncatedMappingTests {
    /// 5.6 MB of syslog (every 7th line a failure): two 4 MiB windows.
    static let text = syslogLines(40_000, padding: 60)
    static let filter = #"message contains "Failed password""#

    /// Counts `path` with a memory-mapped count scanner, truncating the file to `size` after the
    /// first slice (when the window is mapped and a little of it read).
    static func countTruncating(_ path: String, to size: Int64) throws -> Int {
        let scanner = try LogScanner(
            path: path, filter: try LogFilter(filter), countOnly: true, bufferSize: 64 * 1024, readMethod: .memoryMap)
        var total = 0
        var first = true
        while true {
            switch scanner.advance(budgetBytes: 64 * 1024, maxRecords: 1) {
            case .counted(let n): total += n
            case .endOfFile: return total
            case .error(let error): throw error
            case .records, .needMore: break
            }
            if first {
                first = false
                #expect(truncate(path, off_t(size)) == 0)
            }
        }
    }

    /// A file cut while a count reads it through `mmap` neither stops the process with SIGBUS nor
    /// counts the zeros the guard mapped: the count is the one of the file as it is now (a cut last
    /// line counts when its part before the cut matches), as with `pread`; a cut before the end of
    /// the first 64 KiB read keeps that read's complete lines, as with `pread`. Cuts past several
    /// pages fault (the guard maps zeros); a cut inside the last page reads zeros without a fault.
    @Test func aFileTruncatedWhileMappedCountsWhatIsLeft() throws {
        let bytes = Array(Self.text.utf8)
        let sizes: [Int64] = [
            Int64(bytes.count) - 5, 4_500_001, 4 << 20, 1_000_003, 1 << 20, 700_000, 64 * 1024 + 17, 0,
        ]
        for size in sizes {
            try withLogFile(bytes) { path in
                let fillsBefore = TruncatedMappingGuard.zeroFills
                let counted = try Self.countTruncating(path, to: size)
                // What was read before the cut: the complete lines of the first chunk at least.
                let firstChunkLines = bytes[..<(64 * 1024)].lastIndex(of: 0x0A)! + 1
                let kept = Array(bytes[..<max(Int(size), firstChunkLines)])
                let expected = try withLogFile(kept) { try LogScanCounter.count(path: $0, filter: Self.filter) }
                #expect(counted == expected, "cut at \(size)")
                if size < Int64(bytes.count) - 4096 {
                    #expect(TruncatedMappingGuard.zeroFills > fillsBefore, "cut at \(size): the guard mapped zeros")
                }
            }
        }
    }

    /// The guard leaves other SIGBUS alone: an address outside every registered window is not
    /// claimed, and a registered range is claimed only while registered.
    @Test func onlyRegisteredWindowsAreGuarded() throws {
        let length = 4 * 4096
        let page = try #require(mmap(nil, length, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(page, length) }
        let slot = try #require(TruncatedMappingGuard.register(page, length: length))
        #expect(TruncatedMappingGuard.isRegistered(UInt(bitPattern: page) + UInt(length) - 1))
        #expect(!TruncatedMappingGuard.isRegistered(UInt(bitPattern: page) + UInt(length)))
        #expect(!TruncatedMappingGuard.isRegistered(UInt(bitPattern: page) - 1))
        TruncatedMappingGuard.unregister(slot)
        #expect(!TruncatedMappingGuard.isRegistered(UInt(bitPattern: page)))
    }

    /// With every guard slot taken, a mapped scan cannot guard its window and reads it with `pread`:
    /// the same count, never an unguarded mapping.
    @Test func aScanWithNoGuardSlotLeftReadsWithPread() throws {
        let length = 4096
        let page = try #require(mmap(nil, length, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))
        defer { munmap(page, length) }
        var slots: [Int] = []
        while let slot = TruncatedMappingGuard.register(page, length: length) { slots.append(slot) }
        defer { slots.forEach(TruncatedMappingGuard.unregister) }
        #expect(slots.count <= TruncatedMappingGuard.slotCount)
        try withLogFile(Array(Self.text.utf8)) { path in
            let read = try LogScanCounter.count(path: path, filter: Self.filter)
            #expect(try LogScanCounter.count(path: path, filter: Self.filter, readMethod: .memoryMap) == read)
            #expect(read == 40_000 / 7 + 1)
        }
    }
}
