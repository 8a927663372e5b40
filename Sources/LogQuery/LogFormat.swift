/// The line format of a log file.
public enum LogFormat: String, Sendable, Hashable, CaseIterable {
    /// BSD syslog (`<PRI>Mmm dd hh:mm:ss host tag[pid]: msg`, PRI optional, as rsyslog writes files;
    /// an RFC 3339 timestamp in place of `Mmm dd hh:mm:ss` is accepted too).
    case rfc3164
    /// IETF syslog (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG`).
    case rfc5424
    /// One JSON object per line.
    case jsonLines
    /// Decide per file from its first lines (see `LogFormat.detect`).
    case auto

    /// Picks the format most of the sample lines parse as (ties prefer RFC 5424, then JSON,
    /// then RFC 3164); `.rfc3164` when no line parses, so unparsable lines become raw records.
    /// - Parameter lines: the first lines of the file (a dozen or so is plenty), without newlines.
    public static func detect(sampleLines lines: [[UInt8]]) -> LogFormat {
        var votes: [LogFormat: Int] = [:]
        let options = LogParseOptions()
        for line in lines where !line.isEmpty {
            line.withUnsafeBufferPointer { b in
                if RFC5424Parser.locate(b) != nil {
                    votes[.rfc5424, default: 0] += 1
                } else if b.first == UInt8(ascii: "{"), JSONLineParser.parse(b, options: options) != nil {
                    votes[.jsonLines, default: 0] += 1
                } else if RFC3164Parser.locate(b, options: options) != nil {
                    votes[.rfc3164, default: 0] += 1
                }
            }
        }
        var best = LogFormat.rfc3164
        var bestVotes = 0
        for format in [LogFormat.rfc5424, .jsonLines, .rfc3164] where votes[format, default: 0] > bestVotes {
            best = format
            bestVotes = votes[format, default: 0]
        }
        return best
    }

    /// Splits the start of a file into at most `maxLines` complete lines (no trailing partial line
    /// unless it is all there is) for `detect(sampleLines:)`.
    public static func sampleLines(_ bytes: some Collection<UInt8>, maxLines: Int = 16) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        var current: [UInt8] = []
        for byte in bytes {
            if byte == UInt8(ascii: "\n") {
                lines.append(current)
                current.removeAll(keepingCapacity: true)
                if lines.count == maxLines { break }
            } else {
                current.append(byte)
            }
        }
        if lines.isEmpty, !current.isEmpty { lines.append(current) }
        return lines
    }
}
