import Foundation
import TesseraCore

/// The first page: what the tenant holds, sign-ins per hour and Action latency, drawn as SVG.
enum HomePage {
    static func render(_ call: ConsoleCall) async throws -> Page {
        async let users = call.management.get("/api/v2/users", query: [("per_page", "1"), ("include_totals", "true")])
        async let clients = call.management.get("/api/v2/clients")
        async let hourly = call.management.get("/api/v2/stats/hourly", query: [("hours", "24")])
        async let executions = call.management.get("/api/v2/actions/executions", query: [("per_page", "100")])
        let hours = try await hourly.arrayValue ?? []
        let logins = hours.map { Int($0["logins"]?.numberValue ?? 0) }
        let signups = hours.reduce(0) { $0 + Int($1["signups"]?.numberValue ?? 0) }
        let labels = hours.map { String(($0["hour"]?.stringValue ?? "").dropFirst(11).prefix(2)) }
        let runs = try await executions["executions"]?.arrayValue ?? []
        let latency = ActionLatency(executions: runs)
        let body: HTML = """
            <dl class="facts"><dt>Users</dt><dd>\(try await users["total"])</dd><dt>Applications</dt><dd>\(try await clients.arrayValue?.count ?? 0)</dd>\
            <dt>Workspaces</dt><dd>\(try await call.console.backend.analyticsWorkspaces().count)</dd></dl>\
            <h2>Sign-ins per hour, last 24 hours (UTC)</h2>\
            \(SVGBars.render(logins, labels: labels, title: "Sign-ins per hour", unit: "sign-ins", extra: "; \(signups) sign-ups"))\
            <h2>Action latency (the last \(runs.count) flow executions)</h2>\
            \(SVGBars.render(latency.rows.map { Int($0.p50.rounded()) }, labels: latency.rows.map(\.name), title: "Median Action run time", unit: "ms", every: 1))\
            \(Widgets.table("Action run time", headers: ["Action", "Runs", "Median (ms)", "p95 (ms)", "Slowest (ms)"], rows: latency.rows.map { row -> [HTML] in
                ["\(row.name)", "\(row.runs)", "\(String(format: "%.1f", row.p50))", "\(String(format: "%.1f", row.p95))", "\(String(format: "%.1f", row.max))"]
            }, empty: "No Action has run in a sign-in yet."))\
            <h2>Recent Action executions</h2>\(ActionPages.executions(Array(runs.prefix(10))))
            """
        return Page(title: "Home", section: .home, body: body)
    }
}

/// Each Action's run times in the given executions (`duration_ms` of their results).
struct ActionLatency {
    struct Row { let name: String; let runs: Int; let p50: Double; let p95: Double; let max: Double }
    let rows: [Row]

    init(executions: [JSONValue]) {
        var times: [String: [Double]] = [:]
        for execution in executions {
            for result in execution["results"]?.arrayValue ?? [] {
                guard let name = result["action_name"]?.stringValue, let ms = result["duration_ms"]?.numberValue else { continue }
                times[name, default: []].append(ms)
            }
        }
        rows = times.keys.sorted().map { name in
            let sorted = times[name]!.sorted()
            let at: (Double) -> Double = { sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * $0).rounded()))] }
            return Row(name: name, runs: sorted.count, p50: at(0.5), p95: at(0.95), max: sorted.last!)
        }
    }
}

/// A small bar chart as inline SVG with a text alternative: no script, nothing fetched.
enum SVGBars {
    static func render(_ values: [Int], labels: [String], title: String, unit: String, extra: String = "", every: Int = 3) -> HTML {
        guard !values.isEmpty else { return "<p class=\"empty\">Nothing to draw yet.</p>" }
        let width = 720, height = 170, top = 16, bottom = 22
        let peak = max(1, values.max() ?? 1)
        let step = Double(width) / Double(values.count)
        let format: (Double) -> String = { String(format: "%.1f", $0) }
        let bars = values.enumerated().map { index, value -> HTML in
            let barHeight = Double(height - top - bottom) * Double(value) / Double(peak)
            let x = Double(index) * step + 2, y = Double(height - bottom) - barHeight
            let label: HTML = index % every == 0
                ? "<text x=\"\(format(x + step / 2 - 2))\" y=\"\(height - 6)\" text-anchor=\"middle\">\(String(labels[index].prefix(14)))</text>" : ""
            let figure: HTML = value > 0 ? "<text x=\"\(format(x + step / 2 - 2))\" y=\"\(format(y - 3))\" text-anchor=\"middle\">\(value)</text>" : ""
            return "<rect x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(max(1, step - 4)))\" height=\"\(format(barHeight))\"><title>\(labels[index]): \(value) \(unit)</title></rect>\(label)\(figure)"
        }
        let summary = "\(title): \(values.reduce(0, +)) \(unit) in all, at most \(values.max() ?? 0) in one bar\(extra)"
        return "<figure class=\"chart\"><svg viewBox=\"0 0 \(width) \(height)\" role=\"img\" aria-label=\"\(summary)\">\(bars)</svg><figcaption>\(summary)</figcaption></figure>"
    }
}
