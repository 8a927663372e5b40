import DNSMessage
import Foundation

/// One exchange recorded by tools/record-dns-fixtures.sh: dig's query, knotd's reply, dig's text.
struct Fixture: CustomStringConvertible {
    let name: String
    let query: [UInt8]
    let reply: [UInt8]
    let digText: String

    var description: String { name }

    static let directory: URL = Bundle.module.resourceURL!.appendingPathComponent("Fixtures")

    static let names = ["a", "a-0x20", "a-noedns", "a-dnssec", "aaaa", "cname", "ns", "ptr", "mx", "txt",
                        "txt-big", "srv", "soa", "caa", "unknown", "nxdomain", "many", "refused"]

    static let all: [Fixture] = names.map(load)

    static func load(_ name: String) -> Fixture {
        func bytes(_ suffix: String) -> [UInt8] {
            Array(try! Data(contentsOf: directory.appendingPathComponent(name + suffix)))
        }
        let text = try! String(contentsOf: directory.appendingPathComponent(name + ".dig.txt"), encoding: .utf8)
        return Fixture(name: name, query: bytes(".query.bin"), reply: bytes(".reply.bin"), digText: text)
    }

    static var zoneText: String {
        try! String(contentsOf: directory.appendingPathComponent("fixtures.zone"), encoding: .utf8)
    }
}

/// What dig printed about a reply, read back from its text output.
struct DigOutput {
    var opcode = ""
    var status = ""
    var id: UInt16 = 0
    var flags: Set<String> = []
    var counts: [String: Int] = [:]
    var ednsVersion: UInt8?
    var ednsDO = false
    var udpSize: UInt16?
    var question = ""
    var sections: [String: [DNSResourceRecord]] = [:]

    init(_ text: String) throws {
        var section = ""
        var sectionLines: [String: [String]] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix(";; ->>HEADER<<-") {
                for part in line.dropFirst(16).components(separatedBy: ", ") {
                    let pair = part.components(separatedBy: ": ")
                    switch pair[0] {
                    case "opcode": opcode = pair[1]
                    case "status": status = pair[1]
                    case "id": id = UInt16(pair[1])!
                    default: break
                    }
                }
            } else if line.hasPrefix(";; flags:") {
                let halves = line.dropFirst(9).components(separatedBy: ";")
                flags = Set(halves[0].split(separator: " ").map(String.init))
                for part in halves[1].components(separatedBy: ",") {
                    let pair = part.trimmingCharacters(in: .whitespaces).components(separatedBy: ": ")
                    counts[pair[0]] = Int(pair[1])!
                }
            } else if line.hasPrefix("; EDNS:") {
                let fields = line.dropFirst(8).components(separatedBy: "; ")
                for field in fields {
                    if field.hasPrefix("version: ") {
                        let parts = field.components(separatedBy: ", flags:")
                        ednsVersion = UInt8(parts[0].dropFirst(9))!
                        ednsDO = parts[1].split(separator: " ").contains("do")
                    } else if field.hasPrefix("udp: ") {
                        udpSize = UInt16(field.dropFirst(5))!
                    }
                }
            } else if line.hasPrefix(";; ") && line.hasSuffix(" SECTION:") {
                section = String(line.dropFirst(3).dropLast(9))
            } else if line.isEmpty {
                section = ""
            } else if section == "QUESTION" {
                question = line
            } else if !section.isEmpty && !line.hasPrefix(";") {
                sectionLines[section, default: []].append(line)
            }
        }
        for (name, lines) in sectionLines {
            sections[name] = try DNSZoneParser.parse(lines.joined(separator: "\n"))
        }
    }
}
