import Foundation
import Histogram
import LinuxSystem

extension HdrHistogramEncoding {
    /// Why an encoded histogram could not be read.
    public struct DecodingError: Error, CustomStringConvertible {
        public var description: String
    }

    /// The largest uncompressed encoding read (a counts array of 1 ns … 100 s at 5 digits is far
    /// smaller): a bigger one is refused rather than allocated.
    static let decodedLimit = 64 << 20

    /// Reads HdrHistogram's V2 encoding, zlib-compressed and base64 (the `HISTF…` text of an
    /// interval log, and the histograms of a JSON report), into a histogram with the encoded
    /// settings and bucket counts: what `compressedBase64(_:)` and HdrHistogram's Java, C, Go and
    /// Python writers produce.
    /// - Throws: `DecodingError` saying what is wrong: not base64, another cookie (another format or
    ///   version), bad zlib data, settings out of range, counts past the range or cut short.
    public static func decode(compressedBase64 text: some StringProtocol) throws(DecodingError) -> Histogram<UInt64> {
        guard let data = Data(base64Encoded: String(text)) else { throw DecodingError(description: "not base64") }
        let bytes = [UInt8](data)
        guard bytes.count >= 8 else { throw DecodingError(description: "\(bytes.count) bytes, too short for a histogram") }
        let cookie = bigEndian(UInt32.self, bytes, at: 0)
        guard cookie & ~0xf0 == v2CompressedCookie & ~0xf0 else {
            throw DecodingError(description: String(format: "cookie 0x%08x is not HdrHistogram's compressed V2 encoding", cookie))
        }
        let length = Int(bigEndian(UInt32.self, bytes, at: 4))
        guard length == bytes.count - 8 else {
            throw DecodingError(description: "the compressed length says \(length) bytes, \(bytes.count - 8) follow")
        }
        let plain: [UInt8]
        do { plain = try Compression.unzlib(Array(bytes[8...]), limit: decodedLimit) } catch {
            throw DecodingError(description: "zlib: \(error)")
        }
        return try decode(plain)
    }

    /// Reads the uncompressed V2 encoding (`encode(_:)`).
    /// - Throws: `DecodingError`, as `decode(compressedBase64:)`.
    public static func decode(_ bytes: [UInt8]) throws(DecodingError) -> Histogram<UInt64> {
        guard bytes.count >= 40 else { throw DecodingError(description: "\(bytes.count) bytes, too short for a V2 header") }
        let cookie = bigEndian(UInt32.self, bytes, at: 0)
        guard cookie & ~0xf0 == v2Cookie & ~0xf0 else {
            throw DecodingError(description: String(format: "cookie 0x%08x is not HdrHistogram's V2 encoding", cookie))
        }
        let payloadLength = Int(bigEndian(UInt32.self, bytes, at: 4))
        let offset = bigEndian(UInt32.self, bytes, at: 8)
        let digits = bigEndian(UInt32.self, bytes, at: 12)
        let lowest = bigEndian(UInt64.self, bytes, at: 16)
        let highest = bigEndian(UInt64.self, bytes, at: 24)
        guard payloadLength == bytes.count - 40 else {
            throw DecodingError(description: "the payload length says \(payloadLength) bytes, \(bytes.count - 40) follow")
        }
        guard offset == 0 else { throw DecodingError(description: "a normalizing index offset (\(offset)) is not read") }
        guard digits <= 5, let significant = SignificantDigits(rawValue: Int8(digits)) else {
            throw DecodingError(description: "\(digits) significant digits (0…5 are)")
        }
        guard lowest >= 1, lowest <= 1 << 40, highest >= 2 * lowest, highest <= UInt64(Int64.max) / 2 else {
            throw DecodingError(description: "the range \(lowest)…\(highest) is not one HdrHistogram makes")
        }
        var histogram = Histogram<UInt64>(lowestDiscernibleValue: lowest, highestTrackableValue: highest,
                                          numberOfSignificantValueDigits: significant)
        let layout = BucketLayout(histogram)
        let lastIndex = layout.countsIndex(for: highest)
        var position = 40
        var index = 0
        while position < bytes.count {
            let value = try zigZag(bytes, at: &position)
            if value < 0 {
                // A run may reach one past the last bucket, never further (nor overflow the index).
                guard value > Int64.min, -value <= Int64(lastIndex + 1 - index) else {
                    throw DecodingError(description: "a run of zeros out of range")
                }
                index += Int(-value)
                continue
            }
            if value > 0 {
                guard index <= lastIndex else {
                    throw DecodingError(description: "counts past the highest trackable value \(highest)")
                }
                _ = histogram.record(layout.value(at: index), count: UInt64(value))
            }
            index += 1
            guard index <= lastIndex + 1 else { throw DecodingError(description: "counts past the highest trackable value \(highest)") }
        }
        return histogram
    }

