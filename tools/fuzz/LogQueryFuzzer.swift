// libFuzzer entry for LogQuery's parsers, compiled together with Sources/LogQuery/*.swift by
// tools/fuzz.sh (internals seen without an import; EventReactor and the C shims come from the
// package's debug build). EVQ_FUZZ_TARGET picks what one input is:
//
// - `rfc3164`, `rfc5424`, `jsonl`: one log line, parsed as that format through the scanner's line
//   parser (under the empty filter and a filter reading every field); nothing traps.
// - `filter`: filter-language text. Whatever compiles prints, lists its literals and is evaluated
//   against records of each format.
// - `bookmark`: a serialized bookmark. Whatever decodes serializes and decodes back equal.

#if canImport(Glibc)
import Glibc
#endif

private enum Target { case rfc3164, rfc5424, jsonl, filter, bookmark }

private let target: Target = {
    switch getenv("EVQ_FUZZ_TARGET").map({ String(cString: $0) }) {
    case "rfc5424": return .rfc5424
    case "jsonl": return .jsonl
    case "filter": return .filter
    case "bookmark": return .bookmark
    default: return .rfc3164
    }
}()

private let options = LogParseOptions(yearForMonth: { _ in 2026 })

private let everyField: LogFilter = {
    do {
        return try LogFilter(#"app == "sshd" or host contains "a" or message ~ "f.o" or severity <= warning"#)
    } catch {
        fatalError("the fuzzer's own filter does not compile: \(error)")
    }
}()

/// A line of each format, parsed once: what a fuzzed filter is evaluated against.
private let sampleRecords: [LogRecord] = [
    (LogFormat.rfc3164, "<38>Dec  7 16:21:15 host sshd[812]: Failed password for root"),
    (.rfc5424, #"<165>1 2026-12-07T16:21:15.003Z host app 812 ID47 [ex@32473 iut="3"] message"#),
    (.jsonLines, #"{"time":"2026-12-07T16:21:15Z","host":"h","app":"a","message":"m","level":"warning"}"#),
].map { format, line in
    Array(line.utf8).withUnsafeBufferPointer {
        LogLineParser(format: format, options: options).record($0, offset: 0, ordinal: 0, length: Int64($0.count),
                                                               flags: [])
    }
}

/// Builds the globals above before the first input: made inside an input, what they keep for the
/// whole run looks to the leak check like that input's leak.
@_cdecl("LLVMFuzzerInitialize")
public func logQueryFuzzInitialize(_ argc: UnsafeMutablePointer<CInt>?,
                                   _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>?)
    -> CInt
{
    _ = (target, options, everyField, sampleRecords)
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func logQueryFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    switch target {
    case .rfc3164: parseLine(bytes, .rfc3164)
    case .rfc5424: parseLine(bytes, .rfc5424)
    case .jsonl: parseLine(bytes, .jsonLines)
    case .filter:
        guard let filter = try? LogFilter(String(decoding: bytes, as: UTF8.self)) else { return 0 }
        _ = filter.description
        _ = filter.requiredLiterals
        for record in sampleRecords { _ = filter.matches(record) }
    case .bookmark:
        guard let bookmark = try? LogBookmark(serialized: String(decoding: bytes, as: UTF8.self)) else { return 0 }
        let again: LogBookmark
        do {
            again = try LogBookmark(serialized: bookmark.serialized)
        } catch {
            fatalError("a decoded bookmark's own serialization does not decode: \(error)")
        }
        precondition(again == bookmark, "serialize → decode changed the bookmark")
    }
    return 0
}

private func parseLine(_ line: UnsafeBufferPointer<UInt8>, _ format: LogFormat) {
    let parser = LogLineParser(format: format, options: options)
    for filter in [LogFilter.all, everyField] {
        _ = parser.evaluate(line, offset: 0, ordinal: 0, length: Int64(line.count), flags: [], filter: filter,
                            wantRecord: true)
    }
}
