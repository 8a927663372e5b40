// libFuzzer entry for the DNSMessage parser, compiled together with Sources/DNSMessage/*.swift by
// tools/fuzz-dnsmessage.sh (so it sees the module's internals without an import).
// Properties checked on every input: nothing traps (ASan watches memory); whatever `DNSMessage(parsing:)`
// accepts serializes and parses back to an equal message and prints; the view and its record
// iterator walk the same bytes, and every record they yield decodes or throws.

@_cdecl("LLVMFuzzerTestOneInput")
public func dnsMessageFuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
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
        var records = view.records()
        while let record = try? records.next() {
            _ = record.ipv4Address
            _ = try? record.decoded()
        }
    }
    return 0
}
