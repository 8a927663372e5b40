import EvqueryTestSupport
import Foundation
import EventReactor
import Histogram
import LoadGenerator
import Testing

@Suite("HdrHistogram interval log")
struct HistogramLogTests {
    /// Reads `log` with HdrHistogram's Python implementation (`hdrh`, installed by
    /// tools/install-test-peers.d) and returns, per interval: total count, p50, p99, max.
    private func readWithPeer(_ log: String) throws -> [[UInt64]] {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("evq-\(UUID().uuidString).hlog").path
        try log.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let script = """
            import sys
            from hdrh.histogram import HdrHistogram
            from hdrh.log import HistogramLogReader
            reader = HistogramLogReader(sys.argv[1], HdrHistogram(1, 100000000000, 3))
            while True:
                h = reader.get_next_interval_histogram()
                if h is None: break
                print(h.get_total_count(), h.get_value_at_percentile(50), h.get_value_at_percentile(99), h.get_max_value())
            """
        let run = try ChildProcess.run("/usr/bin/env", ["python3", "-c", script, path], timeout: .seconds(60))
        #expect(run.status == 0, "python3 hdrh must be installed (tools/install-test-peers.d): \(run.errors)")
        return run.output.split(separator: "\n").map { line in
            line.split(separator: " ").compactMap { UInt64($0) }
        }
    }

    @Test func intervalLogDecodesWithHdrHistogramsOwnReaderToTheSameCountsAndPercentiles() throws {
        var first = makeLatencyHistogram()
        var second = makeLatencyHistogram()
        var rng = SplitMix64(seed: 3)
        for _ in 0..<20_000 { _ = first.record(UInt64.random(in: 1_000...5_000_000, using: &rng)) }
        for value in [1, 2, 3, 1_000_000_000, 99_999_999_999] as [UInt64] { _ = second.record(value) }
        var writer = HistogramLogWriter(startTime: 1_700_000_000, comment: "[evq test]")
        writer.append(first, tag: "dns", start: 0, length: 1)
        writer.append(second, start: 1, length: 1)
        let peer = try readWithPeer(writer.text)
        try #require(peer.count == 2)
        for (mine, theirs) in zip([first, second], peer) {
            #expect(theirs[0] == mine.totalCount)
            #expect(mine.valuesAreEquivalent(theirs[1], mine.valueAtPercentile(50)))
            #expect(mine.valuesAreEquivalent(theirs[2], mine.valueAtPercentile(99)))
            #expect(mine.valuesAreEquivalent(theirs[3], mine.max))
        }
    }

    @Test func emptyHistogramStillWritesAValidInterval() throws {
        var writer = HistogramLogWriter(startTime: 0)
        writer.append(makeLatencyHistogram(), start: 0, length: 1)
        #expect(try readWithPeer(writer.text) == [[0, 0, 0, 0]])
    }
}
