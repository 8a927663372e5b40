import Foundation
import Histogram
import LinuxSystem

/// Writes HdrHistogram interval logs (log format 1.3), so that runs from several machines can be
/// merged and plotted with HdrHistogram's own tools (`HistogramLogProcessor`, `hdrh`, the plotter).
///
/// Each interval line is `[Tag=NAME,]start,length,max,HISTF…` where the last field is the
/// histogram in HdrHistogram's V2 compressed encoding (zlib), base64. Values are recorded in
/// nanoseconds; the `Interval_Max` column is in milliseconds (`maxValueUnitRatio` 1e6), as the
/// reference writer does.
public struct HistogramLogWriter: Sendable {
    /// The log so far.
    public private(set) var text: String

    /// Starts a log whose intervals are timed from `startTime` (seconds since the epoch).
    public init(startTime: Double, comment: String? = nil) {
        var header = "#[Histogram log format version 1.3]\n"
        if let comment { header += "#\(comment)\n" }
        header += "#[StartTime: \(String(format: "%.3f", startTime)) (seconds since epoch)]\n"
        header += "\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"\n"
        text = header
    }

    /// Appends one interval: `start` seconds after the log's start time, `length` seconds long.
    public mutating func append(
        _ histogram: Histogram<UInt64>, tag: String? = nil, start: Double, length: Double,
        maxValueUnitRatio: Double = 1_000_000
    ) {
        let prefix = tag.map { "Tag=\($0)," } ?? ""
        let maximum = Double(histogram.maxRecorded) / maxValueUnitRatio
        text += prefix + String(format: "%.3f,%.3f,%.3f,", start, length, maximum)
            + HdrHistogramEncoding.compressedBase64(histogram) + "\n"
    }
}

/// HdrHistogram's V2 encoding of a histogram (the wire format shared by its Java, C, Go and
/// Python implementations).
public enum HdrHistogramEncoding {
    static let v2Cookie: UInt32 = 0x1c84_9303 | 0x10
    static let v2CompressedCookie: UInt32 = 0x1c84_9304 | 0x10

    /// The V2 encoding, zlib-compressed, base64: the `HISTF…` text of an interval log.
    public static func compressedBase64(_ histogram: Histogram<UInt64>) -> String {
        let plain = encode(histogram)
        let compressed: [UInt8]
        do {
            compressed = try Compression.zlib(plain)
        } catch {
            preconditionFailure("zlib \(error)")  // compress2 fails only for want of memory
        }
        var out: [UInt8] = []
        out.reserveCapacity(8 + compressed.count)
        appendBigEndian(v2CompressedCookie, to: &out)
        appendBigEndian(UInt32(compressed.count), to: &out)
        out.append(contentsOf: compressed)
        return Data(out).base64EncodedString()
    }

    /// The uncompressed V2 encoding: a 40-byte big-endian header, then the counts array as
    /// ZigZag LEB128 varints, runs of zeros written as one negative length.
    public static func encode(_ histogram: Histogram<UInt64>) -> [UInt8] {
        let layout = BucketLayout(histogram)
        var counts: [Int: UInt64] = [:]
        var lastIndex = -1
        for item in histogram.recordedValues() where item.count > 0 {
            let index = layout.countsIndex(for: item.value)
            counts[index, default: 0] += UInt64(item.count)
            lastIndex = max(lastIndex, index)
        }
        var payload: [UInt8] = []
        var index = 0
        while index <= lastIndex {
            let count = counts[index] ?? 0
            index += 1
            if count == 0 {
                var zeros: Int64 = 1
                while index <= lastIndex, counts[index] == nil {
                    zeros += 1
                    index += 1
                }
                appendZigZag(zeros > 1 ? -zeros : 0, to: &payload)
            } else {
                appendZigZag(Int64(count), to: &payload)
            }
        }
        var out: [UInt8] = []
        appendBigEndian(v2Cookie, to: &out)
        appendBigEndian(UInt32(payload.count), to: &out)
        appendBigEndian(UInt32(0), to: &out)  // normalizing index offset
        appendBigEndian(UInt32(histogram.numberOfSignificantValueDigits.rawValue), to: &out)
        appendBigEndian(histogram.lowestDiscernibleValue, to: &out)
        appendBigEndian(histogram.highestTrackableValue, to: &out)
        appendBigEndian((1.0).bitPattern, to: &out)  // integer-to-double conversion ratio
        out.append(contentsOf: payload)
        return out
    }

    static func appendZigZag(_ value: Int64, to out: inout [UInt8]) {
        var rest = UInt64(bitPattern: (value << 1) ^ (value >> 63))
        for _ in 0..<8 {
            if rest < 0x80 {
                out.append(UInt8(rest))
                return
            }
            out.append(UInt8(rest & 0x7f) | 0x80)
            rest >>= 7
        }
        out.append(UInt8(truncatingIfNeeded: rest))  // the ninth byte carries all 8 remaining bits
    }

    static func appendBigEndian<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.bigEndian) { out.append(contentsOf: $0) }
    }
}

/// Where HdrHistogram keeps a value in its counts array (the layout every implementation shares).
struct BucketLayout {
    let unitMagnitude: Int
    let subBucketHalfCountMagnitude: Int
    let subBucketHalfCount: Int
    let subBucketMask: UInt64
    let leadingZeroCountBase: Int

    init(_ histogram: Histogram<UInt64>) {
        unitMagnitude = Int(Double(histogram.lowestDiscernibleValue).log2.rounded(.down))
        var largestSingleUnit = 2
        for _ in 0..<Int(histogram.numberOfSignificantValueDigits.rawValue) { largestSingleUnit *= 10 }
        let subBucketCountMagnitude = Int(Double(largestSingleUnit).log2.rounded(.up))
        subBucketHalfCountMagnitude = max(subBucketCountMagnitude, 1) - 1
        let subBucketCount = 1 << (subBucketHalfCountMagnitude + 1)
        subBucketHalfCount = subBucketCount / 2
        subBucketMask = UInt64(subBucketCount - 1) << unitMagnitude
        leadingZeroCountBase = 64 - unitMagnitude - subBucketHalfCountMagnitude - 1
    }

    func countsIndex(for value: UInt64) -> Int {
        let bucket = leadingZeroCountBase - (value | subBucketMask).leadingZeroBitCount
        let subBucket = Int(value >> UInt64(bucket + unitMagnitude))
        return ((bucket + 1) << subBucketHalfCountMagnitude) + (subBucket - subBucketHalfCount)
    }
}

extension Double {
    fileprivate var log2: Double { Foundation.log2(self) }
}
