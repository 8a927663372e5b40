import ArgumentParser
import Foundation
import LoadGenerator

/// `evq merge`: one report from the reports of many generators (`evq load --shard I/N --json …`),
/// their histograms added exactly, their counts and audits summed, with a table of the generators.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the JSON reports of several evq load generators into one, histograms exactly.",
        discussion: """
            Example: evq merge shard-0.json shard-1.json shard-2.json --histogram-log shard-0.hlog \
            --histogram-log shard-1.hlog --histogram-log shard-2.hlog --json all.json

            A report marked incomplete (a generator stopped by SIGTERM) or a missing shard makes the \
            merged report incomplete; reports of another format version or with other histogram \
            settings are refused (exit 65).

            """ + CommandFailure.exitCodesHelp
    )

    @Argument(help: "The JSON reports (evq load --json).")
    var reports: [String] = []
    @Option(help: "An HdrHistogram interval log of the same runs (evq load --histogram-log), repeatable: its intervals are merged too and must give the reports' merged query histogram.")
    var histogramLog: [String] = []
    @Option(help: "Write the merged JSON report here.")
    var json: String?

    func validate() throws {
        if reports.isEmpty { throw ValidationError("give at least one report") }
    }

    func run() throws {
        var read: [(source: String, report: LoadReport)] = []
        for path in reports {
            let text = try CommandFailure.readTextFile(path, flag: "report")
            do { read.append((path, try LoadReport.read(json: Data(text.utf8), source: path))) } catch {
                throw CommandFailure(.data, "\(error)")
            }
        }
        let merged: LoadReport
        do { merged = try LoadReport.merge(read) } catch { throw CommandFailure(.data, "\(error)") }
        print(merged.text)
        if !histogramLog.isEmpty { try checkLogs(against: merged) }
        if let json { try merged.json().write(toFile: json, atomically: true, encoding: .utf8) }
        if !merged.audit.ok || merged.shards?.contains(where: { !$0.auditOK }) == true {
            throw CommandFailure(.audit, "an exactly-once audit failed (see the generators' table)")
        }
    }

    /// Merges the interval logs and checks that they give the reports' query histogram, bucket by bucket.
    private func checkLogs(against merged: LoadReport) throws {
        guard let histograms = merged.histograms else { return }
        let logs = try histogramLog.map { path in (source: path, text: try CommandFailure.readTextFile(path, flag: "--histogram-log")) }
        let comparison: HistogramLogReader.Comparison
        do { comparison = try HistogramLogReader.compare(logs, with: histograms) } catch {
            throw CommandFailure(.data, "--histogram-log \(error)")
        }
        print("  histogram logs  \(logs.count) log(s), \(comparison.intervals) intervals, "
            + "p50 \(comparison.summary.p50) p99 \(comparison.summary.p99) p99.9 \(comparison.summary.p999) µs, "
            + "\(comparison.summary.count) latencies" + (comparison.equal ? ": equal to the reports' merged histogram" : ""))
        if !comparison.equal {
            throw CommandFailure(.data, "the histogram logs hold \(comparison.summary.count) latencies, the reports "
                + "\(comparison.reportCount), and they differ bucket by bucket (logs of other runs?)")
        }
    }
}
