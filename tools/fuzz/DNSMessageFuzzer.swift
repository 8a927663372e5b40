// libFuzzer entry for DNSMessage, compiled together with Sources/DNSMessage/*.swift by tools/fuzz.sh
// (so it sees the module's internals without an import). EVQ_FUZZ_TARGET picks what one input is:
//
// - `message` (default): a packet. Nothing traps (ASan watches memory); whatever
//   `DNSMessage(parsing:)` accepts serializes and parses back to an equal message and prints (every
//   record's RDATA through its type's layout); the view and its record iterator walk the same
//   bytes, and every record they yield decodes or throws.
// - `zone`: zone-file text, with `$INCLUDE` of `a.inc` (which includes itself) and of `b.inc`
//   answered from memory. Whatever parses prints, and its records serialize and parse back equal.

#if canImport(Glibc)
import Glibc
#endif

private let zoneTarget: Bool = getenv("EVQ_FUZZ_TARGET").map { String(cString: $0) == "zone" } ?? false

@_cdecl("LLVMFuzzerTestOneInput")
public func dnsMessageFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if zoneTarget {
        fuzzZone(bytes)
    } else {
        fuzzMessage(bytes)
    }
    return 0
}

private func fuzzMessage(_ bytes: UnsafeRawBufferPointer) {
    if let message = try? DNSMessage(parsing: bytes) {
        let again: DNSMessage
        do {
            again = try DNSMessage(parsing: message.serialized())
        } catch {
            fatalError("re-parse of our own serialization failed: \(error)")
        }
        precondition(again == message, "serialize → parse changed the message")
        _ = message.description
    }
    if let view = try? DNSMessageView(bytes) {
        _ = view.questionMatches(name: "www.example.com.", type: .a)
        _ = try? view.checkRecordsToEnd()
        var records = view.records()
        while let record = try? records.next() {
            _ = record.ipv4Address
            _ = try? record.decoded()
        }
    }
}

private func fuzzZone(_ bytes: UnsafeRawBufferPointer) {
    let text = String(decoding: bytes, as: UTF8.self)
    let files = ["a.inc": "$INCLUDE a.inc\n", "b.inc": "x 60 IN A 192.0.2.1\n$ORIGIN b.\ny 60 IN TXT \"b\"\n"]
    let include: DNSZoneParser.IncludeLoader = { (name: String, _: String?) throws(DNSPresentationError) in
        guard let text = files[name] else { throw DNSPresentationError("no file \(name)") }
        return (text, name)
    }
    guard let records = try? DNSZoneParser.parse(text, origin: "fuzz.test.", path: "fuzz.zone",
                                                  include: include) else { return }
    var message = DNSMessage(header: DNSHeader(id: 1))
    for record in records {
        _ = record.description
        if record.type != .opt { message.answers.append(record) }
    }
    guard message.answers.count <= 0xFFFF else { return }
    let wire = message.serialized()
    guard wire.count <= 0xFFFF else { return }
    do {
        let again = try DNSMessage(parsing: wire)
        precondition(again.answers.count == message.answers.count, "records lost in serialize → parse")
    } catch {
        fatalError("re-parse of a parsed zone's records failed: \(error)")
    }
}
