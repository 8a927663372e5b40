import Foundation
import LogQuery
import Testing

/// The filter language's reference, docs/filter-language.md, lists exactly what compiles: every
/// example of its `filter` blocks compiles, every line of its `filter-refused` blocks is refused
/// with the message it gives; the README's `--filter '…'` examples compile too.
@Suite struct FilterReferenceTests {
    private static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// The lines of every fenced block of `language` in the markdown file.
    private func blocks(_ language: String, in file: String) throws -> [String] {
        let text = try String(contentsOf: Self.root.appendingPathComponent(file), encoding: .utf8)
        var lines: [String] = []
        var inside = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line.hasPrefix("```") {
                inside = !inside && line == "```" + language
                continue
            }
            if inside && !line.trimmingCharacters(in: .whitespaces).isEmpty { lines.append(line) }
        }
        return lines
    }

    @Test func everyExampleOfTheReferenceCompiles() throws {
        let examples = try blocks("filter", in: "docs/filter-language.md")
        #expect(examples.count >= 20)
        for example in examples {
            #expect(throws: Never.self, "\(example)") { try LogFilter(example) }
        }
    }

    @Test func everyRefusedExampleOfTheReferenceFailsWithItsMessage() throws {
        let refused = try blocks("filter-refused", in: "docs/filter-language.md")
        #expect(refused.count >= 5)
        for line in refused {
            let parts = line.components(separatedBy: " => ")
            try #require(parts.count == 2, "\(line)")
            do {
                _ = try LogFilter(parts[0])
                Issue.record("\(parts[0]) compiled")
            } catch {
                #expect(error.description == parts[1])
            }
        }
    }

    @Test func theFilterExamplesOfTheREADMECompile() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        let examples = text.components(separatedBy: "--filter '").dropFirst().compactMap {
            $0.split(separator: "'", maxSplits: 1).first.map(String.init)
        }
        for example in examples {
            #expect(throws: Never.self, "\(example)") { try LogFilter(example) }
        }
    }
}
