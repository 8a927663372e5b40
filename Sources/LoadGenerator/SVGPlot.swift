import Foundation

/// Draws a load report as an SVG picture: latency percentile curves (query latency, cancel from
/// the loop, cancel from other threads) on HdrHistogram's "nines" axis, and queries/s over time.
public enum SVGPlot {
    private static let width = 960.0
    private static let panelHeight = 300.0
    private static let margin = (left: 80.0, right: 30.0, top: 50.0, gap: 90.0, bottom: 50.0)
    private static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b"]

    /// The SVG document for `report`. Every curve with data becomes a `<polyline>` with an `id`
    /// (`curve-query`, `curve-cancel-loop`, `curve-cancel-thread`, …) and a legend entry.
    public static func render(_ report: LoadReport) -> String {
        let height = margin.top + panelHeight + margin.gap + panelHeight + margin.bottom
        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" \
            viewBox="0 0 \(Int(width)) \(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Int(width / 2))" y="24" text-anchor="middle" font-size="16">\
            \(escape("evq load: \(report.engine) → \(report.server), \(Int(report.qps.rounded())) responses/s"))</text>

            """
        svg += latencyPanel(report, top: margin.top)
        svg += throughputPanel(report, top: margin.top + panelHeight + margin.gap)
        svg += "</svg>\n"
        return svg
    }

    private static var plotWidth: Double { width - margin.left - margin.right }

    /// The "nines" position of a percentile: 0 at 0 %, 1 at 90 %, 2 at 99 %, … capped at 5 nines.
    private static func nines(_ percentile: Double) -> Double {
        min(5, log10(1 / max(1e-5, 1 - percentile / 100)))
    }

    private static func latencyPanel(_ report: LoadReport, top: Double) -> String {
        let named: [(id: String, label: String, points: [[Double]])] = [
            ("query", "query latency", report.curves["query"] ?? []),
            ("cancel-loop", "cancel from loop", report.curves["cancel_loop"] ?? []),
            ("cancel-thread", "cancel from thread", report.curves["cancel_thread"] ?? []),
            ("scan-cancel-loop", "scan cancel from loop", report.curves["scan_cancel_loop"] ?? []),
            ("scan-cancel-thread", "scan cancel from thread", report.curves["scan_cancel_thread"] ?? []),
        ].filter { !$0.points.isEmpty }
        let values = named.flatMap { $0.points.map { max($0[1], 0.1) } }
        let low = floor(log10(values.min() ?? 1))
        let high = max(low + 1, ceil(log10(values.max() ?? 10)))
        func x(_ percentile: Double) -> Double { margin.left + nines(percentile) / 5 * plotWidth }
        func y(_ micros: Double) -> Double { top + panelHeight - (log10(max(micros, 0.1)) - low) / (high - low) * panelHeight }
        var out = frame(top: top, title: "Latency by percentile (µs, log scale)")
        for decade in stride(from: low, through: high, by: 1) {
            let value = pow(10, decade)
            out += gridLine(y: y(value), label: value >= 1 ? "\(Int(value))" : String(format: "%g", value))
        }
        for (percentile, label) in [(0.0, "0%"), (90, "90%"), (99, "99%"), (99.9, "99.9%"), (99.99, "99.99%"), (99.999, "99.999%")] {
            out += "<text x=\"\(fmt(x(percentile)))\" y=\"\(fmt(top + panelHeight + 18))\" text-anchor=\"middle\">\(label)</text>\n"
        }
        for (index, curve) in named.enumerated() {
            let points = curve.points.map { "\(fmt(x($0[0]))),\(fmt(y($0[1])))" }.joined(separator: " ")
            out += "<polyline id=\"curve-\(curve.id)\" fill=\"none\" stroke=\"\(palette[index])\" stroke-width=\"2\" "
                + "points=\"\(points)\"/>\n"
            out += legend(index: index, label: curve.label, top: top)
        }
        return out
    }

    private static func throughputPanel(_ report: LoadReport, top: Double) -> String {
        var out = frame(top: top, title: report.ramp == nil ? "Responses per second" : "Responses and queries sent per second")
        let rows = report.intervals
        let offered = report.ramp.map { ramp in rows.map { Double($0.sent) / ramp.intervalSeconds } } ?? []
        let step = niceStep(for: max(1, (rows.map(\.qps) + offered).max() ?? 1))
        let top5 = step * 5
        let last = max(1, rows.last?.time ?? 1)
        func x(_ time: Double) -> Double { margin.left + time / last * plotWidth }
        func y(_ qps: Double) -> Double { top + panelHeight - qps / top5 * panelHeight }
        for index in 0...5 {
            let value = step * Double(index)
            out += gridLine(y: y(value), label: "\(Int(value.rounded()))")
        }
        let tick = niceStep(for: last)
        for time in stride(from: 0, through: last, by: tick) {
            out += "<text x=\"\(fmt(x(time)))\" y=\"\(fmt(top + panelHeight + 18))\" text-anchor=\"middle\">"
                + "\(String(format: "%g", time)) s</text>\n"
        }
        let points = rows.map { "\(fmt(x($0.time))),\(fmt(y($0.qps)))" }.joined(separator: " ")
        out += "<polyline id=\"curve-qps\" fill=\"none\" stroke=\"\(palette[0])\" stroke-width=\"2\" points=\"\(points)\"/>\n"
        guard let ramp = report.ramp else { return out }
        let sent = zip(rows, offered).map { "\(fmt(x($0.time))),\(fmt(y($1)))" }.joined(separator: " ")
        out += "<polyline id=\"curve-sent\" fill=\"none\" stroke=\"\(palette[1])\" stroke-width=\"2\" "
            + "stroke-dasharray=\"6 4\" points=\"\(sent)\"/>\n"
        out += legend(index: 0, label: "responses/s", top: top) + legend(index: 1, label: "queries sent/s", top: top)
        if let rate = ramp.kneeRate, let time = ramp.kneeTime {
            // The label on the side of the line with room for it, below the legend.
            let inLeftHalf = x(time) < margin.left + plotWidth / 2
            out += "<line id=\"knee\" x1=\"\(fmt(x(time)))\" y1=\"\(fmt(top))\" x2=\"\(fmt(x(time)))\" "
                + "y2=\"\(fmt(top + panelHeight))\" stroke=\"#d62728\" stroke-width=\"2\"/>\n"
                + "<text x=\"\(fmt(inLeftHalf ? x(time) + 6 : x(time) - 6))\" y=\"\(fmt(top + 52))\" "
                + "text-anchor=\"\(inLeftHalf ? "start" : "end")\" fill=\"#d62728\">"
                + "knee \(Int(rate.rounded())) q/s</text>\n"
        } else if ramp.clientFellBehind, let rate = ramp.breakRate {
            out += "<text id=\"client-behind\" x=\"\(fmt(margin.left + plotWidth - 8))\" y=\"\(fmt(top + 16))\" "
                + "text-anchor=\"end\" fill=\"#d62728\">client fell behind at \(Int(rate.rounded())) q/s</text>\n"
        }
        return out
    }

    /// A round axis step (1, 2 or 5 × 10^n) so that five steps cover `peak`.
    private static func niceStep(for peak: Double) -> Double {
        let raw = peak / 5
        let decade = pow(10, floor(log10(raw)))
        return [1.0, 2, 5, 10].map { $0 * decade }.first { $0 * 5 >= peak } ?? 10 * decade
    }

    private static func frame(top: Double, title: String) -> String {
        "<text x=\"\(fmt(margin.left))\" y=\"\(fmt(top - 10))\" font-size=\"14\">\(escape(title))</text>\n"
            + "<rect x=\"\(fmt(margin.left))\" y=\"\(fmt(top))\" width=\"\(fmt(plotWidth))\" height=\"\(fmt(panelHeight))\" "
            + "fill=\"none\" stroke=\"#444\"/>\n"
    }

    private static func gridLine(y: Double, label: String) -> String {
        "<line x1=\"\(fmt(margin.left))\" y1=\"\(fmt(y))\" x2=\"\(fmt(margin.left + plotWidth))\" y2=\"\(fmt(y))\" "
            + "stroke=\"#ddd\"/>\n<text x=\"\(fmt(margin.left - 6))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\">\(label)</text>\n"
    }

    private static func legend(index: Int, label: String, top: Double) -> String {
        let y = top + 16 + Double(index) * 18
        let x = margin.left + 12
        return "<line x1=\"\(fmt(x))\" y1=\"\(fmt(y - 4))\" x2=\"\(fmt(x + 24))\" y2=\"\(fmt(y - 4))\" "
            + "stroke=\"\(palette[index])\" stroke-width=\"3\"/>\n"
            + "<text x=\"\(fmt(x + 30))\" y=\"\(fmt(y))\">\(escape(label))</text>\n"
    }

    private static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }

    private static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
    }
}