    /// One ZigZag LEB128 varint (at most 9 bytes, the ninth carrying 8 bits), as `appendZigZag` writes.
    private static func zigZag(_ bytes: [UInt8], at position: inout Int) throws(DecodingError) -> Int64 {
        var raw: UInt64 = 0
        for shift in stride(from: 0, through: 56, by: 7) {
            guard position < bytes.count else { throw DecodingError(description: "the counts are cut short") }
            let byte = bytes[position]
            position += 1
            if shift == 56 {
                raw |= UInt64(byte) << 56
                break
            }
            raw |= UInt64(byte & 0x7f) << UInt64(shift)
            if byte & 0x80 == 0 { break }
        }
        return Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
    }

    private static func bigEndian<T: FixedWidthInteger>(_: T.Type, _ bytes: [UInt8], at offset: Int) -> T {
        var value: T = 0
        for index in offset..<(offset + MemoryLayout<T>.size) { value = value << 8 | T(bytes[index]) }
        return value
    }
}

extension BucketLayout {
    /// The lowest value kept at `index` of the counts array (the inverse of `countsIndex(for:)`).
    func value(at index: Int) -> UInt64 {
        var bucket = (index >> subBucketHalfCountMagnitude) - 1
        var subBucket = (index & (subBucketHalfCount - 1)) + subBucketHalfCount
        if bucket < 0 {
            subBucket -= subBucketHalfCount
            bucket = 0
        }
        return UInt64(subBucket) << UInt64(bucket + unitMagnitude)
    }
}

/// Reads HdrHistogram interval logs (`evq load --histogram-log`, or any writer of log format 1.x).
public enum HistogramLogReader {
    /// Every interval of `text` added into one histogram (all tags alike).
    /// - Throws: `HdrHistogramEncoding.DecodingError` naming the line that does not read, or whose
    ///   histogram's settings differ from the first one's.
    public static func merged(_ text: String) throws(HdrHistogramEncoding.DecodingError) -> (histogram: Histogram<UInt64>, intervals: Int) {
        var total: Histogram<UInt64>?
        var intervals = 0
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.isEmpty, !line.hasPrefix("#"), !line.hasPrefix("\"StartTimestamp\"") else { continue }
            var fields = line.split(separator: ",", omittingEmptySubsequences: false)
            if fields.first?.hasPrefix("Tag=") == true { fields.removeFirst() }
            guard fields.count == 4, let encoded = fields.last else {
                throw .init(description: "line \(number + 1): expected [Tag=…,]start,length,max,histogram")
            }
            let histogram: Histogram<UInt64>
            do { histogram = try HdrHistogramEncoding.decode(compressedBase64: encoded) } catch {
                throw .init(description: "line \(number + 1): \(error)")
            }
            intervals += 1
            guard let first = total else {
                total = histogram
                continue
            }
            guard first.lowestDiscernibleValue == histogram.lowestDiscernibleValue,
                first.highestTrackableValue == histogram.highestTrackableValue,
                first.numberOfSignificantValueDigits == histogram.numberOfSignificantValueDigits
            else { throw .init(description: "line \(number + 1): histogram settings differ from the first interval's") }
            total!.add(histogram)
        }
        return (total ?? makeLatencyHistogram(), intervals)
    }
}

extension HistogramLogReader {
    /// What interval logs give beside a report's query histogram (`evq merge --histogram-log`).
    public struct Comparison: Sendable {
        /// The logs' intervals merged, summarised.
        public var summary: LatencySummary
        public var intervals: Int
        /// The report's query histogram's count.
        public var reportCount: UInt64
        /// Whether the logs' merged histogram equals the report's, bucket by bucket.
        public var equal: Bool
    }

    /// Merges every interval of `logs` and compares the result with `report`'s query histogram.
    /// - Throws: `HdrHistogramEncoding.DecodingError` naming the log (its source) that does not read.
    public static func compare(_ logs: [(source: String, text: String)], with report: EncodedHistograms)
        throws(HdrHistogramEncoding.DecodingError) -> Comparison
    {
        var total: Histogram<UInt64>?
        var intervals = 0
        for (source, text) in logs {
            let log: (histogram: Histogram<UInt64>, intervals: Int)
            do { log = try merged(text) } catch { throw .init(description: "\(source): \(error)") }
            intervals += log.intervals
            guard log.intervals > 0 else { continue }  // an empty log adds nothing
            guard let first = total else {
                total = log.histogram
                continue
            }
            guard first.lowestDiscernibleValue == log.histogram.lowestDiscernibleValue,
                first.highestTrackableValue == log.histogram.highestTrackableValue,
                first.numberOfSignificantValueDigits == log.histogram.numberOfSignificantValueDigits
            else { throw .init(description: "\(source): histogram settings differ from the first log's") }
            total!.add(log.histogram)
        }
        let expected = try report.decoded().query
        let logs = total ?? makeLatencyHistogram()
        return Comparison(summary: LatencySummary(nanoseconds: logs), intervals: intervals, reportCount: expected.totalCount,
                          equal: HdrHistogramEncoding.encode(logs) == HdrHistogramEncoding.encode(expected))
    }
}
